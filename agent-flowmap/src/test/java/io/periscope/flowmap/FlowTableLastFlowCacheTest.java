package io.periscope.flowmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The last-flow cache of {@link FlowTable#onPacket} skips the lookup for a packet with the same
 * tuple as the one before; it must change nothing else. Two tables get the same packets, one
 * with the cache and one looking every packet up, and must export the same records (every
 * field), the same endpoint metrics and the same counters, across flow switches, both
 * directions, evictions, drops, idle timeouts, FIN/RST closes, port reuse and flushes.
 */
@Timeout(120)   // a stale cached entry can corrupt the timer lists into a loop: fail, not hang
class FlowTableLastFlowCacheTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;
    private static final long T0 = 1_700_000_000L * S;
    private static final int FIN = DecodedPacket.FIN;
    private static final int SYN = DecodedPacket.SYN;
    private static final int RST = DecodedPacket.RST;
    private static final int PSH = DecodedPacket.PSH;
    private static final int ACK = DecodedPacket.ACK;

    /** One table and what it exported, as text with every field. */
    private static final class Recorder {
        final List<String> records = new ArrayList<>();
        final FlowTable table;

        Recorder(FlowTableConfig config, boolean cache) {
            table = new FlowTable(config, log -> records.add(describe(log)), r -> records.add(describe(r)));
            table.lastFlowCache(cache);
        }

        String counters() {
            return "size=" + table.size() + " created=" + table.flowsCreated() + " dropped=" + table.flowsDropped()
                    + " packetsDropped=" + table.packetsDropped() + " evicted=" + table.flowsEvicted() + " final="
                    + table.finalRecords() + " periodic=" + table.periodicRecords() + " early=" + table.earlyRecords()
                    + " idleSkipped=" + table.idleIntervalsSkipped() + " endpointsDropped=" + table.endpointsDropped();
        }
    }

    /** A flow's tuple, client side first, and where it is in its TCP life. */
    private static final class Flow {
        int ipVersion;
        long clientHigh;
        long clientLow;
        long serverHigh;
        long serverLow;
        int clientPort;
        int serverPort;
        int protocol;
        int vlanId;
        int ifindex;
        int clientSeq;
        int serverSeq;
        int phase;
    }

    @Test
    void evictingTableExportsTheSameWithAndWithoutTheCache() {
        assertSameExports(FlowTableConfig.builder().maxFlows(24).fullPolicy(FlowTableConfig.FullPolicy.EVICT), 1);
    }

    @Test
    void droppingTableExportsTheSameWithAndWithoutTheCache() {
        assertSameExports(FlowTableConfig.builder().maxFlows(24), 2);
    }

    @Test
    void roomyTableExportsTheSameWithAndWithoutTheCache() {
        assertSameExports(FlowTableConfig.builder().maxFlows(4096), 3);
    }

    @Test
    void aRepeatedTupleAfterItsFlowTimedOutStartsANewFlow() {
        FlowTableConfig config = FlowTableConfig.builder().otherTimeout(1, TimeUnit.SECONDS).build();
        Recorder cached = new Recorder(config, true);
        Flow f = flow(4, 7, 17);
        DecodedPacket p = new DecodedPacket();
        long ts = T0;
        for (int i = 0; i < 3; i++) {
            udp(p, f, true, 100);
            assertThat(cached.table.onPacket(p, f.ifindex, ts)).isTrue();
            ts += MS;
        }
        // The flow times out and leaves the table; the same tuple must not land in its old entry.
        ts += 3 * S;
        cached.table.tick(ts);
        assertThat(cached.table.size()).isZero();
        udp(p, f, true, 100);
        assertThat(cached.table.onPacket(p, f.ifindex, ts)).isTrue();
        udp(p, f, true, 100);
        assertThat(cached.table.onPacket(p, f.ifindex, ts + MS)).isTrue();
        assertThat(cached.table.size()).isEqualTo(1);
        assertThat(cached.table.flowsCreated()).isEqualTo(2);
        cached.table.flush(ts + 2 * MS);
        List<String> flowRecords = cached.records.stream().filter(r -> r.startsWith("flow ")).toList();
        assertThat(flowRecords).hasSize(2);
        assertThat(flowRecords.get(0)).contains("packets=3/0", "close=TIMEOUT");
        assertThat(flowRecords.get(1)).contains("packets=2/0", "close=FLUSHED");
        assertThat(cached.table.lastFlowHits()).isEqualTo(3);
        cached.table.close();
    }

    private static void assertSameExports(FlowTableConfig.Builder builder, long seed) {
        FlowTableConfig config = builder.otherTimeout(2, TimeUnit.SECONDS).establishedTimeout(3, TimeUnit.SECONDS)
                .openingTimeout(1, TimeUnit.SECONDS).closingTimeout(1, TimeUnit.SECONDS)
                .closedTimeout(1, TimeUnit.SECONDS).resetTimeout(1, TimeUnit.SECONDS)
                .reportInterval(4, TimeUnit.SECONDS).build();
        Recorder cached = new Recorder(config, true);
        Recorder uncached = new Recorder(config, false);
        Random random = new Random(seed);
        List<Flow> flows = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            flows.add(flow(random.nextInt(4) == 0 ? 6 : 4, i, random.nextBoolean() ? 6 : 17));
        }
        DecodedPacket p = new DecodedPacket();
        long ts = T0;
        long packets = 0;
        long lastTick = ts;
        Flow f = flows.get(0);
        boolean fromClient = true;
        boolean paused = false;
        for (int burst = 0; burst < 6000; burst++) {
            // After a pause the same flow often goes on in the same direction: its entry may
            // have timed out meanwhile (the cached entry must not be used then).
            if (!paused || random.nextBoolean()) {
                f = flows.get(random.nextInt(random.nextInt(8) == 0 ? flows.size() : 12));
                fromClient = random.nextInt(3) != 0;
            }
            int length = 1 + random.nextInt(random.nextBoolean() ? 4 : 40);
            for (int i = 0; i < length; i++) {
                if (f.protocol == 17) {
                    udp(p, f, fromClient, random.nextInt(1400));
                } else {
                    tcp(p, f, fromClient, random);
                }
                boolean a = cached.table.onPacket(p, f.ifindex, ts);
                boolean b = uncached.table.onPacket(p, f.ifindex, ts);
                assertThat(a).as("tracked, packet %d", packets).isEqualTo(b);
                packets++;
                // Mostly increasing times, now and then a packet stamped a little earlier (two CPUs).
                ts += random.nextInt(50) == 0 ? -random.nextInt(1000) : random.nextInt(2 * (int) MS);
            }
            paused = random.nextInt(30) == 0;
            if (paused) {
                ts += (1 + random.nextInt(4)) * S;   // a pause: idle timeouts and periodic records
            }
            if (ts - lastTick >= 100 * MS) {
                lastTick = ts;
                assertThat(cached.table.tick(ts)).isEqualTo(uncached.table.tick(ts));
            }
            assertThat(cached.records).as("records after burst %d", burst).isEqualTo(uncached.records);
        }
        assertThat(cached.counters()).isEqualTo(uncached.counters());
        cached.table.flush(ts);
        uncached.table.flush(ts);
        assertThat(cached.records).isEqualTo(uncached.records);
        assertThat(cached.counters()).isEqualTo(uncached.counters());
        // The cache was used (most packets repeat the tuple before them), and the other table not.
        assertThat(cached.table.lastFlowHits()).isGreaterThan(packets / 2);
        assertThat(uncached.table.lastFlowHits()).isZero();
        assertThat(cached.records.size()).isGreaterThan(100);
        assertThat(cached.records).anyMatch(r -> r.contains("close=EVICTED") || r.contains("close=TIMEOUT"));
        cached.table.close();
        uncached.table.close();
    }

    private static Flow flow(int ipVersion, int n, int protocol) {
        Flow f = new Flow();
        f.ipVersion = ipVersion;
        if (ipVersion == 6) {
            f.clientHigh = 0xFD00_0000_0000_0000L | n;
            f.clientLow = 0x1000L + n;
            f.serverHigh = 0xFD00_0000_0000_0000L;
            f.serverLow = 1;
        } else {
            f.clientLow = 0x0A00_0000L | (n + 2);
            f.serverLow = 0x0A00_0001L;
        }
        // Some flows share addresses and differ in ports, VLAN or interface only.
        f.clientPort = 40_000 + n % 20;
        f.serverPort = n % 3 == 0 ? 53 : 8080;
        f.protocol = protocol;
        f.vlanId = n % 7 == 0 ? 100 : 0;
        f.ifindex = n % 5 == 0 ? 3 : 2;
        f.clientSeq = 1000 * n;
        f.serverSeq = 5000 * n;
        return f;
    }

    private static void address(DecodedPacket p, Flow f, boolean fromClient) {
        p.reset();
        p.ipVersion = f.ipVersion;
        p.protocol = f.protocol;
        p.vlanId = f.vlanId;
        p.srcHigh = fromClient ? f.clientHigh : f.serverHigh;
        p.srcLow = fromClient ? f.clientLow : f.serverLow;
        p.dstHigh = fromClient ? f.serverHigh : f.clientHigh;
        p.dstLow = fromClient ? f.serverLow : f.clientLow;
        p.srcPort = fromClient ? f.clientPort : f.serverPort;
        p.dstPort = fromClient ? f.serverPort : f.clientPort;
    }

    private static void udp(DecodedPacket p, Flow f, boolean fromClient, int payload) {
        address(p, f, fromClient);
        p.payloadBytes = payload;
        p.ipBytes = payload + 8 + (f.ipVersion == 6 ? 40 : 20);
    }

    /**
     * The next segment of a TCP flow's life: handshake (SYN repeated now and then), data both
     * ways with retransmissions, gaps and zero windows, then FIN or RST, then a new SYN on the
     * same tuple (port reuse).
     */
    private static void tcp(DecodedPacket p, Flow f, boolean fromClient, Random random) {
        int payload = 0;
        int flags;
        switch (f.phase) {
            case 0 -> {
                fromClient = true;
                flags = SYN;
                f.phase = random.nextInt(4) == 0 ? 0 : 1;
            }
            case 1 -> {
                fromClient = false;
                flags = SYN | ACK;
                f.phase = 2;
            }
            case 2 -> {
                fromClient = true;
                flags = ACK;
                f.phase = 3;
            }
            case 3 -> {
                int r = random.nextInt(100);
                if (r < 2) {
                    flags = RST | ACK;
                    f.phase = 4;
                } else if (r < 5) {
                    flags = FIN | ACK;
                    f.phase = random.nextBoolean() ? 3 : 4;
                } else {
                    flags = random.nextInt(10) == 0 ? ACK : PSH | ACK;
                    payload = flags == ACK ? 0 : 1 + random.nextInt(1400);
                }
            }
            default -> {
                // A closed or reset flow: the client opens the tuple again.
                fromClient = true;
                flags = SYN;
                f.clientSeq += 100_000;
                f.phase = 1;
            }
        }
        address(p, f, fromClient);
        p.tcpFlags = flags;
        int seq = fromClient ? f.clientSeq : f.serverSeq;
        int r = random.nextInt(40);
        if (payload > 0 && r == 0) {
            seq -= payload;           // a retransmission
        } else if (payload > 0 && r == 1) {
            seq += 1000;              // a gap (later filled or retransmitted)
        }
        p.seq = seq;
        p.ack = fromClient ? f.serverSeq : f.clientSeq;
        p.window = random.nextInt(30) == 0 ? 0 : 65_535;
        p.payloadBytes = payload;
        p.ipBytes = payload + 20 + (f.ipVersion == 6 ? 40 : 20);
        int advance = payload + ((flags & (SYN | FIN)) != 0 ? 1 : 0);
        if (fromClient) {
            f.clientSeq = Math.max(f.clientSeq, seq + advance);
        } else {
            f.serverSeq = Math.max(f.serverSeq, seq + advance);
        }
    }

    static String describe(FlowLog l) {
        StringBuilder b = new StringBuilder("flow id=").append(l.flowId()).append(" final=").append(l.isFinal())
                .append(" v").append(l.ipVersion()).append(' ').append(l.clientAddressHigh()).append('/')
                .append(l.clientAddressLow()).append(':').append(l.clientPort()).append(" -> ")
                .append(l.serverAddressHigh()).append('/').append(l.serverAddressLow()).append(':')
                .append(l.serverPort()).append(" proto=").append(l.protocol()).append(" if=").append(l.ifindex())
                .append(" vlan=").append(l.vlanId()).append(" start=").append(l.flowStartNanos())
                .append(" interval=").append(l.intervalStartNanos()).append("..").append(l.intervalEndNanos())
                .append(" state=").append(l.tcpState()).append(" close=").append(l.closeType())
                .append(" hs=").append(l.serverHandshakeRttNanos()).append('+').append(l.clientHandshakeRttNanos())
                .append(" rtt=").append(l.dataRttCount()).append('/').append(l.dataRttSumNanos()).append('/')
                .append(l.dataRttMaxNanos()).append(" packets=").append(l.packets(0)).append('/')
                .append(l.packets(1));
        for (int d = 0; d < 2; d++) {
            b.append(" d").append(d).append('[').append(l.firstPacketNanos(d)).append(',')
                    .append(l.lastPacketNanos(d)).append(',').append(l.bytes(d)).append(',')
                    .append(l.payloadBytes(d)).append(',').append(l.tcpFlags(d)).append(',')
                    .append(l.retransmissions(d)).append(',').append(l.outOfOrder(d)).append(',')
                    .append(l.zeroWindow(d)).append(']');
        }
        return b.toString();
    }

    static String describe(EndpointMetricsRecord r) {
        StringBuilder b = new StringBuilder("endpoint v").append(r.ipVersion()).append(' ').append(r.addressHigh())
                .append('/').append(r.addressLow()).append(':').append(r.port()).append(" proto=").append(r.protocol())
                .append(' ').append(r.intervalStartNanos()).append("..").append(r.intervalEndNanos())
                .append(" in=").append(r.bytesIn()).append('/').append(r.packetsIn()).append(" out=")
                .append(r.bytesOut()).append('/').append(r.packetsOut()).append(" new=").append(r.newFlows())
                .append(" closed=").append(r.closedFlows()).append(" retrans=").append(r.retransmissions())
                .append(" rtt=").append(r.rttCount()).append('/').append(r.rttSumNanos());
        for (int i = 0; i < EndpointMetricsRecord.RTT_BUCKETS; i++) {
            b.append(',').append(r.rttBucketCount(i));
        }
        return b.toString();
    }
}
