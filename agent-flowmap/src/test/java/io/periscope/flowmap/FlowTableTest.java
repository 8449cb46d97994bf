package io.periscope.flowmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FlowTableTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;
    private static final long T0 = 1_700_000_000L * S;
    private static final int FIN = 1;
    private static final int SYN = 2;
    private static final int RST = 4;
    private static final int PSH = 8;
    private static final int ACK = 16;

    private final List<Snapshot> logs = new ArrayList<>();
    private final List<String> endpointRecords = new ArrayList<>();
    private final List<long[]> endpointCounts = new ArrayList<>();
    private FlowTable table;

    /** A copy of a FlowLog (the table reuses its record). */
    record Snapshot(boolean isFinal, CloseType closeType, TcpState state, int clientPort, int serverPort,
                    long[] packets, long[] bytes, long[] payload, long[] retrans, long[] ooo, long[] zeroWin,
                    long serverRtt, long clientRtt, long dataRttCount, long dataRttMax, long intervalStart,
                    long intervalEnd, long flowStart, int[] tcpFlags) {
        static Snapshot of(FlowLog l) {
            return new Snapshot(l.isFinal(), l.closeType(), l.tcpState(), l.clientPort(), l.serverPort(),
                    new long[] {l.packets(0), l.packets(1)}, new long[] {l.bytes(0), l.bytes(1)},
                    new long[] {l.payloadBytes(0), l.payloadBytes(1)},
                    new long[] {l.retransmissions(0), l.retransmissions(1)},
                    new long[] {l.outOfOrder(0), l.outOfOrder(1)}, new long[] {l.zeroWindow(0), l.zeroWindow(1)},
                    l.serverHandshakeRttNanos(), l.clientHandshakeRttNanos(), l.dataRttCount(), l.dataRttMaxNanos(),
                    l.intervalStartNanos(), l.intervalEndNanos(), l.flowStartNanos(),
                    new int[] {l.tcpFlags(0), l.tcpFlags(1)});
        }
    }

    private FlowTable table(FlowTableConfig.Builder config) {
        table = new FlowTable(config.build(), log -> logs.add(Snapshot.of(log)), r -> {
            endpointRecords.add(r.address().getHostAddress() + ":" + r.port());
            endpointCounts.add(new long[] {r.newFlows(), r.closedFlows(), r.packetsIn(), r.packetsOut(),
                    r.bytesIn(), r.rttCount(), r.retransmissions()});
        });
        return table;
    }

    @AfterEach
    void close() {
        if (table != null) {
            table.close();
        }
    }

    private final FlowKey key = new FlowKey();

    private void c2s(long ts, int flags, int seq, int ack, int payload) {
        seg("10.0.0.1", 40000, "10.0.0.2", 80, ts, flags, seq, ack, payload, 1000);
    }

    private void s2c(long ts, int flags, int seq, int ack, int payload) {
        seg("10.0.0.2", 80, "10.0.0.1", 40000, ts, flags, seq, ack, payload, 1000);
    }

    private boolean seg(String src, int sport, String dst, int dport, long ts, int flags, int seq, int ack,
                        int payload, int window) {
        key.ipv4(TestPackets.ipv4(src), sport, TestPackets.ipv4(dst), dport, 6);
        return table.update(key, ts, 40 + payload, payload, flags, seq, ack, window);
    }

    private boolean udp(int n, long ts) {
        key.ipv4(TestPackets.ipv4("10.9.0.1") + (n >>> 16), 10000 + (n & 0x7FFF), TestPackets.ipv4("10.9.1.1"), 53, 17);
        return table.update(key, ts, 60, 32, 0, 0, 0, 0);
    }

    private void handshake() {
        c2s(T0, SYN, 100, 0, 0);
        s2c(T0 + MS, SYN | ACK, 500, 101, 0);
        c2s(T0 + 3 * MS, ACK, 101, 501, 0);
    }

    @Test
    void shouldMeasureHandshakeDataRttAndCloseByFin() {
        table(FlowTableConfig.builder());
        handshake();
        c2s(T0 + 4 * MS, PSH | ACK, 101, 501, 100);
        s2c(T0 + 6 * MS, ACK, 501, 201, 0);
        s2c(T0 + 7 * MS, PSH | ACK, 501, 201, 1000);
        c2s(T0 + 8 * MS, ACK, 201, 1501, 0);
        c2s(T0 + 10 * MS, FIN | ACK, 201, 1501, 0);
        s2c(T0 + 11 * MS, FIN | ACK, 1501, 202, 0);
        c2s(T0 + 12 * MS, ACK, 202, 1502, 0);
        assertThat(table.size()).isEqualTo(1);
        table.tick(T0 + 1 * S);
        assertThat(logs).as("closed-by-FIN flows linger 2 s for the last ACK").isEmpty();
        table.tick(T0 + 3 * S);
        assertThat(logs).hasSize(1);
        Snapshot s = logs.get(0);
        assertThat(s.isFinal()).isTrue();
        assertThat(s.closeType()).isEqualTo(CloseType.FIN);
        assertThat(s.state()).isEqualTo(TcpState.CLOSED);
        assertThat(s.clientPort()).isEqualTo(40000);
        assertThat(s.serverPort()).isEqualTo(80);
        assertThat(s.packets()).containsExactly(6, 4);
        assertThat(s.payload()).containsExactly(100, 1000);
        assertThat(s.bytes()).containsExactly(6 * 40 + 100, 4 * 40 + 1000);
        assertThat(s.serverRtt()).isEqualTo(1 * MS);
        assertThat(s.clientRtt()).isEqualTo(2 * MS);
        assertThat(s.dataRttCount()).isEqualTo(2);
        assertThat(s.dataRttMax()).isEqualTo(2 * MS);
        assertThat(s.retrans()).containsExactly(0, 0);
        assertThat(s.tcpFlags()[0]).isEqualTo(SYN | ACK | PSH | FIN);
        assertThat(s.intervalEnd()).isEqualTo(T0 + 12 * MS);
        assertThat(table.size()).isZero();
        assertThat(table.finalRecords()).isEqualTo(1);
    }

    @Test
    void shouldCountRetransmissionsOutOfOrderAndZeroWindow() {
        table(FlowTableConfig.builder());
        handshake();
        c2s(T0 + 4 * MS, ACK, 101, 501, 100);
        c2s(T0 + 5 * MS, ACK, 101, 501, 100);                   // retransmission
        c2s(T0 + 6 * MS, ACK, 301, 501, 100);                   // gap: 201..301 missing
        c2s(T0 + 7 * MS, ACK, 201, 501, 100);                   // fills the gap: out of order
        c2s(T0 + 8 * MS, ACK, 201, 501, 100);                   // now a retransmission
        seg("10.0.0.2", 80, "10.0.0.1", 40000, T0 + 9 * MS, ACK, 501, 401, 0, 0);   // zero window
        table.flush(T0 + 10 * MS);
        Snapshot s = logs.get(0);
        assertThat(s.closeType()).isEqualTo(CloseType.FLUSHED);
        assertThat(s.state()).isEqualTo(TcpState.ESTABLISHED);
        assertThat(s.retrans()).containsExactly(2, 0);
        assertThat(s.ooo()).containsExactly(1, 0);
        assertThat(s.zeroWin()).containsExactly(0, 1);
    }

    @Test
    void shouldCountSynAndSynAckRetransmissionsAndMeasureFromTheFirst() {
        table(FlowTableConfig.builder());
        c2s(T0, SYN, 100, 0, 0);
        c2s(T0 + 100 * MS, SYN, 100, 0, 0);
        s2c(T0 + 300 * MS, SYN | ACK, 500, 101, 0);
        s2c(T0 + 500 * MS, SYN | ACK, 500, 101, 0);
        c2s(T0 + 510 * MS, ACK, 101, 501, 0);
        table.flush(T0 + S);
        Snapshot s = logs.get(0);
        assertThat(s.retrans()).containsExactly(1, 1);
        assertThat(s.serverRtt()).isEqualTo(300 * MS);
        assertThat(s.clientRtt()).isEqualTo(210 * MS);
    }

    @Test
    void shouldCloseResetFlowsAfterTheResetTimeoutWithTheResetter() {
        table(FlowTableConfig.builder());
        c2s(T0, SYN, 100, 0, 0);
        s2c(T0 + MS, RST | ACK, 0, 101, 0);
        table.tick(T0 + 30 * S);
        assertThat(logs).isEmpty();
        table.tick(T0 + 36 * S);
        assertThat(logs).hasSize(1);
        assertThat(logs.get(0).closeType()).isEqualTo(CloseType.RST_BY_SERVER);
        assertThat(logs.get(0).state()).isEqualTo(TcpState.RESET);
    }

    @Test
    void shouldReportUnansweredSynAsHalfOpenAfterTheOpeningTimeout() {
        table(FlowTableConfig.builder());
        c2s(T0, SYN, 100, 0, 0);
        table.tick(T0 + 4 * S);
        assertThat(logs).isEmpty();
        table.tick(T0 + 6 * S);
        assertThat(logs).hasSize(1);
        assertThat(logs.get(0).state()).isEqualTo(TcpState.HALF_OPEN);
        assertThat(logs.get(0).closeType()).isEqualTo(CloseType.TIMEOUT);
        assertThat(logs.get(0).serverRtt()).isEqualTo(FlowLog.NO_RTT);
    }

    @Test
    void shouldTimeOutIdleEstablishedFlowsAfterConfiguredTimeout() {
        table(FlowTableConfig.builder().establishedTimeout(10, TimeUnit.SECONDS));
        handshake();
        for (int i = 1; i <= 5; i++) {
            c2s(T0 + i * S, ACK, 101, 501, 0);
        }
        table.tick(T0 + 14 * S);
        assertThat(logs).as("activity pushes the deadline").isEmpty();
        table.tick(T0 + 16 * S);
        assertThat(logs).hasSize(1);
        assertThat(logs.get(0).closeType()).isEqualTo(CloseType.TIMEOUT);
    }

    @Test
    void shouldEmitPeriodicDeltaRecordsThatSumToTheTotals() {
        table(FlowTableConfig.builder());
        handshake();
        long sent = 0;
        for (int i = 1; i <= 150; i++) {
            c2s(T0 + i * S, ACK, 101 + (int) sent, 501, 10);
            sent += 10;
            table.tick(T0 + i * S + MS);
        }
        assertThat(logs).hasSize(2);
        assertThat(logs).allMatch(s -> !s.isFinal() && s.closeType() == CloseType.STILL_OPEN);
        assertThat(logs.get(0).intervalStart()).isEqualTo(T0);
        assertThat(logs.get(1).intervalStart()).isEqualTo(logs.get(0).intervalEnd());
        table.flush(T0 + 151 * S);
        assertThat(logs).hasSize(3);
        assertThat(logs.get(2).isFinal()).isTrue();
        long packets = logs.stream().mapToLong(s -> s.packets()[0]).sum();
        long payload = logs.stream().mapToLong(s -> s.payload()[0]).sum();
        assertThat(packets).isEqualTo(152);
        assertThat(payload).isEqualTo(sent);
        assertThat(logs).allMatch(s -> s.serverRtt() == MS);
    }

    @Test
    void shouldSkipPeriodicRecordsOfIdleIntervalsUnlessAskedFor() {
        for (boolean reportIdle : new boolean[] {false, true}) {
            logs.clear();
            table(FlowTableConfig.builder().reportIdleIntervals(reportIdle));
            handshake();
            // Data in the first interval only, then 200 s of silence (under the 300 s timeout).
            c2s(T0 + S, ACK, 101, 501, 10);
            for (int i = 2; i <= 200; i++) {
                table.tick(T0 + i * S);
            }
            if (reportIdle) {
                assertThat(logs).as("one record per 60 s interval").hasSize(3);
                assertThat(table.idleIntervalsSkipped()).isZero();
            } else {
                assertThat(logs).as("only the interval with packets").hasSize(1);
                assertThat(table.idleIntervalsSkipped()).isEqualTo(2);
            }
            assertThat(logs.get(0).packets()[0]).isEqualTo(3);
            assertThat(logs.get(0).payload()[0]).isEqualTo(10);
            c2s(T0 + 201 * S, ACK, 111, 501, 5);
            table.flush(T0 + 202 * S);
            Snapshot last = logs.get(logs.size() - 1);
            assertThat(last.isFinal()).isTrue();
            assertThat(last.payload()[0]).isEqualTo(5);
            assertThat(logs.stream().mapToLong(s -> s.packets()[0]).sum()).isEqualTo(4);
            table.close();
        }
    }

    @Test
    void shouldStartANewFlowWhenAClosedTupleIsReused() {
        table(FlowTableConfig.builder());
        handshake();
        c2s(T0 + 10 * MS, FIN | ACK, 101, 501, 0);
        s2c(T0 + 11 * MS, FIN | ACK, 501, 102, 0);
        c2s(T0 + 20 * MS, SYN, 9000, 0, 0);
        assertThat(logs).hasSize(1);
        assertThat(logs.get(0).closeType()).isEqualTo(CloseType.FIN);
        assertThat(table.size()).isEqualTo(1);
        assertThat(table.flowsCreated()).isEqualTo(2);
        table.flush(T0 + S);
        assertThat(logs.get(1).packets()).containsExactly(1, 0);
        assertThat(logs.get(1).state()).isEqualTo(TcpState.OPENING);
    }

    @Test
    void shouldGuessClientByEphemeralPortWithoutHandshake() {
        table(FlowTableConfig.builder());
        seg("10.0.0.2", 6379, "10.0.0.1", 50000, T0, PSH | ACK, 1, 1, 10, 100);
        table.flush(T0 + S);
        assertThat(logs.get(0).clientPort()).isEqualTo(50000);
        assertThat(logs.get(0).serverPort()).isEqualTo(6379);
        assertThat(logs.get(0).packets()).containsExactly(0, 1);
        assertThat(logs.get(0).state()).isEqualTo(TcpState.ESTABLISHED);
    }

    @Test
    void shouldDropNewFlowsWhenFullAndCountThem() {
        table(FlowTableConfig.builder().maxFlows(100));
        long memory = table.memoryBytes();
        for (int i = 0; i < 150; i++) {
            boolean tracked = udp(i, T0 + i * MS);
            assertThat(tracked).isEqualTo(i < 100);
        }
        assertThat(udp(5, T0 + S)).as("existing flows are still updated").isTrue();
        assertThat(table.size()).isEqualTo(100);
        assertThat(table.flowsDropped()).isEqualTo(50);
        assertThat(table.packetsDropped()).isEqualTo(50);
        assertThat(table.memoryBytes()).isEqualTo(memory);
    }

    @Test
    void shouldEvictTheFlowThatExpiresSoonestWhenFull() {
        table(FlowTableConfig.builder().maxFlows(100).fullPolicy(FlowTableConfig.FullPolicy.EVICT));
        for (int i = 0; i < 150; i++) {
            assertThat(udp(i, T0 + i * 100 * MS)).isTrue();
        }
        assertThat(table.size()).isEqualTo(100);
        assertThat(table.flowsEvicted()).isEqualTo(50);
        assertThat(logs).hasSize(50).allMatch(s -> s.closeType() == CloseType.EVICTED && s.isFinal());
        assertThat(logs.stream().mapToLong(Snapshot::flowStart).max().getAsLong())
                .as("the oldest flows go first").isLessThan(T0 + 100 * 100 * MS);
    }

    @Test
    void shouldKeepEveryFlowFindableThroughInsertsExpiriesAndBackshifts() {
        table(FlowTableConfig.builder().maxFlows(2000).loadFactor(0.95)
                .otherTimeout(3, TimeUnit.SECONDS).timerWheelSlots(16));
        Random random = new Random(11);
        Map<Integer, Long> lastSeen = new HashMap<>();
        Map<Integer, Long> packets = new HashMap<>();
        long now = T0;
        FlowLog peek = new FlowLog();
        for (int round = 0; round < 60; round++) {
            now += 500 * MS;
            for (int i = 0; i < 200; i++) {
                int n = random.nextInt(4000);
                if (lastSeen.size() >= 2000 && !lastSeen.containsKey(n)) {
                    continue;
                }
                assertThat(udp(n, now)).isTrue();
                lastSeen.put(n, now);
                packets.merge(n, 1L, Long::sum);
            }
            table.tick(now);
            long tickNow = now;
            lastSeen.entrySet().removeIf(e -> tickNow - e.getValue() >= 3 * S + 200 * MS);
            packets.keySet().retainAll(lastSeen.keySet());
            for (Map.Entry<Integer, Long> e : packets.entrySet()) {
                int n = e.getKey();
                key.ipv4(TestPackets.ipv4("10.9.0.1") + (n >>> 16), 10000 + (n & 0x7FFF),
                        TestPackets.ipv4("10.9.1.1"), 53, 17);
                assertThat(table.peek(key, peek)).as("flow %d", n).isTrue();
                assertThat(peek.packets(0)).as("flow %d", n).isEqualTo(e.getValue());
            }
            assertThat(table.size()).isBetween(packets.size(), packets.size() + 400);
        }
        assertThat(table.finalRecords()).isPositive();
        assertThat(table.finalRecords() + table.size()).isEqualTo(table.flowsCreated());
    }

    @Test
    void shouldMakeOnlyTheEntriesInUseResidentAndReuseFreedOnes() throws Exception {
        // A 1 M-flow budget (~235 MB): untouched capacity must cost address space, not RSS.
        long before = residentKb();
        table(FlowTableConfig.builder().maxFlows(1_000_000).otherTimeout(1, TimeUnit.SECONDS));
        assertThat(table.memoryBytes()).isGreaterThan(1_000_000L * FlowTable.ENTRY_BYTES);
        for (int round = 0; round < 5; round++) {
            long now = T0 + round * 10 * S;
            for (int i = 0; i < 10_000; i++) {
                assertThat(udp(round * 10_000 + i, now)).isTrue();
            }
            table.tick(now + 5 * S);
            assertThat(table.size()).as("every flow of the round expired").isZero();
        }
        assertThat(table.finalRecords()).isEqualTo(50_000);
        assertThat(table.entryBytesTouched()).as("freed entries are reused: the most live at once were touched")
                .isEqualTo(10_000L * FlowTable.ENTRY_BYTES);
        long grownKb = residentKb() - before;
        assertThat(grownKb).as("resident growth (KiB) with 10 000 flows live at most in a 235 MB table")
                .isLessThan(128 * 1024);
    }

    @Test
    void shouldStartCleanAfterFlushReusingTheSameEntries() {
        table(FlowTableConfig.builder().maxFlows(500));
        for (int i = 0; i < 300; i++) {
            assertThat(udp(i, T0 + i * MS)).isTrue();
        }
        table.flush(T0 + S);
        assertThat(table.size()).isZero();
        assertThat(logs).hasSize(300);
        FlowLog peek = new FlowLog();
        for (int i = 1000; i < 1200; i++) {
            assertThat(udp(i, T0 + 2 * S)).isTrue();
            assertThat(udp(i, T0 + 2 * S + MS)).isTrue();
        }
        assertThat(table.size()).isEqualTo(200);
        assertThat(table.entryBytesTouched()).isEqualTo(200L * FlowTable.ENTRY_BYTES);
        for (int i = 0; i < 1200; i++) {
            key.ipv4(TestPackets.ipv4("10.9.0.1") + (i >>> 16), 10000 + (i & 0x7FFF), TestPackets.ipv4("10.9.1.1"),
                    53, 17);
            boolean live = i >= 1000;
            assertThat(table.peek(key, peek)).as("flow %d", i).isEqualTo(live);
            if (live) {
                assertThat(peek.packets(0)).as("flow %d", i).isEqualTo(2);
                assertThat(peek.bytes(0)).as("flow %d: no bytes left over from before the flush", i).isEqualTo(120);
            }
        }
    }

    private static long residentKb() throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void shouldSpreadFlowsThatDifferOnlyInPortsOrInterface() {
        table(FlowTableConfig.builder().maxFlows(40_000));
        FlowKey k = new FlowKey();
        for (int i = 0; i < 30_000; i++) {
            k.ipv4(TestPackets.ipv4("10.0.0.1"), 1024 + (i % 15_000), TestPackets.ipv4("10.0.0.2"), 443, 6)
                    .location(i / 15_000, 0);
            assertThat(table.update(k, T0 + i, 40, 0, ACK, 1, 1, 100)).isTrue();
        }
        assertThat(table.size()).isEqualTo(30_000);
        // A hash that ignored ports would put all 30000 in one probe chain.
        assertThat(table.maxProbeDistance()).isLessThan(500);
    }

    @Test
    void shouldAggregateEndpointMetricsPerInterval() {
        table(FlowTableConfig.builder());
        handshake();
        seg("10.0.0.3", 40001, "10.0.0.2", 80, T0 + 2 * MS, SYN, 1, 0, 0, 100);
        c2s(T0 + 5 * MS, ACK, 101, 501, 0);
        table.tick(T0 + S + MS);
        assertThat(endpointRecords).containsExactly("10.0.0.2:80");
        long[] c = endpointCounts.get(0);
        assertThat(c[0]).as("new flows").isEqualTo(2);
        assertThat(c[2]).as("packets in").isEqualTo(4);
        assertThat(c[3]).as("packets out").isEqualTo(1);
        assertThat(c[5]).as("rtt samples").isEqualTo(2);
        c2s(T0 + S + 10 * MS, ACK, 101, 501, 0);
        table.tick(T0 + 2 * S + MS);
        assertThat(endpointCounts).hasSize(2);
        assertThat(endpointCounts.get(1)[2]).isEqualTo(1);
        assertThat(endpointCounts.get(1)[0]).isZero();
    }

    @Test
    void shouldShareOneEntryForBothDirectionsOfIpv6AndKeepInterfacesApart() {
        table(FlowTableConfig.builder());
        FlowKey k = new FlowKey();
        k.set(6, 0xfd00L << 48, 1, 5000, 0xfd00L << 48, 2, 443, 6).location(3, 0);
        table.update(k, T0, 60, 0, SYN, 1, 0, 100);
        k.set(6, 0xfd00L << 48, 2, 443, 0xfd00L << 48, 1, 5000, 6).location(3, 0);
        table.update(k, T0 + MS, 60, 0, SYN | ACK, 9, 2, 100);
        k.location(4, 0);
        table.update(k, T0 + MS, 60, 0, SYN | ACK, 9, 2, 100);
        assertThat(table.size()).isEqualTo(2);
        table.flush(T0 + S);
        assertThat(logs).anySatisfy(s -> assertThat(s.packets()).containsExactly(1, 1));
    }

    @Test
    void shouldAccountSocketLevelFlowsWithoutSegments() {
        table(FlowTableConfig.builder());
        FlowKey k = new FlowKey().ipv4(TestPackets.ipv4("127.0.0.1"), 45000, TestPackets.ipv4("127.0.0.1"), 6379, 6);
        table.account(k, T0, 1000, 900, 3);
        k.ipv4(TestPackets.ipv4("127.0.0.1"), 6379, TestPackets.ipv4("127.0.0.1"), 45000, 6);
        table.account(k, T0 + MS, 500, 400, 1);
        table.flush(T0 + S);
        assertThat(logs.get(0).clientPort()).isEqualTo(45000);
        assertThat(logs.get(0).bytes()).containsExactly(1000, 500);
        assertThat(logs.get(0).packets()).containsExactly(3, 1);
    }

    @Test
    void shouldRefuseUseAfterCloseInsteadOfTouchingFreedMemory() {
        FlowTable t = new FlowTable(FlowTableConfig.builder().maxFlows(16).build(), log -> { }, null);
        t.close();
        t.close();
        assertThatThrownBy(() -> udpOn(t)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> t.tick(T0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> t.flush(T0)).isInstanceOf(IllegalStateException.class);
    }

    private boolean udpOn(FlowTable t) {
        return t.update(new FlowKey().ipv4(1, 2, 3, 4, 17), T0, 40, 0, 0, 0, 0, 0);
    }

    @Test
    void shouldRejectImpossibleConfigurationNamingTheSetting() {
        assertThatThrownBy(() -> FlowTableConfig.builder().maxFlows(0).build()).hasMessageContaining("maxFlows");
        assertThatThrownBy(() -> FlowTableConfig.builder().loadFactor(1.0).build()).hasMessageContaining("loadFactor");
    }

    @Test
    void shouldDecodeAndTrackAFrameEndToEnd() {
        table(FlowTableConfig.builder());
        PacketDecoder decoder = new PacketDecoder();
        DecodedPacket p = new DecodedPacket();
        byte[] syn = TestPackets.packets().tcp("10.0.0.1", 40000, "10.0.0.2", 80, SYN, 1, 0, 100, 0);
        byte[] synAck = TestPackets.packets().tcp("10.0.0.2", 80, "10.0.0.1", 40000, SYN | ACK, 7, 2, 100, 0);
        assertThat(decoder.decodeEthernet(new org.agrona.concurrent.UnsafeBuffer(syn), 0, syn.length, p)).isZero();
        table.onPacket(p, 2, T0);
        decoder.decodeEthernet(new org.agrona.concurrent.UnsafeBuffer(synAck), 0, synAck.length, p);
        table.onPacket(p, 2, T0 + 5 * MS);
        table.flush(T0 + S);
        assertThat(logs.get(0).serverRtt()).isEqualTo(5 * MS);
        assertThat(logs.get(0).bytes()).containsExactly(40, 40);
    }
}
