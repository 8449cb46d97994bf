package io.periscope.ebpf.ringbuf;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Single-consumer reader of a BPF ring buffer ({@code BPF_MAP_TYPE_RINGBUF}) laid out as the
 * kernel maps it: a consumer page (we write {@code consumer_pos}), a producer page (the kernel
 * writes {@code producer_pos}) and the data area. The kernel lets the data be mapped twice back to
 * back, so that a record that wraps is contiguous; but every mapped page counts in the process's
 * RSS, so {@link MappedRingBuffer} maps it once and the few records that cross the end (at most one
 * per trip round the ring) are copied into a scratch buffer before the handler sees them. Pure Java
 * over memory: the mapping comes from {@link MappedRingBuffer} or, in tests, from plain buffers.
 *
 * <p>Protocol (kernel/bpf/ringbuf.c): each record starts with an 8-byte header whose first u32 is
 * the length with {@link #BUSY_BIT} set while the producer writes it and {@link #DISCARD_BIT} set
 * when it was discarded; records are 8-byte aligned. The reader acquire-loads
 * {@code producer_pos}, acquire-loads each header, and release-stores {@code consumer_pos} once
 * per batch, after the handler has seen the records (so the kernel never overwrites bytes the
 * handler is reading).
 */
public final class RingBufferReader {
    /** Set in a header while the producer has reserved but not committed the record. */
    public static final int BUSY_BIT = 1 << 31;
    /** Set in a header when the producer discarded the record. */
    public static final int DISCARD_BIT = 1 << 30;
    /** Record header: u32 length+flags, u32 page offset (kernel use). */
    public static final int HEADER_BYTES = 8;
    private static final int ALIGN_MASK = 7;

    private final AtomicBuffer consumerPos;
    private final AtomicBuffer producerPos;
    private final AtomicBuffer data;
    private final long mask;
    private final int capacity;
    /** False when the data is mapped once: a record crossing the end goes through {@link #wrapped}. */
    private final boolean mirrored;
    /** Holds a record that crosses the end of a once-mapped ring; grown to the largest such record. */
    private UnsafeBuffer wrapped;
    private long wrappedRecords;

    /**
     * A reader over already-mapped memory.
     *
     * @param consumerPos at least 8 bytes; offset 0 is {@code consumer_pos} (we write it)
     * @param producerPos at least 8 bytes; offset 0 is {@code producer_pos} (read only)
     * @param data the data area: {@code capacity} bytes, or {@code 2 * capacity} bytes when it is
     *             mapped twice (the second half mirrors the first)
     * @param capacity the ring size in bytes, a power of two
     */
    public RingBufferReader(AtomicBuffer consumerPos, AtomicBuffer producerPos, AtomicBuffer data, int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("ring capacity must be a power of two, got " + capacity);
        }
        if (data.capacity() < capacity) {
            throw new IllegalArgumentException("data area too small: need " + capacity + " bytes (or "
                    + 2L * capacity + " mapped twice), got " + data.capacity());
        }
        this.mirrored = data.capacity() >= 2L * capacity;
        this.consumerPos = consumerPos;
        this.producerPos = producerPos;
        this.data = data;
        this.capacity = capacity;
        this.mask = capacity - 1L;
    }

    /**
     * Delivers up to {@code limit} committed records in order, skipping discarded ones, and stops
     * at the first record still being written.
     *
     * @return how many records the handler received (0: the ring is drained or the next is busy)
     */
    public int poll(RecordHandler handler, int limit) {
        long cons = consumerPos.getLong(0);
        long startPos = cons;
        long prod = producerPos.getLongVolatile(0);
        int delivered = 0;
        try {
            while (delivered < limit) {
                if (cons >= prod) {
                    prod = producerPos.getLongVolatile(0);
                    if (cons >= prod) {
                        break;
                    }
                }
                int offset = (int) (cons & mask);
                int header = data.getIntVolatile(offset);
                if ((header & BUSY_BIT) != 0) {
                    break;
                }
                int length = header & ~(BUSY_BIT | DISCARD_BIT);
                long next = cons + ((length + HEADER_BYTES + ALIGN_MASK) & ~ALIGN_MASK);
                if ((header & DISCARD_BIT) == 0) {
                    // Advance first: a handler that throws must not be handed the same record forever.
                    cons = next;
                    delivered++;
                    int body = offset + HEADER_BYTES;
                    if (mirrored || body + length <= capacity) {
                        handler.onRecord(data, body, length);
                    } else if (body >= capacity) {
                        handler.onRecord(data, body - capacity, length);
                    } else {
                        handler.onRecord(unwrap(body, length), 0, length);
                    }
                } else {
                    cons = next;
                }
            }
        } finally {
            if (cons != startPos) {
                consumerPos.putLongOrdered(0, cons);
            }
        }
        return delivered;
    }

    /**
     * Copies a record that crosses the end of a once-mapped ring into one piece. The header never
     * crosses (records are 8-byte aligned in a power-of-two ring), only the body may.
     */
    private UnsafeBuffer unwrap(int body, int length) {
        if (wrapped == null || wrapped.capacity() < length) {
            // Bounded by the ring's capacity; a handful of growths over the process's life at most.
            wrapped = new UnsafeBuffer(new byte[Math.min(capacity, Integer.highestOneBit(length - 1) << 1)]);
        }
        int first = capacity - body;
        wrapped.putBytes(0, data, body, first);
        wrapped.putBytes(first, data, 0, length - first);
        wrappedRecords++;
        return wrapped;
    }

    /** Records that crossed the end of a once-mapped ring and were copied into one piece. */
    public long wrappedRecords() {
        return wrappedRecords;
    }

    /** Bytes written by the kernel and not yet consumed. */
    public long pendingBytes() {
        return producerPos.getLongVolatile(0) - consumerPos.getLong(0);
    }

    /** The ring size in bytes. */
    public int capacity() {
        return capacity;
    }
}
