package io.periscope.core.pipeline;

import io.periscope.protocols.RequestLog;

/**
 * Which request logs stay spans while the resource guard samples them (guard level 2). A request
 * with a trace id (from traceparent, b3 ...) is decided from a hash of that id, so every agent
 * with the same keep ratio keeps or drops a whole trace together; failing that, from a hash of
 * the kernel's syscall trace id (which ties a server's inbound request to the calls it makes on the
 * same thread); failing both, by an error-diffusion counter that keeps exactly the ratio. One
 * instance per sink thread: the counter is not shared.
 */
final class RequestLogSampler {
    /** Decisions compare 53 hash bits against {@code ratio * 2^53}: exact for 1.0, none for 0.0. */
    private static final int DECISION_BITS = 53;
    private static final long SCALE = 1L << DECISION_BITS;

    private long threshold;
    private double keepRatio = -1;
    /** Starts at one half so the count rounds instead of truncating (1000 at 0.1 keeps 100, not 99). */
    private long carry = SCALE / 2;

    /** Whether {@code log} is kept as a span when the keep ratio is {@code ratio} (0 to 1). */
    boolean keep(RequestLog log, double ratio) {
        if (ratio != keepRatio) {
            keepRatio = ratio;
            threshold = thresholdOf(ratio);
        }
        if (log.hasTraceContext()) {
            return keepHash(traceHash(log.traceId()), threshold);
        }
        long syscallTraceId = log.syscallTraceIdRequest();
        if (syscallTraceId != 0) {
            return keepHash(mix(syscallTraceId), threshold);
        }
        carry += threshold;
        if (carry >= SCALE) {
            carry -= SCALE;
            return true;
        }
        return false;
    }

    static long thresholdOf(double ratio) {
        if (!(ratio > 0.0)) {
            return 0;
        }
        return ratio >= 1.0 ? SCALE : (long) (ratio * SCALE);
    }

    static boolean keepHash(long hash, long threshold) {
        return (hash >>> (Long.SIZE - DECISION_BITS)) < threshold;
    }

    /** A hash of the 16-byte trace id, read as two big-endian longs, with no allocation. */
    static long traceHash(byte[] traceId) {
        long high = 0;
        long low = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            high = (high << Byte.SIZE) | (traceId[i] & 0xFF);
            low = (low << Byte.SIZE) | (traceId[i + Long.BYTES] & 0xFF);
        }
        return mix(high ^ mix(low));
    }

    /** MurmurHash3's 64-bit finalizer: every input bit moves about half of the output bits. */
    static long mix(long value) {
        long h = value;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
