package io.periscope.protocols.http2;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * An HPACK decoder (RFC 7541) for one direction of one connection: static table, a dynamic table
 * of fixed capacity kept in a byte ring, Huffman strings. It decodes into reusable scratch
 * buffers and hands each header to a {@link HeaderSink}; nothing is allocated per block.
 *
 * <p>Best effort when capture starts mid-connection: a reference to a dynamic entry we never saw
 * is skipped (counted in {@link #unknownReferences()}) and decoding goes on.
 */
final class HpackDecoder {
    /** Receives decoded headers; the buffers are valid during the call only. */
    interface HeaderSink {
        void header(DirectBuffer name, int nameLength, DirectBuffer value, int valueLength);
    }

    static final int TABLE_BYTES = 4096;
    private static final int ENTRY_OVERHEAD = 32;
    private static final int MAX_ENTRIES = TABLE_BYTES / ENTRY_OVERHEAD;
    private static final int NAME_BYTES = 128;
    private static final int VALUE_BYTES = 1024;
    private static final int MAX_INT = 1 << 28;

    private static final String[][] STATIC = {
        {":authority", ""},
        {":method", "GET"},
        {":method", "POST"},
        {":path", "/"},
        {":path", "/index.html"},
        {":scheme", "http"},
        {":scheme", "https"},
        {":status", "200"},
        {":status", "204"},
        {":status", "206"},
        {":status", "304"},
        {":status", "400"},
        {":status", "404"},
        {":status", "500"},
        {"accept-charset", ""},
        {"accept-encoding", "gzip, deflate"},
        {"accept-language", ""},
        {"accept-ranges", ""},
        {"accept", ""},
        {"access-control-allow-origin", ""},
        {"age", ""},
        {"allow", ""},
        {"authorization", ""},
        {"cache-control", ""},
        {"content-disposition", ""},
        {"content-encoding", ""},
        {"content-language", ""},
        {"content-length", ""},
        {"content-location", ""},
        {"content-range", ""},
        {"content-type", ""},
        {"cookie", ""},
        {"date", ""},
        {"etag", ""},
        {"expect", ""},
        {"expires", ""},
        {"from", ""},
        {"host", ""},
        {"if-match", ""},
        {"if-modified-since", ""},
        {"if-none-match", ""},
        {"if-range", ""},
        {"if-unmodified-since", ""},
        {"last-modified", ""},
        {"link", ""},
        {"location", ""},
        {"max-forwards", ""},
        {"proxy-authenticate", ""},
        {"proxy-authorization", ""},
        {"range", ""},
        {"referer", ""},
        {"refresh", ""},
        {"retry-after", ""},
        {"server", ""},
        {"set-cookie", ""},
        {"strict-transport-security", ""},
        {"transfer-encoding", ""},
        {"user-agent", ""},
        {"vary", ""},
        {"via", ""},
        {"www-authenticate", ""},
    };
    private static final byte[][] STATIC_NAMES = new byte[STATIC.length][];
    private static final byte[][] STATIC_VALUES = new byte[STATIC.length][];

    static {
        for (int i = 0; i < STATIC.length; i++) {
            STATIC_NAMES[i] = STATIC[i][0].getBytes(StandardCharsets.US_ASCII);
            STATIC_VALUES[i] = STATIC[i][1].getBytes(StandardCharsets.US_ASCII);
        }
    }

    private final byte[] ring = new byte[TABLE_BYTES];
    private int ringWrite;
    private final int[] nameOff = new int[MAX_ENTRIES];
    private final int[] nameLen = new int[MAX_ENTRIES];
    private final int[] valueOff = new int[MAX_ENTRIES];
    private final int[] valueLen = new int[MAX_ENTRIES];
    private final int[] entrySize = new int[MAX_ENTRIES];
    /** Index of the newest entry in the entry arrays. */
    private int newest = -1;
    private int count;
    private int size;
    private int maxSize = TABLE_BYTES;
    private long unknownReferences;

    private final byte[] name = new byte[NAME_BYTES];
    private final byte[] value = new byte[VALUE_BYTES];
    private final UnsafeBuffer nameBuffer = new UnsafeBuffer(name);
    private final UnsafeBuffer valueBuffer = new UnsafeBuffer(value);
    private int nameLength;
    private int valueLength;
    private int nameTrueLength;
    private int valueTrueLength;
    private int pos;

    void reset() {
        newest = -1;
        count = 0;
        size = 0;
        maxSize = TABLE_BYTES;
        ringWrite = 0;
    }

    long unknownReferences() {
        return unknownReferences;
    }

    /** Decodes one complete header block; false when it is malformed (the table may be out of step). */
    boolean decode(DirectBuffer buf, int offset, int length, HeaderSink sink) {
        pos = offset;
        int end = offset + length;
        while (pos < end) {
            int b = buf.getByte(pos) & 0xFF;
            if ((b & 0x80) != 0) {
                int index = integer(buf, end, 7);
                if (index <= 0) {
                    return false;
                }
                if (entry(index, true)) {
                    sink.header(nameBuffer, nameLength, valueBuffer, valueLength);
                }
            } else if ((b & 0xE0) == 0x20) {
                int newMax = integer(buf, end, 5);
                if (newMax < 0) {
                    return false;
                }
                maxSize = Math.min(newMax, TABLE_BYTES);
                evict(0);
            } else {
                boolean indexing = (b & 0xC0) == 0x40;
                int index = integer(buf, end, indexing ? 6 : 4);
                if (index < 0) {
                    return false;
                }
                boolean known = true;
                if (index == 0) {
                    if (!string(buf, end, name, true)) {
                        return false;
                    }
                } else {
                    known = entry(index, false);
                }
                if (!string(buf, end, value, false)) {
                    return false;
                }
                if (indexing) {
                    add();
                }
                if (known) {
                    sink.header(nameBuffer, nameLength, valueBuffer, valueLength);
                }
            }
        }
        return true;
    }

    /** Reads an HPACK integer with an N-bit prefix at pos; -1 when cut or too large. */
    private int integer(DirectBuffer buf, int end, int prefixBits) {
        int mask = (1 << prefixBits) - 1;
        int v = buf.getByte(pos++) & mask;
        if (v < mask) {
            return v;
        }
        int shift = 0;
        while (pos < end) {
            int b = buf.getByte(pos++) & 0xFF;
            v += (b & 0x7F) << shift;
            if (v > MAX_INT || v < 0) {
                return -1;
            }
            if ((b & 0x80) == 0) {
                return v;
            }
            shift += 7;
        }
        return -1;
    }

    /** Reads a string literal at pos into the name or value scratch. */
    private boolean string(DirectBuffer buf, int end, byte[] dest, boolean isName) {
        if (pos >= end) {
            return false;
        }
        boolean huffman = (buf.getByte(pos) & 0x80) != 0;
        int len = integer(buf, end, 7);
        if (len < 0 || pos + len > end) {
            return false;
        }
        int n;
        int trueLen;
        if (huffman) {
            trueLen = HuffmanCode.decode(buf, pos, len, dest, 0, dest.length);
            if (trueLen < 0) {
                return false;
            }
            n = Math.min(trueLen, dest.length);
        } else {
            n = Math.min(len, dest.length);
            buf.getBytes(pos, dest, 0, n);
            trueLen = len;
        }
        pos += len;
        if (isName) {
            nameLength = n;
            nameTrueLength = trueLen;
        } else {
            valueLength = n;
            valueTrueLength = trueLen;
        }
        return true;
    }

    /** Loads entry {@code index} (name, and the value when {@code withValue}); false when unknown. */
    private boolean entry(int index, boolean withValue) {
        if (index <= STATIC.length) {
            byte[] n = STATIC_NAMES[index - 1];
            System.arraycopy(n, 0, name, 0, n.length);
            nameLength = n.length;
            nameTrueLength = n.length;
            if (withValue) {
                byte[] v = STATIC_VALUES[index - 1];
                System.arraycopy(v, 0, value, 0, v.length);
                valueLength = v.length;
                valueTrueLength = v.length;
            }
            return true;
        }
        int d = index - STATIC.length - 1;
        if (d >= count) {
            unknownReferences++;
            // keep the name empty so an incremental insert still keeps the table in step in size
            nameLength = 0;
            nameTrueLength = 0;
            return false;
        }
        int e = Math.floorMod(newest - d, MAX_ENTRIES);
        nameLength = fromRing(nameOff[e], nameLen[e], name);
        nameTrueLength = nameLength;
        if (withValue) {
            valueLength = fromRing(valueOff[e], valueLen[e], value);
            valueTrueLength = valueLength;
        }
        return true;
    }

    private int fromRing(int off, int len, byte[] dest) {
        int n = Math.min(len, dest.length);
        for (int i = 0; i < n; i++) {
            dest[i] = ring[(off + i) % TABLE_BYTES];
        }
        return n;
    }

    private int toRing(byte[] src, int len) {
        int off = ringWrite;
        for (int i = 0; i < len; i++) {
            ring[(off + i) % TABLE_BYTES] = src[i];
        }
        ringWrite = (off + len) % TABLE_BYTES;
        return off;
    }

    /** Adds the current name/value as the newest dynamic entry, evicting as the spec says. */
    private void add() {
        int entry = nameTrueLength + valueTrueLength + ENTRY_OVERHEAD;
        if (entry > maxSize) {
            evict(maxSize);
            return;
        }
        evict(entry);
        if (count == MAX_ENTRIES) {
            return;
        }
        int e = (newest + 1) % MAX_ENTRIES;
        // the bytes kept are at most the entry's size, which the ring always has room for
        nameOff[e] = toRing(name, nameLength);
        nameLen[e] = nameLength;
        valueOff[e] = toRing(value, valueLength);
        valueLen[e] = valueLength;
        entrySize[e] = entry;
        newest = e;
        count++;
        size += entry;
    }

    /** Evicts the oldest entries until {@code room} more bytes fit under the maximum size. */
    private void evict(int room) {
        while (count > 0 && size + room > maxSize) {
            int oldest = Math.floorMod(newest - count + 1, MAX_ENTRIES);
            size -= entrySize[oldest];
            count--;
        }
    }
}
