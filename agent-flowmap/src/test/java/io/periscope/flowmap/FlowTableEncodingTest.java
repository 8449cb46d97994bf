package io.periscope.flowmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The compact entry's edge cases: counters narrower than a long cut the interval short instead of
 * overflowing (records still sum to the totals), RTT sample times kept as 32 bits, addresses
 * out of line for IPv6, one first-packet offset per flow.
 */
class FlowTableEncodingTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;
    private static final long T0 = 1_700_000_000L * S;
    private static final int SYN = 2;
    private static final int PSH = 8;
    private static final int ACK = 16;

    private final List<FlowLog> logs = new ArrayList<>();
    private final FlowKey key = new FlowKey();
    private FlowTable table;

    private FlowTable table(FlowTableConfig.Builder config) {
        table = new FlowTable(config.build(), log -> {
            FlowLog copy = new FlowLog();
            FlowTable.copy(log, copy);
            logs.add(copy);
        }, null);
        return table;
    }

    @AfterEach
    void close() {
        if (table != null) {
            table.close();
        }
    }

    private void c2s(long ts, int flags, int seq, int ack, int payload, int window) {
        key.ipv4(TestPackets.ipv4("10.0.0.1"), 40000, TestPackets.ipv4("10.0.0.2"), 80, 6);
        assertThat(table.update(key, ts, 40 + payload, payload, flags, seq, ack, window)).isTrue();
    }

    private void s2c(long ts, int flags, int seq, int ack, int payload) {
        key.ipv4(TestPackets.ipv4("10.0.0.2"), 80, TestPackets.ipv4("10.0.0.1"), 40000, 6);
        assertThat(table.update(key, ts, 40 + payload, payload, flags, seq, ack, 1000)).isTrue();
    }

    private void handshake(long t) {
        c2s(t, SYN, 100, 0, 0, 1000);
        s2c(t + MS, SYN | ACK, 500, 101, 0);
        c2s(t + 2 * MS, ACK, 101, 501, 0, 1000);
    }

    private long sum(java.util.function.ToLongFunction<FlowLog> field) {
        return logs.stream().mapToLong(field).sum();
    }

    /** Consecutive records of one flow: each interval starts where the previous one ended. */
    private void assertContiguousIntervals() {
        for (int i = 1; i < logs.size(); i++) {
            assertThat(logs.get(i).intervalStartNanos()).as("record %d starts where %d ended", i, i - 1)
                    .isEqualTo(logs.get(i - 1).intervalEndNanos());
        }
        assertThat(logs.get(logs.size() - 1).isFinal()).isTrue();
    }

    @Test
    void shouldCutTheIntervalShortInsteadOfOverflowingTheByteCounters() {
        table(FlowTableConfig.builder());
        FlowKey k = new FlowKey().ipv4(TestPackets.ipv4("127.0.0.1"), 45000, TestPackets.ipv4("127.0.0.1"), 6379, 6);
        long max = FlowTable.MAX_INTERVAL_BYTES;
        table.account(k, T0, max - 10, max - 20, 1);
        assertThat(logs).isEmpty();
        table.account(k, T0 + MS, 100, 100, 1);
        assertThat(table.earlyRecords()).isEqualTo(1);
        assertThat(logs).hasSize(1);
        assertThat(logs.get(0).bytes(0)).isEqualTo(max - 10);
        assertThat(logs.get(0).payloadBytes(0)).isEqualTo(max - 20);
        assertThat(logs.get(0).intervalEndNanos()).isEqualTo(T0 + MS);
        table.account(k, T0 + 2 * MS, max, 0, 1);
        table.flush(T0 + S);
        assertThat(table.earlyRecords()).isEqualTo(2);
        assertContiguousIntervals();
        assertThat(sum(l -> l.bytes(0))).isEqualTo(max - 10 + 100 + max);
        assertThat(sum(l -> l.payloadBytes(0))).isEqualTo(max - 20 + 100);
        assertThat(sum(l -> l.packets(0))).isEqualTo(3);
        assertThatThrownBy(() -> table.account(k, T0 + 2 * S, max + 1, 0, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2^48");
        assertThatThrownBy(() -> table.account(k, T0 + 2 * S, 1, -1, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldCutTheIntervalShortInsteadOfWrappingThePacketCounter() {
        table(FlowTableConfig.builder());
        FlowKey k = new FlowKey().ipv4(TestPackets.ipv4("127.0.0.1"), 45000, TestPackets.ipv4("127.0.0.1"), 6379, 6);
        for (int i = 0; i < 3; i++) {
            table.account(k, T0 + i * MS, 1, 1, Integer.MAX_VALUE);
        }
        table.flush(T0 + S);
        assertThat(table.earlyRecords()).isEqualTo(1);
        assertThat(sum(l -> l.packets(0))).isEqualTo(3L * Integer.MAX_VALUE);
        assertThat(logs).allSatisfy(l -> assertThat(l.packets(0)).isLessThanOrEqualTo(0xFFFF_FFFFL));
    }

    @Test
    void shouldKeepRetransmissionZeroWindowAndOutOfOrderCountsExactPast16Bits() {
        table(FlowTableConfig.builder());
        handshake(T0);
        int n = 70_000;
        // A gap of n bytes, then n one-byte segments filling it from its start: n out of order.
        c2s(T0 + 3 * MS, PSH | ACK, 101 + n, 501, 10, 1000);
        for (int i = 0; i < n; i++) {
            c2s(T0 + 4 * MS + i, PSH | ACK, 101 + i, 501, 1, 1000);
        }
        // The first segment again n times: n retransmissions.
        for (int i = 0; i < n; i++) {
            c2s(T0 + 5 * MS + i, PSH | ACK, 101, 501, 1, 1000);
        }
        // n zero windows advertised by the client.
        for (int i = 0; i < n; i++) {
            c2s(T0 + 6 * MS + i, ACK, 101 + n + 10, 501, 0, 0);
        }
        table.flush(T0 + S);
        assertThat(table.earlyRecords()).as("each of the three counters filled once").isEqualTo(3);
        assertContiguousIntervals();
        assertThat(sum(l -> l.outOfOrder(0))).isEqualTo(n);
        assertThat(sum(l -> l.retransmissions(0))).isEqualTo(n);
        assertThat(sum(l -> l.zeroWindow(0))).isEqualTo(n);
        assertThat(sum(l -> l.packets(0))).isEqualTo(2 + 1 + 3L * n);
        assertThat(sum(l -> l.payloadBytes(0))).isEqualTo(10 + 2L * n);
        assertThat(logs).allSatisfy(l -> assertThat(l.retransmissions(0)).isLessThanOrEqualTo(0xFFFF));
    }

    @Test
    void shouldMeasureRttsOverFourSecondsExactlyAndCutTheIntervalBeforeTheSumWraps() {
        table(FlowTableConfig.builder().establishedTimeout(10, TimeUnit.HOURS).reportInterval(10, TimeUnit.HOURS));
        handshake(T0);
        int samples = 80;
        long rtt = 60 * S + 123_456;
        long t = T0 + S;
        int seq = 101;
        for (int i = 0; i < samples; i++) {
            c2s(t, PSH | ACK, seq, 501, 100, 1000);
            seq += 100;
            s2c(t + rtt, ACK, 501, seq, 0);
            t += rtt + S;
        }
        table.flush(t);
        assertThat(table.earlyRecords()).as("80 x 60 s of RTT is over 2^32 us").isEqualTo(1);
        assertContiguousIntervals();
        assertThat(sum(FlowLog::dataRttCount)).isEqualTo(samples);
        long rttMicros = rtt / 1_000;
        assertThat(sum(FlowLog::dataRttSumNanos)).isEqualTo(samples * rttMicros * 1_000);
        assertThat(logs).allSatisfy(l -> assertThat(l.dataRttMaxNanos()).isEqualTo(rttMicros * 1_000));
    }

    @Test
    void shouldDropAnRttSampleWhoseSenderKeptSendingForOverFourSeconds() {
        table(FlowTableConfig.builder());
        handshake(T0);
        long t = T0 + S;
        // The sample (segment 101-201) stays unacknowledged while the client sends for 5 s more.
        for (int i = 0; i <= 5; i++) {
            c2s(t + i * S, PSH | ACK, 101 + i * 100, 501, 100, 1000);
        }
        // The segment sent at t + 5 s starts a new sample, answered 500 ms later.
        s2c(t + 5 * S + 500 * MS, ACK, 501, 701, 0);
        c2s(t + 6 * S, PSH | ACK, 701, 501, 100, 1000);
        s2c(t + 6 * S + 3 * MS, ACK, 501, 801, 0);
        table.flush(t + 7 * S);
        assertThat(logs).hasSize(1);
        assertThat(logs.get(0).dataRttCount()).isEqualTo(2);
        assertThat(logs.get(0).dataRttSumNanos()).as("no 5.5 s sample").isEqualTo(503 * MS);
        assertThat(logs.get(0).dataRttMaxNanos()).isEqualTo(500 * MS);
    }

    @Test
    void shouldMeasureAnRttWhoseSenderPausedUnderFourSeconds() {
        table(FlowTableConfig.builder());
        handshake(T0);
        long t = T0 + S;
        c2s(t, PSH | ACK, 101, 501, 100, 1000);
        c2s(t + 4 * S, PSH | ACK, 201, 501, 100, 1000);
        s2c(t + 4 * S + 7 * MS, ACK, 501, 301, 0);
        table.flush(t + 5 * S);
        assertThat(logs.get(0).dataRttCount()).isEqualTo(1);
        assertThat(logs.get(0).dataRttMaxNanos()).isEqualTo(4 * S + 7 * MS);
    }

    @Test
    void shouldKeepIpv4AndIpv6KeysWithTheSameLowBitsApartAndReuseSideRecords() {
        table(FlowTableConfig.builder().otherTimeout(1, TimeUnit.SECONDS));
        long a = TestPackets.ipv4("10.0.0.1");
        long b = TestPackets.ipv4("10.0.0.2");
        FlowKey v4 = new FlowKey().ipv4(a, 1000, b, 53, 17);
        FlowKey v6 = new FlowKey().set(6, 0, a, 1000, 0, b, 53, 17);
        FlowKey wide4 = new FlowKey().set(4, 7, a, 1000, 0, b, 53, 17);
        table.update(v4, T0, 60, 32, 0, 0, 0, 0);
        table.update(v6, T0, 80, 32, 0, 0, 0, 0);
        table.update(v6, T0 + 1, 80, 32, 0, 0, 0, 0);
        table.update(wide4, T0, 70, 32, 0, 0, 0, 0);
        assertThat(table.size()).isEqualTo(3);
        table.flush(T0 + S);
        assertThat(logs).hasSize(3);
        assertThat(logs).filteredOn(l -> l.ipVersion() == 4 && l.clientAddressHigh() == 0)
                .singleElement().satisfies(l -> assertThat(l.bytes(0)).isEqualTo(60));
        assertThat(logs).filteredOn(l -> l.ipVersion() == 6).singleElement().satisfies(l -> {
            assertThat(l.bytes(0)).isEqualTo(160);
            assertThat(l.clientAddressLow()).isEqualTo(a);
            assertThat(l.serverAddressLow()).isEqualTo(b);
        });
        assertThat(logs).filteredOn(l -> l.clientAddressHigh() == 7).singleElement()
                .satisfies(l -> assertThat(l.bytes(0)).isEqualTo(70));

        logs.clear();
        FlowKey k = new FlowKey();
        for (int round = 0; round < 3; round++) {
            long now = T0 + (10 + round * 10) * S;
            for (int i = 0; i < 100; i++) {
                k.set(6, 0xfd00L << 48, i, 5000 + i, 0xfd00L << 48, 0xFFFF_0000_0000L + i, 443, 17);
                assertThat(table.update(k, now, 100, 52, 0, 0, 0, 0)).isTrue();
            }
            table.tick(now + 5 * S);
            assertThat(table.size()).isZero();
        }
        assertThat(logs).hasSize(300);
        assertThat(logs).allSatisfy(l -> {
            assertThat(l.clientAddressHigh()).isEqualTo(0xfd00L << 48);
            assertThat(l.serverAddressLow()).isEqualTo(0xFFFF_0000_0000L + l.clientAddressLow());
            assertThat(l.clientPort()).isEqualTo(5000 + l.clientAddressLow());
        });
        assertThat(table.entryBytesTouched()).as("entries and side records are reused")
                .isEqualTo(100L * (FlowTable.ENTRY_BYTES + FlowTable.WIDE_KEY_BYTES));
    }

    @Test
    void shouldReportFirstAndLastPacketTimesOfAServerFirstFlow() {
        table(FlowTableConfig.builder());
        // No SYN: the server's port is well known, so 10.0.0.1:40000 is the client, though the
        // server speaks first.
        s2c(T0 + 123, PSH | ACK, 500, 101, 10);
        c2s(T0 + 123 + 1_500_000 + 7, ACK, 101, 510, 0, 1000);
        s2c(T0 + 2 * S + 999, PSH | ACK, 510, 101, 10);
        table.flush(T0 + 3 * S);
        FlowLog l = logs.get(0);
        assertThat(l.clientPort()).isEqualTo(40000);
        assertThat(l.flowStartNanos()).isEqualTo(T0 + 123);
        assertThat(l.firstPacketNanos(FlowLog.SERVER_TO_CLIENT)).isEqualTo(T0 + 123);
        assertThat(l.firstPacketNanos(FlowLog.CLIENT_TO_SERVER)).as("microseconds after the start")
                .isEqualTo(T0 + 123 + 1_500_000);
        assertThat(l.lastPacketNanos(FlowLog.CLIENT_TO_SERVER)).isEqualTo(T0 + 123 + 1_500_007);
        assertThat(l.lastPacketNanos(FlowLog.SERVER_TO_CLIENT)).isEqualTo(T0 + 2 * S + 999);
    }
}
