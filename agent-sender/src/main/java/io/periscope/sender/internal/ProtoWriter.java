package io.periscope.sender.internal;

import java.util.Arrays;

/**
 * A protobuf wire-format writer over one growable, reused byte array.
 *
 * <p>Nested messages are written in one pass: {@link #beginMessage(int)} reserves the widest
 * length varint, {@link #endMessage(int)} writes the real length and slides the body left over the
 * unused reserve. The slide costs one copy of the body, which is cheaper than the size pass
 * {@code CodedOutputStream} needs, and the array is reused, so a steady stream of messages
 * allocates nothing.
 */
public final class ProtoWriter {
    private static final int WIRE_VARINT = 0;
    private static final int WIRE_FIXED64 = 1;
    private static final int WIRE_LEN = 2;
    private static final int WIRE_FIXED32 = 5;
    /** A 32-bit length needs at most 5 varint bytes. */
    private static final int LENGTH_RESERVE_BYTES = 5;

    private byte[] buf;
    private int pos;

    public ProtoWriter(int initialCapacityBytes) {
        buf = new byte[Math.max(64, initialCapacityBytes)];
    }

    /** Forgets everything written; keeps the array. */
    public void reset() {
        pos = 0;
    }

    /** Rolls back to an earlier {@link #position()}. */
    public void truncate(int position) {
        pos = position;
    }

    public int position() {
        return pos;
    }

    /** The backing array; bytes [0, position()) are the message. */
    public byte[] array() {
        return buf;
    }

    /** A copy of the bytes written (allocates: for tests and cold paths). */
    public byte[] toByteArray() {
        return Arrays.copyOf(buf, pos);
    }

    private void ensure(int more) {
        if (pos + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
        }
    }

    /**
     * Makes room for {@code more} bytes and returns the array to write them into, from
     * {@link #position()} on; then {@link #position(int)} moves past them. For writers of several
     * small fields at once, which keep the position in a local instead of a field per byte.
     */
    public byte[] reserve(int more) {
        ensure(more);
        return buf;
    }

    /** Moves the position past bytes written into {@link #reserve(int)}'s array. */
    public void position(int newPosition) {
        pos = newPosition;
    }

    /** Puts a varint at {@code p} of {@code b}; returns the position after it. */
    public static int putVarint32(byte[] b, int p, int value) {
        while ((value & ~0x7F) != 0) {
            b[p++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        b[p++] = (byte) value;
        return p;
    }

    /** Puts a 64-bit varint at {@code p} of {@code b}; returns the position after it. */
    public static int putVarint64(byte[] b, int p, long value) {
        while ((value & ~0x7FL) != 0) {
            b[p++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        b[p++] = (byte) value;
        return p;
    }

    /** Writes a bare varint (no tag): for callers that compute message lengths themselves. */
    public void rawVarint32(int value) {
        ensure(5);
        pos = putVarint32(buf, pos, value);
    }

    /** Writes a bare 64-bit varint (no tag). */
    public void rawVarint64(long value) {
        ensure(10);
        pos = putVarint64(buf, pos, value);
    }

    private void tag(int field, int wireType) {
        rawVarint32((field << 3) | wireType);
    }

    /** Number of bytes {@code value} takes as a varint. */
    public static int varint32Size(int value) {
        if ((value & (~0 << 7)) == 0) {
            return 1;
        }
        if ((value & (~0 << 14)) == 0) {
            return 2;
        }
        if ((value & (~0 << 21)) == 0) {
            return 3;
        }
        if ((value & (~0 << 28)) == 0) {
            return 4;
        }
        return 5;
    }

    /** Number of bytes {@code value} takes as a 64-bit varint (negative values take ten). */
    public static int varint64Size(long value) {
        // 7 bits per byte; value | 1 so that 0 takes one byte.
        return (70 - Long.numberOfLeadingZeros(value | 1)) / 7;
    }

    /** Copies bytes as they are (no tag, no length). */
    public void rawBytes(byte[] src, int offset, int length) {
        ensure(length);
        System.arraycopy(src, offset, buf, pos, length);
        pos += length;
    }

    public void writeUInt64(int field, long value) {
        ensure(15);
        tag(field, WIRE_VARINT);
        rawVarint64(value);
    }

    /** int64 and int32 share this encoding for non-negative values; negatives take ten bytes. */
    public void writeInt64(int field, long value) {
        writeUInt64(field, value);
    }

    public void writeEnum(int field, int value) {
        writeUInt64(field, value);
    }

    public void writeBool(int field, boolean value) {
        ensure(6);
        tag(field, WIRE_VARINT);
        buf[pos++] = (byte) (value ? 1 : 0);
    }

    public void writeFixed64(int field, long value) {
        ensure(13);
        tag(field, WIRE_FIXED64);
        for (int i = 0; i < 8; i++) {
            buf[pos++] = (byte) (value >>> (8 * i));
        }
    }

    public void writeFixed32(int field, int value) {
        ensure(9);
        tag(field, WIRE_FIXED32);
        for (int i = 0; i < 4; i++) {
            buf[pos++] = (byte) (value >>> (8 * i));
        }
    }

    public void writeDouble(int field, double value) {
        writeFixed64(field, Double.doubleToRawLongBits(value));
    }

    /** A length-delimited field (bytes, string already UTF-8, or a pre-encoded message). */
    public void writeBytes(int field, byte[] src, int offset, int length) {
        ensure(10 + length);
        tag(field, WIRE_LEN);
        rawVarint32(length);
        System.arraycopy(src, offset, buf, pos, length);
        pos += length;
    }

    /** Writes an ASCII/Latin-1 string constant one byte per char (callers pass ASCII only). */
    public void writeAscii(int field, CharSequence text) {
        int length = text.length();
        ensure(10 + length);
        tag(field, WIRE_LEN);
        rawVarint32(length);
        for (int i = 0; i < length; i++) {
            buf[pos++] = (byte) text.charAt(i);
        }
    }

    /** Starts a nested message; returns the mark {@link #endMessage(int)} needs. */
    public int beginMessage(int field) {
        ensure(5 + LENGTH_RESERVE_BYTES);
        tag(field, WIRE_LEN);
        int mark = pos;
        pos += LENGTH_RESERVE_BYTES;
        return mark;
    }

    /** Closes the nested message begun at {@code mark}. */
    public void endMessage(int mark) {
        int bodyStart = mark + LENGTH_RESERVE_BYTES;
        int length = pos - bodyStart;
        int lengthBytes = varint32Size(length);
        int shift = LENGTH_RESERVE_BYTES - lengthBytes;
        if (shift > 0) {
            System.arraycopy(buf, bodyStart, buf, bodyStart - shift, length);
        }
        int end = pos - shift;
        pos = mark;
        rawVarint32(length);
        pos = end;
    }
}
