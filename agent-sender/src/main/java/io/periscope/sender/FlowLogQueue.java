package io.periscope.sender;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The bounded queue of flow logs: the facts of each flow record ({@value #RECORD_BYTES} bytes,
 * not its ~700-byte OTLP encoding) in one ring preallocated at construction, so a full queue of
 * 8192 records is ~1.1 MB for the agent's whole life and an offer allocates nothing. The logs
 * worker copies a batch out and encodes it straight into the request
 * ({@link LogEncoder#encodeFlows}). A queue of per-record byte slots would keep one array per
 * slot once its positions had cycled (~10 MB for 8192 slots of 1 KiB plus the worker's spares),
 * however shallow the queue stays.
 *
 * <p>Producers (the packet readers that own the flow tables) and workers share
 * {@link #consumerLock}, as in {@link ItemQueue}: flow records come at thousands per second from
 * one or two threads, where an uncontended lock costs less than the copy, and it keeps
 * drop-oldest exact.
 */
final class FlowLogQueue extends BatchQueue {
    /** Bytes of one queued flow record. */
    static final int RECORD_BYTES = 136;

    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final FlowRecord.CloseType[] CLOSE_TYPES = FlowRecord.CloseType.values();
    private static final int ADDRESS_BYTES = 16;
    // The record layout.
    private static final int IP_VERSION = 0;
    private static final int L4_PROTOCOL = 4;
    private static final int CLIENT_PORT = 8;
    private static final int SERVER_PORT = 12;
    private static final int CLOSE_TYPE = 16;
    private static final int INTERFACE_INDEX = 20;
    private static final int CLIENT_ADDRESS = 24;
    private static final int SERVER_ADDRESS = 40;
    private static final int BYTES_C2S = 56;
    private static final int BYTES_S2C = 64;
    private static final int PACKETS_C2S = 72;
    private static final int PACKETS_S2C = 80;
    private static final int RETRANS_C2S = 88;
    private static final int RETRANS_S2C = 96;
    private static final int RTT = 104;
    private static final int START = 112;
    private static final int END = 120;
    private static final int OBSERVED = 128;

    private final byte[] ring;
    private final ProcessResource[] resources;
    private final int capacity;
    private final DropPolicy policy;
    /** Under consumerLock: the position of the oldest record, and the number queued. */
    private long head;
    private int count;
    /** count, readable without the lock. */
    private volatile int size;
    private volatile boolean closed;

    FlowLogQueue(int capacity, DropPolicy policy, int batchSize, SignalCounters counters) {
        super(batchSize, counters);
        if ((long) capacity * RECORD_BYTES > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("logs queue capacity too large for flow logs: " + capacity);
        }
        this.capacity = capacity;
        this.policy = policy;
        this.ring = new byte[capacity * RECORD_BYTES];
        this.resources = new ProcessResource[capacity];
    }

    /**
     * Copies the facts of {@code f} in (the caller may reuse it at once); returns false when it
     * was dropped (full with drop-newest, or closed).
     *
     * @param observedTimeUnixNanos when the record was made (its {@code observed_time_unix_nano})
     */
    boolean offer(FlowRecord f, ProcessResource resource, long observedTimeUnixNanos) {
        counters.offered.increment();
        int now;
        consumerLock.lock();
        try {
            if (closed) {
                counters.dropped.increment();
                return false;
            }
            if (count == capacity) {
                if (policy == DropPolicy.DROP_NEWEST) {
                    counters.dropped.increment();
                    return false;
                }
                resources[(int) (head % capacity)] = null;
                head++;
                count--;
                counters.dropped.increment();
                counters.pending.decrement();
            }
            int slot = (int) ((head + count) % capacity);
            try {
                write(f, observedTimeUnixNanos, ring, slot * RECORD_BYTES);
            } catch (RuntimeException e) {
                // A broken record (e.g. no close type) is dropped and counted; the caller logs it.
                counters.dropped.increment();
                throw e;
            }
            resources[slot] = resource;
            count++;
            counters.accepted.increment();
            counters.pending.increment();
            now = count;
            size = now;
        } finally {
            consumerLock.unlock();
        }
        if (now == 1 || now == batchSize) {
            wakeConsumers();
        }
        return true;
    }

    /**
     * Waits for a due batch (as {@link SpanQueue#takeBatch}) and copies up to
     * {@code resourcesOut.length} records out: record {@code k} is at
     * {@code out[k * RECORD_BYTES]}, read with {@link View}. Returns how many; 0 only when closed
     * and empty, or on interrupt.
     */
    int takeBatch(byte[] out, ProcessResource[] resourcesOut, long maxDelayNanos) {
        if (awaitBatch(maxDelayNanos) == 0) {
            return 0;
        }
        try {
            int n = Math.min(Math.min(count, batchSize), Math.min(resourcesOut.length, out.length / RECORD_BYTES));
            int first = (int) (head % capacity);
            int untilEnd = Math.min(n, capacity - first);
            System.arraycopy(ring, first * RECORD_BYTES, out, 0, untilEnd * RECORD_BYTES);
            System.arraycopy(resources, first, resourcesOut, 0, untilEnd);
            java.util.Arrays.fill(resources, first, first + untilEnd, null);
            if (n > untilEnd) {
                System.arraycopy(ring, 0, out, untilEnd * RECORD_BYTES, (n - untilEnd) * RECORD_BYTES);
                System.arraycopy(resources, 0, resourcesOut, untilEnd, n - untilEnd);
                java.util.Arrays.fill(resources, 0, n - untilEnd, null);
            }
            head += n;
            count -= n;
            size = count;
            afterTake(count);
            return n;
        } finally {
            consumerLock.unlock();
        }
    }

    @Override
    protected void refuseOffers() {
        consumerLock.lock();
        try {
            closed = true;
        } finally {
            consumerLock.unlock();
        }
    }

    @Override
    boolean isClosed() {
        return closed;
    }

    /** Empties the queue and returns how many records it held (at shutdown, after the deadline). */
    int discard() {
        consumerLock.lock();
        try {
            int n = count;
            java.util.Arrays.fill(resources, null);
            head += n;
            count = 0;
            size = 0;
            return n;
        } finally {
            consumerLock.unlock();
        }
    }

    @Override
    int size() {
        return size;
    }

    /** Writes the facts of {@code f} as one record at {@code dst[offset]}. */
    static void write(FlowRecord f, long observedTimeUnixNanos, byte[] dst, int offset) {
        INT.set(dst, offset + IP_VERSION, f.ipVersion());
        INT.set(dst, offset + L4_PROTOCOL, f.l4Protocol());
        INT.set(dst, offset + CLIENT_PORT, f.clientPort());
        INT.set(dst, offset + SERVER_PORT, f.serverPort());
        INT.set(dst, offset + CLOSE_TYPE, f.closeType().ordinal());
        INT.set(dst, offset + INTERFACE_INDEX, f.interfaceIndex());
        address(f.clientAddress(), dst, offset + CLIENT_ADDRESS);
        address(f.serverAddress(), dst, offset + SERVER_ADDRESS);
        LONG.set(dst, offset + BYTES_C2S, f.bytesClientToServer());
        LONG.set(dst, offset + BYTES_S2C, f.bytesServerToClient());
        LONG.set(dst, offset + PACKETS_C2S, f.packetsClientToServer());
        LONG.set(dst, offset + PACKETS_S2C, f.packetsServerToClient());
        LONG.set(dst, offset + RETRANS_C2S, f.retransmissionsClientToServer());
        LONG.set(dst, offset + RETRANS_S2C, f.retransmissionsServerToClient());
        LONG.set(dst, offset + RTT, f.rttNanos());
        LONG.set(dst, offset + START, f.startNanos());
        LONG.set(dst, offset + END, f.endNanos());
        LONG.set(dst, offset + OBSERVED, observedTimeUnixNanos);
    }

    private static void address(byte[] address, byte[] dst, int offset) {
        int n = address == null ? 0 : Math.min(address.length, ADDRESS_BYTES);
        if (n > 0) {
            System.arraycopy(address, 0, dst, offset, n);
        }
        java.util.Arrays.fill(dst, offset + n, offset + ADDRESS_BYTES, (byte) 0);
    }

    /** A queued record read as a {@link FlowRecord}: reusable, pointed at one record at a time. */
    static final class View implements FlowRecord {
        private final byte[] client = new byte[ADDRESS_BYTES];
        private final byte[] server = new byte[ADDRESS_BYTES];
        private byte[] src;
        private int base;

        /** Points this view at the record at {@code src[offset]}; returns this. */
        View at(byte[] records, int offset) {
            src = records;
            base = offset;
            System.arraycopy(records, offset + CLIENT_ADDRESS, client, 0, ADDRESS_BYTES);
            System.arraycopy(records, offset + SERVER_ADDRESS, server, 0, ADDRESS_BYTES);
            return this;
        }

        long observedTimeUnixNanos() {
            return (long) LONG.get(src, base + OBSERVED);
        }

        @Override
        public int ipVersion() {
            return (int) INT.get(src, base + IP_VERSION);
        }

        @Override
        public byte[] clientAddress() {
            return client;
        }

        @Override
        public int clientPort() {
            return (int) INT.get(src, base + CLIENT_PORT);
        }

        @Override
        public byte[] serverAddress() {
            return server;
        }

        @Override
        public int serverPort() {
            return (int) INT.get(src, base + SERVER_PORT);
        }

        @Override
        public int l4Protocol() {
            return (int) INT.get(src, base + L4_PROTOCOL);
        }

        @Override
        public long bytesClientToServer() {
            return (long) LONG.get(src, base + BYTES_C2S);
        }

        @Override
        public long bytesServerToClient() {
            return (long) LONG.get(src, base + BYTES_S2C);
        }

        @Override
        public long packetsClientToServer() {
            return (long) LONG.get(src, base + PACKETS_C2S);
        }

        @Override
        public long packetsServerToClient() {
            return (long) LONG.get(src, base + PACKETS_S2C);
        }

        @Override
        public long retransmissionsClientToServer() {
            return (long) LONG.get(src, base + RETRANS_C2S);
        }

        @Override
        public long retransmissionsServerToClient() {
            return (long) LONG.get(src, base + RETRANS_S2C);
        }

        @Override
        public long rttNanos() {
            return (long) LONG.get(src, base + RTT);
        }

        @Override
        public CloseType closeType() {
            return CLOSE_TYPES[(int) INT.get(src, base + CLOSE_TYPE)];
        }

        @Override
        public long startNanos() {
            return (long) LONG.get(src, base + START);
        }

        @Override
        public long endNanos() {
            return (long) LONG.get(src, base + END);
        }

        @Override
        public int interfaceIndex() {
            return (int) INT.get(src, base + INTERFACE_INDEX);
        }
    }
}
