package io.periscope.flowmap;

import java.util.Arrays;

/**
 * Per-interval aggregates per local endpoint, owned by one {@link FlowTable} (same writer thread).
 * A bounded open-addressing table on primitive arrays, cleared at each interval; endpoints over
 * capacity are counted as dropped. Flows cache their endpoint slot together with the interval
 * epoch, so the per-packet cost is an index check, not a lookup.
 */
final class EndpointMetrics {
    private static final int BYTES_IN = 0;
    private static final int BYTES_OUT = 1;
    private static final int PACKETS_IN = 2;
    private static final int PACKETS_OUT = 3;
    private static final int NEW_FLOWS = 4;
    private static final int CLOSED_FLOWS = 5;
    private static final int RETRANS = 6;
    private static final int RTT_COUNT = 7;
    private static final int RTT_SUM = 8;
    private static final int BUCKETS = 9;
    private static final int STRIDE = BUCKETS + EndpointMetricsRecord.RTT_BUCKETS;

    private final int maxEndpoints;
    private final int mask;
    private final long[] keyHigh;
    private final long[] keyLow;
    private final int[] keyMeta;
    private final long[] values;
    private final int[] used;
    private final EndpointMetricsRecord record = new EndpointMetricsRecord();
    private int usedCount;
    private int epoch = 1;
    private long dropped;

    EndpointMetrics(int maxEndpoints) {
        this.maxEndpoints = maxEndpoints;
        int slots = Integer.highestOneBit(Math.max(2, maxEndpoints * 2) - 1) << 1;
        this.mask = slots - 1;
        this.keyHigh = new long[slots];
        this.keyLow = new long[slots];
        this.keyMeta = new int[slots];
        this.values = new long[slots * STRIDE];
        this.used = new int[maxEndpoints];
    }

    int epoch() {
        return epoch;
    }

    /** Slot of the endpoint in this interval, creating it; -1 when over capacity (counted). */
    int slot(int ipVersion, long high, long low, int port, int protocol) {
        int meta = (1 << 31) | (ipVersion == 6 ? 1 << 30 : 0) | (protocol << 16) | port;
        long h = (high * 0x9E3779B97F4A7C15L) ^ (low * 0xC2B2AE3D27D4EB4FL) ^ (meta * 0x165667B19E3779F9L);
        int i = (int) (h ^ (h >>> 29) ^ (h >>> 43)) & mask;
        while (true) {
            int m = keyMeta[i];
            if (m == 0) {
                if (usedCount == maxEndpoints) {
                    dropped++;
                    return -1;
                }
                keyMeta[i] = meta;
                keyHigh[i] = high;
                keyLow[i] = low;
                used[usedCount++] = i;
                return i;
            }
            if (m == meta && keyLow[i] == low && keyHigh[i] == high) {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    void add(int slot, int field, long delta) {
        values[slot * STRIDE + field] += delta;
    }

    void packet(int slot, boolean towardsEndpoint, long ipBytes) {
        int base = slot * STRIDE;
        values[base + (towardsEndpoint ? BYTES_IN : BYTES_OUT)] += ipBytes;
        values[base + (towardsEndpoint ? PACKETS_IN : PACKETS_OUT)]++;
    }

    void newFlow(int slot) {
        values[slot * STRIDE + NEW_FLOWS]++;
    }

    void closedFlow(int slot) {
        values[slot * STRIDE + CLOSED_FLOWS]++;
    }

    void retransmission(int slot) {
        values[slot * STRIDE + RETRANS]++;
    }

    void rtt(int slot, long micros) {
        int base = slot * STRIDE;
        values[base + RTT_COUNT]++;
        values[base + RTT_SUM] += micros;
        values[base + BUCKETS + EndpointMetricsRecord.bucketOf(micros)]++;
    }

    /** Endpoints dropped because the interval's table was full. */
    long dropped() {
        return dropped;
    }

    /** Emits every endpoint of the interval and clears the table for the next one. */
    void flush(long intervalStartNanos, long intervalEndNanos, EndpointMetricsHandler handler) {
        EndpointMetricsRecord r = record;
        for (int u = 0; u < usedCount; u++) {
            int i = used[u];
            int base = i * STRIDE;
            if (handler != null) {
                int meta = keyMeta[i];
                r.ipVersion = (meta & (1 << 30)) != 0 ? 6 : 4;
                r.addressHigh = keyHigh[i];
                r.addressLow = keyLow[i];
                r.port = meta & 0xFFFF;
                r.protocol = (meta >>> 16) & 0xFF;
                r.intervalStartNanos = intervalStartNanos;
                r.intervalEndNanos = intervalEndNanos;
                r.bytesIn = values[base + BYTES_IN];
                r.bytesOut = values[base + BYTES_OUT];
                r.packetsIn = values[base + PACKETS_IN];
                r.packetsOut = values[base + PACKETS_OUT];
                r.newFlows = values[base + NEW_FLOWS];
                r.closedFlows = values[base + CLOSED_FLOWS];
                r.retransmissions = values[base + RETRANS];
                r.rttCount = values[base + RTT_COUNT];
                r.rttSumMicros = values[base + RTT_SUM];
                System.arraycopy(values, base + BUCKETS, r.rttBuckets, 0, EndpointMetricsRecord.RTT_BUCKETS);
                handler.onEndpointMetrics(r);
            }
            keyMeta[i] = 0;
            Arrays.fill(values, base, base + STRIDE, 0L);
        }
        usedCount = 0;
        epoch++;
        if (epoch == 0) {
            epoch = 1;
        }
    }
}
