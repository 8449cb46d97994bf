package io.periscope.bench.flow;

import java.util.concurrent.TimeUnit;

import io.periscope.flowmap.DecodedPacket;
import io.periscope.flowmap.FlowKey;
import io.periscope.flowmap.FlowLog;
import io.periscope.flowmap.FlowTable;
import io.periscope.flowmap.FlowTableConfig;
import io.periscope.flowmap.PacketDecoder;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decode + flow table update per packet on in-memory frames (the work a capture reader does per
 * packet after the ring hands it over), one thread, one table. Each invocation processes one
 * pass over all packets ({@link #PACKETS} operations), then ticks the timer wheel once.
 *
 * <pre>java -jar bench/target/benchmarks.jar FlowTableBenchmark -f 1 -wi 3 -i 5 -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FlowTableBenchmark {
    /** Packets per invocation: flows x rounds x 2 (TCP) or flows x rounds (UDP). */
    static final int PACKETS = 16_384;
    private static final long PACKET_GAP_NANOS = 1_000;

    /**
     * Concurrent flows, their packets interleaved round-robin: with 1 every packet repeats the tuple
     * before it (scenario F's flood: the last-flow cache always hits), with more it never does.
     */
    @Param({"1", "1024", "8192"})
    public int flows;

    private FlowPackets tcp;
    private FlowPackets udp;
    private PacketDecoder decoder;
    private DecodedPacket packet;
    private FlowTable table;
    private long now;
    private int pass;
    private long records;

    @Setup(Level.Trial)
    public void setUp() {
        tcp = FlowPackets.tcp(flows, PACKETS / 2 / flows, 1400);
        udp = FlowPackets.udp(flows, PACKETS / flows, 1200);
        decoder = new PacketDecoder();
        packet = new DecodedPacket();
        table = new FlowTable(FlowTableConfig.builder().maxFlows(65_536).build(), log -> records++,
                r -> records++);
        now = 1_700_000_000_000_000_000L;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        table.close();
    }

    private int replay(FlowPackets packets) {
        UnsafeBuffer buffer = packets.buffer;
        int[] offsets = packets.offsets;
        int[] lengths = packets.lengths;
        int ok = 0;
        long ts = now;
        for (int i = 0; i < packets.count; i++) {
            if (decoder.decodeEthernet(buffer, offsets[i], lengths[i], packet) == PacketDecoder.OK) {
                table.onPacket(packet, 1, ts);
                ok++;
            }
            ts += PACKET_GAP_NANOS;
        }
        now = ts;
        table.tick(ts);
        return ok;
    }

    /** TCP data + ACK conversations, in sequence (seq/ack analysis, data RTT samples). */
    @Benchmark
    @OperationsPerInvocation(PACKETS)
    public int tcpDecodeAndUpdate() {
        tcp.advance(++pass);
        return replay(tcp);
    }

    /** UDP datagrams (decode + counters, no TCP analysis). */
    @Benchmark
    @OperationsPerInvocation(PACKETS)
    public int udpDecodeAndUpdate() {
        return replay(udp);
    }

    /** Decode only, for the split between decoder and table. */
    @Benchmark
    @OperationsPerInvocation(PACKETS)
    public void decodeOnly(Blackhole bh) {
        FlowPackets packets = tcp;
        for (int i = 0; i < packets.count; i++) {
            bh.consume(decoder.decodeEthernet(packets.buffer, packets.offsets[i], packets.lengths[i], packet));
        }
    }

    /**
     * Churn: every packet a new flow in a full table with the EVICT policy (insert, evict the
     * soonest-expiring flow and export its record): the worst case of a flow flood.
     */
    @State(Scope.Thread)
    public static class Churn {
        FlowTable table;
        final FlowKey key = new FlowKey();
        long next;
        long ts = 1_700_000_000_000_000_000L;
        long exported;

        @Setup(Level.Trial)
        public void setUp() {
            table = new FlowTable(FlowTableConfig.builder().maxFlows(100_000)
                    .fullPolicy(FlowTableConfig.FullPolicy.EVICT).build(), this::onLog, null);
        }

        void onLog(FlowLog log) {
            exported += log.packets(0);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            table.close();
        }
    }

    /** New flow per packet at capacity (insert + evict + export). */
    @Benchmark
    public boolean newFlowEvictingWhenFull(Churn c) {
        long n = c.next++;
        c.key.ipv4(0x0A000000L | (n >>> 16 & 0xFFFF), (int) (n & 0xFFFF), 0x0A640001L, 53, 17);
        c.ts += PACKET_GAP_NANOS;
        return c.table.update(c.key, c.ts, 60, 32, 0, 0, 0, 0);
    }
}
