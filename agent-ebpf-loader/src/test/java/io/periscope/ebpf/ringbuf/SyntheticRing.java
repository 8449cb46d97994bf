package io.periscope.ebpf.ringbuf;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * A ring laid out like the kernel's, in heap-free direct memory: the data mapped twice (a producer
 * that writes both mirrors) or once, as {@link MappedRingBuffer} maps it.
 */
final class SyntheticRing {
    final int capacity;
    final boolean mirrored;
    final UnsafeBuffer consumer = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
    final UnsafeBuffer producer = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
    final UnsafeBuffer data;
    long producerPos;

    SyntheticRing(int capacity) {
        this(capacity, true);
    }

    SyntheticRing(int capacity, boolean mirrored) {
        this.capacity = capacity;
        this.mirrored = mirrored;
        this.data = new UnsafeBuffer(ByteBuffer.allocateDirect(mirrored ? 2 * capacity : capacity));
    }

    RingBufferReader reader() {
        return new RingBufferReader(consumer, producer, data, capacity);
    }

    /** Reserves a record (header BUSY) and returns its position; does not publish producer_pos yet. */
    long reserve(byte[] payload) {
        long pos = producerPos;
        writeInt(pos, RingBufferReader.BUSY_BIT | payload.length);
        writeInt(pos + 4, 0);
        for (int i = 0; i < payload.length; i++) {
            writeByte(pos + RingBufferReader.HEADER_BYTES + i, payload[i]);
        }
        producerPos += (payload.length + RingBufferReader.HEADER_BYTES + 7) & ~7;
        producer.putLongOrdered(0, producerPos);
        return pos;
    }

    void commit(long pos, int length) {
        writeInt(pos, length);
    }

    void discard(long pos, int length) {
        writeInt(pos, RingBufferReader.DISCARD_BIT | length);
    }

    long write(byte[] payload) {
        long pos = reserve(payload);
        commit(pos, payload.length);
        return pos;
    }

    long consumerPos() {
        return consumer.getLongVolatile(0);
    }

    /** Lets a test start the ring anywhere, as after long use. */
    void startAt(long pos) {
        producerPos = pos;
        producer.putLong(0, pos);
        consumer.putLong(0, pos);
    }

    private void writeInt(long pos, int value) {
        for (int i = 0; i < 4; i++) {
            writeByte(pos + i, (byte) (value >>> (8 * i)));
        }
    }

    /** Mapped twice, byte i is visible at i and i + capacity. */
    private void writeByte(long pos, byte b) {
        int off = (int) (pos & (capacity - 1));
        data.putByte(off, b);
        if (mirrored) {
            data.putByte(off + capacity, b);
        }
    }
}
