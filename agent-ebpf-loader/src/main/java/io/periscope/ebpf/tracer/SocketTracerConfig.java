package io.periscope.ebpf.tracer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Immutable settings of a {@link SocketTracer}, applied as constants before the programs load.
 * Build with {@link #builder()}.
 */
public final class SocketTracerConfig {
    /** Default captured payload per event. */
    public static final int DEFAULT_PAYLOAD_BYTES = 1024;
    /** Default ring size: 8 MiB holds ~7000 full 1 KiB events. */
    public static final int DEFAULT_RING_BYTES = 8 << 20;
    /** Most ports the in-kernel port filter holds (bpf-src MAX_FILTER_PORTS). */
    public static final int MAX_FILTER_PORTS = 16;
    /**
     * Default pending bytes before the kernel wakes the reader (see {@link Builder#wakeupBytes}): an
     * eighth of the default ring. Readers poll with an {@code await} timeout (the agent's is 50 ms) and
     * drain a steady stream on that timer; a wake-up only has to catch a burst before the ring fills,
     * and each one costs the traced process a self-IPI (a VM exit on a virtual machine).
     */
    public static final int DEFAULT_WAKEUP_BYTES = 1 << 20;
    /** Most first-bytes prefixes (bpf-src MAX_PREFIXES), each at most {@link #MAX_PREFIX_BYTES}. */
    public static final int MAX_PREFIXES = 8;
    /** Longest first-bytes prefix (bpf-src MAX_PREFIX_BYTES). */
    public static final int MAX_PREFIX_BYTES = 8;
    private static final int MIN_RING_BYTES = 4096;

    private final int payloadBytes;
    private final int ringBytes;
    private final int targetPid;
    private final boolean ignoreSelf;
    private final boolean traceUnix;
    private final int[] ports;
    private final int wakeupBytes;
    private final byte[][] prefixes;

    private SocketTracerConfig(Builder b) {
        this.prefixes = b.prefixes.clone();
        this.wakeupBytes = b.wakeupBytes;
        this.payloadBytes = b.payloadBytes;
        this.ringBytes = b.ringBytes;
        this.targetPid = b.targetPid;
        this.ignoreSelf = b.ignoreSelf;
        this.traceUnix = b.traceUnix;
        this.ports = b.ports.clone();
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults. */
    public static SocketTracerConfig defaults() {
        return builder().build();
    }

    /** Bytes of payload captured per event (0..16384). */
    public int payloadBytes() {
        return payloadBytes;
    }

    /** Ring buffer size in bytes (a power of two, multiple of the page size). */
    public int ringBytes() {
        return ringBytes;
    }

    /** Trace only this process (0: all). */
    public int targetPid() {
        return targetPid;
    }

    /** Whether the agent's own process is excluded (it would otherwise trace its exports). */
    public boolean ignoreSelf() {
        return ignoreSelf;
    }

    /** Whether unix-domain sockets are traced. */
    public boolean traceUnix() {
        return traceUnix;
    }

    /** Only sockets with one of these local or remote ports (empty: all). */
    public int[] ports() {
        return ports.clone();
    }

    /** First-bytes prefixes a socket's first data must start with (empty: no prefilter). */
    public byte[][] prefixes() {
        byte[][] copy = new byte[prefixes.length][];
        for (int i = 0; i < prefixes.length; i++) {
            copy[i] = prefixes[i].clone();
        }
        return copy;
    }

    /** Pending bytes that make the kernel wake a reader sleeping in {@link SocketTracer#await(int)}. */
    public int wakeupBytes() {
        return wakeupBytes;
    }

    /** Builder of {@link SocketTracerConfig}; validates on {@link #build()}. */
    public static final class Builder {
        private int payloadBytes = DEFAULT_PAYLOAD_BYTES;
        private int ringBytes = DEFAULT_RING_BYTES;
        private int targetPid;
        private boolean ignoreSelf = true;
        private boolean traceUnix;
        private int[] ports = new int[0];
        private int wakeupBytes = DEFAULT_WAKEUP_BYTES;
        private byte[][] prefixes = new byte[0][];

        private Builder() {
        }

        /**
         * In-kernel first-bytes prefilter: a socket whose first data event (either direction)
         * starts with none of these (ASCII, 1..8 bytes, at most 8) is ignored for its lifetime,
         * e.g. {@code "GET ", "POST", "PUT ", "HTTP"} for HTTP/1. Empty (default): no prefilter.
         */
        public Builder prefixes(String... firstBytes) {
            byte[][] out = new byte[firstBytes.length][];
            for (int i = 0; i < firstBytes.length; i++) {
                out[i] = firstBytes[i].getBytes(StandardCharsets.ISO_8859_1);
            }
            this.prefixes = out;
            return this;
        }

        /**
         * Wake the reader only when this many bytes are pending (0: on every event). Waking per
         * event costs the traced process an irq_work and the reader a context switch each; with
         * batching the reader relies on its {@code await} timeout to drain a quiet ring, so
         * events wait at most that long. Values at or above half the ring are capped there.
         */
        public Builder wakeupBytes(int bytes) {
            this.wakeupBytes = bytes;
            return this;
        }

        /** Bytes of payload per event, 0..16384. */
        public Builder payloadBytes(int bytes) {
            this.payloadBytes = bytes;
            return this;
        }

        /** Ring size in bytes: a power of two, at least 4096. */
        public Builder ringBytes(int bytes) {
            this.ringBytes = bytes;
            return this;
        }

        /** Trace one process only (0: all). */
        public Builder targetPid(int pid) {
            this.targetPid = pid;
            return this;
        }

        /** Exclude the agent's own process (default true). */
        public Builder ignoreSelf(boolean ignore) {
            this.ignoreSelf = ignore;
            return this;
        }

        /** Trace unix sockets too (default false). */
        public Builder traceUnix(boolean trace) {
            this.traceUnix = trace;
            return this;
        }

        /** Port allow-list, at most 16 (empty: all ports). */
        public Builder ports(int... allowed) {
            this.ports = allowed.clone();
            return this;
        }

        /** Validates and builds. */
        public SocketTracerConfig build() {
            if (payloadBytes < 0 || payloadBytes > SocketEvent.MAX_PAYLOAD_BYTES) {
                throw new IllegalArgumentException("payload_bytes must be 0.." + SocketEvent.MAX_PAYLOAD_BYTES
                        + ", got " + payloadBytes);
            }
            if (ringBytes < MIN_RING_BYTES || Integer.bitCount(ringBytes) != 1) {
                throw new IllegalArgumentException("ring size must be a power of two >= " + MIN_RING_BYTES
                        + " bytes, got " + ringBytes);
            }
            if (ports.length > MAX_FILTER_PORTS) {
                throw new IllegalArgumentException("at most " + MAX_FILTER_PORTS + " filter ports, got "
                        + ports.length + ": " + Arrays.toString(ports));
            }
            if (prefixes.length > MAX_PREFIXES) {
                throw new IllegalArgumentException("at most " + MAX_PREFIXES + " first-bytes prefixes, got "
                        + prefixes.length);
            }
            for (byte[] prefix : prefixes) {
                if (prefix.length == 0 || prefix.length > MAX_PREFIX_BYTES) {
                    throw new IllegalArgumentException("a first-bytes prefix must be 1.." + MAX_PREFIX_BYTES
                            + " bytes, got " + prefix.length + ": "
                            + new String(prefix, StandardCharsets.ISO_8859_1));
                }
            }
            if (wakeupBytes < 0) {
                throw new IllegalArgumentException("wakeup bytes must be >= 0, got " + wakeupBytes);
            }
            wakeupBytes = Math.min(wakeupBytes, ringBytes / 2);
            for (int port : ports) {
                if (port <= 0 || port > 0xffff) {
                    throw new IllegalArgumentException("filter port out of range 1..65535: " + port);
                }
            }
            return new SocketTracerConfig(this);
        }
    }
}
