package io.periscope.flowmap;

import java.net.InetAddress;

/**
 * Aggregate network metrics of one local endpoint (the server side of flows: address, port,
 * protocol) over one metrics interval. Reused for every record; copy what you keep.
 * "In" is client to server (towards the endpoint), "out" server to client.
 */
public final class EndpointMetricsRecord {
    /**
     * Upper bounds (inclusive, microseconds) of the RTT histogram buckets; a last bucket counts
     * samples above the last bound. Explicit bounds in the OTLP histogram sense.
     */
    private static final long[] RTT_BOUNDS_MICROS = {
        50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000,
    };
    /** Number of RTT histogram buckets ({@code bounds + 1}). */
    public static final int RTT_BUCKETS = RTT_BOUNDS_MICROS.length + 1;

    int ipVersion;
    long addressHigh;
    long addressLow;
    int port;
    int protocol;
    long intervalStartNanos;
    long intervalEndNanos;
    long bytesIn;
    long bytesOut;
    long packetsIn;
    long packetsOut;
    long newFlows;
    long closedFlows;
    long retransmissions;
    long rttCount;
    long rttSumMicros;
    final long[] rttBuckets = new long[RTT_BUCKETS];

    static int bucketOf(long micros) {
        for (int i = 0; i < RTT_BOUNDS_MICROS.length; i++) {
            if (micros <= RTT_BOUNDS_MICROS[i]) {
                return i;
            }
        }
        return RTT_BOUNDS_MICROS.length;
    }

    /** Upper bound in nanoseconds of bucket {@code i} (Long.MAX_VALUE for the last one). */
    public static long rttBucketUpperBoundNanos(int i) {
        return i < RTT_BOUNDS_MICROS.length ? RTT_BOUNDS_MICROS[i] * 1_000 : Long.MAX_VALUE;
    }

    /** 4 or 6. */
    public int ipVersion() {
        return ipVersion;
    }

    /** Endpoint address high 64 bits (0 for IPv4). */
    public long addressHigh() {
        return addressHigh;
    }

    /** Endpoint address low 64 bits, or the IPv4 address. */
    public long addressLow() {
        return addressLow;
    }

    /** Endpoint address (allocates). */
    public InetAddress address() {
        return FlowLog.toInet(ipVersion, addressHigh, addressLow);
    }

    /** Endpoint port. */
    public int port() {
        return port;
    }

    /** IP protocol. */
    public int protocol() {
        return protocol;
    }

    /** Start of the interval. */
    public long intervalStartNanos() {
        return intervalStartNanos;
    }

    /** End of the interval. */
    public long intervalEndNanos() {
        return intervalEndNanos;
    }

    /** IP bytes towards the endpoint. */
    public long bytesIn() {
        return bytesIn;
    }

    /** IP bytes from the endpoint. */
    public long bytesOut() {
        return bytesOut;
    }

    /** Packets towards the endpoint. */
    public long packetsIn() {
        return packetsIn;
    }

    /** Packets from the endpoint. */
    public long packetsOut() {
        return packetsOut;
    }

    /** Flows that started in the interval. */
    public long newFlows() {
        return newFlows;
    }

    /** Flows that ended (final record exported) in the interval. */
    public long closedFlows() {
        return closedFlows;
    }

    /** Retransmitted segments, both directions. */
    public long retransmissions() {
        return retransmissions;
    }

    /** RTT samples (handshake and data). */
    public long rttCount() {
        return rttCount;
    }

    /** Sum of RTT samples in nanoseconds. */
    public long rttSumNanos() {
        return rttSumMicros * 1_000;
    }

    /** Samples in RTT bucket {@code i} (see {@link #rttBucketUpperBoundNanos}). */
    public long rttBucketCount(int i) {
        return rttBuckets[i];
    }
}
