package io.periscope.protocols;

import org.agrona.DirectBuffer;
import org.agrona.UnsafeAccess;

import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * In-place scanning of ASCII protocol text in a {@link DirectBuffer}; nothing here allocates.
 *
 * <p>The scanning loops check their whole range against the buffer's capacity once and then read
 * without Agrona's per-access bounds check (which cost ~10 % of an HTTP/1 parse); a range that
 * does not fit falls back to the checked reads, so a bad offset still fails as before.
 */
public final class AsciiBytes {
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long LF_MASK = 0x0A0A0A0A0A0A0A0AL;
    private static final long LOWER_CASE = 0x2020202020202020L;
    /** Added to a byte below 0x80: its top bit is then set iff the byte was at least '0' (0x30). */
    private static final long HEX_AT_0 = 0x5050505050505050L;
    /** ... at least ':' (0x3A), one past '9'. */
    private static final long HEX_AT_COLON = 0x4646464646464646L;
    /** ... at least 'a' (0x61). */
    private static final long HEX_AT_A = 0x1F1F1F1F1F1F1F1FL;
    /** ... at least 'g' (0x67), one past 'f'. */
    private static final long HEX_AT_G = 0x1919191919191919L;
    private static final long LOW_NIBBLES = 0x0F0F0F0F0F0F0F0FL;
    private static final long EVEN_NIBBLES = 0x000F000F000F000FL;
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final long BYTE_ARRAY_BASE = UnsafeAccess.UNSAFE.arrayBaseOffset(byte[].class);

    private AsciiBytes() {
    }

    /**
     * The high bit of each byte of {@code word} (read in native order) that is a line feed, plus
     * false hits only above a true one (borrows), so the lowest set bit is exact.
     */
    private static long lineFeeds(long word) {
        long x = word ^ LF_MASK;
        return (x - ONES) & ~x & HIGHS;
    }

    /**
     * Index of the first '\n' in {@code [from, to)}, or -1. Reads eight bytes at a time, since
     * header scanning is most of what an HTTP/1 or Redis parse costs.
     */
    public static int indexOfLf(DirectBuffer buf, int from, int to) {
        if (from >= to) {
            return -1;
        }
        // Kept under C2's inlining limit for hot methods (the whole scan was "hot method too big"
        // and a call per header line): the common path here, the rest in the two methods below.
        if (!LITTLE_ENDIAN || !fits(buf, from, to)) {
            return indexOfLfChecked(buf, from, to);
        }
        byte[] array = buf.byteArray();
        long base = buf.addressOffset();
        int i = from;
        // the first word alone: Redis and other short lines end in it
        if (i + Long.BYTES <= to) {
            long found = lineFeeds(UnsafeAccess.UNSAFE.getLong(array, base + i));
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
            i += Long.BYTES;
        }
        // then sixteen bytes a step: half the loop branches over a header line of 20-70 bytes.
        // The mask has false hits only above a true line feed (borrows): its lowest bit is exact
        while (i + 2 * Long.BYTES <= to) {
            long foundLo = lineFeeds(UnsafeAccess.UNSAFE.getLong(array, base + i));
            long foundHi = lineFeeds(UnsafeAccess.UNSAFE.getLong(array, base + i + Long.BYTES));
            if ((foundLo | foundHi) != 0) {
                return foundLo != 0 ? i + (Long.numberOfTrailingZeros(foundLo) >>> 3)
                        : i + Long.BYTES + (Long.numberOfTrailingZeros(foundHi) >>> 3);
            }
            i += 2 * Long.BYTES;
        }
        return indexOfLfTail(array, base, i, to);
    }

    /**
     * The last fewer than sixteen bytes of {@link #indexOfLf}'s unchecked scan. Its one-word step
     * is written out as in {@code indexOfLf} on purpose: a shared helper for the two measured
     * slower (HTTP/1 full pair 301-331 against 294-303 ns, alternated, commit fa8042b).
     */
    private static int indexOfLfTail(byte[] array, long base, int from, int to) {
        int i = from;
        if (i + Long.BYTES <= to) {
            long found = lineFeeds(UnsafeAccess.UNSAFE.getLong(array, base + i));
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
            i += Long.BYTES;
        }
        for (; i < to; i++) {
            if (UnsafeAccess.UNSAFE.getByte(array, base + i) == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** {@link #indexOfLf} through the buffer's bounds-checked reads (a range it does not hold). */
    private static int indexOfLfChecked(DirectBuffer buf, int from, int to) {
        int i = from;
        while (LITTLE_ENDIAN && i + Long.BYTES <= to) {
            // native order: no byte swap on the way
            long found = lineFeeds(buf.getLong(i));
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
            i += Long.BYTES;
        }
        for (; i < to; i++) {
            if (buf.getByte(i) == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Whether {@code [from, to)} lies inside the buffer, so unchecked reads there are safe. */
    public static boolean fits(DirectBuffer buf, int from, int to) {
        return from >= 0 && from <= to && to <= buf.capacity();
    }

    /**
     * The byte at {@code index} without a bounds check: only for an index inside a range that
     * {@link #fits} accepted.
     */
    public static byte byteAt(DirectBuffer buf, int index) {
        return UnsafeAccess.UNSAFE.getByte(buf.byteArray(), buf.addressOffset() + index);
    }

    /**
     * The eight bytes at {@code index}, native order, without a bounds check: only for a range
     * {@code [index, index + 8)} that {@link #fits} accepted.
     */
    public static long longAt(DirectBuffer buf, int index) {
        return UnsafeAccess.UNSAFE.getLong(buf.byteArray(), buf.addressOffset() + index);
    }

    /** Index of the first {@code b} in {@code [from, to)}, or -1. */
    public static int indexOf(DirectBuffer buf, int from, int to, byte b) {
        if (fits(buf, from, to)) {
            byte[] array = buf.byteArray();
            long base = buf.addressOffset();
            for (int i = from; i < to; i++) {
                if (UnsafeAccess.UNSAFE.getByte(array, base + i) == b) {
                    return i;
                }
            }
            return -1;
        }
        for (int i = from; i < to; i++) {
            if (buf.getByte(i) == b) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Whether the bytes equal {@code lower} ignoring ASCII case; {@code lower} must be lower case.
     */
    public static boolean equalsIgnoreCase(DirectBuffer buf, int offset, int length, byte[] lower) {
        if (length != lower.length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            int b = buf.getByte(offset + i);
            if (b >= 'A' && b <= 'Z') {
                b += 'a' - 'A';
            }
            if (b != lower[i]) {
                return false;
            }
        }
        return true;
    }

    /** Whether the bytes at {@code offset} start with {@code prefix} exactly. */
    public static boolean startsWith(DirectBuffer buf, int offset, int length, byte[] prefix) {
        if (length < prefix.length) {
            return false;
        }
        if (fits(buf, offset, offset + prefix.length)) {
            byte[] array = buf.byteArray();
            long base = buf.addressOffset() + offset;
            for (int i = 0; i < prefix.length; i++) {
                if (UnsafeAccess.UNSAFE.getByte(array, base + i) != prefix[i]) {
                    return false;
                }
            }
            return true;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (buf.getByte(offset + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Parses an unsigned decimal of up to 18 digits; -1 when empty, not a number or too long.
     */
    public static long parseDecimal(DirectBuffer buf, int offset, int length) {
        if (length <= 0 || length > 18) {
            return -1;
        }
        long v = 0;
        if (fits(buf, offset, offset + length)) {
            byte[] array = buf.byteArray();
            long base = buf.addressOffset() + offset;
            for (int i = 0; i < length; i++) {
                int d = UnsafeAccess.UNSAFE.getByte(array, base + i) - '0';
                if (d < 0 || d > 9) {
                    return -1;
                }
                v = v * 10 + d;
            }
            return v;
        }
        for (int i = 0; i < length; i++) {
            int d = buf.getByte(offset + i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    /** Parses an unsigned hexadecimal of up to 15 digits; -1 when invalid. */
    public static long parseHex(DirectBuffer buf, int offset, int length) {
        if (length <= 0 || length > 15) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < length; i++) {
            int d = hexDigit(buf.getByte(offset + i));
            if (d < 0) {
                return -1;
            }
            v = (v << 4) | d;
        }
        return v;
    }

    /** Hex digit values by byte, -1 for anything else: one load instead of three range tests. */
    private static final byte[] HEX = new byte[256];

    static {
        Arrays.fill(HEX, (byte) -1);
        for (int i = 0; i < 10; i++) {
            HEX['0' + i] = (byte) i;
        }
        for (int i = 0; i < 6; i++) {
            HEX['a' + i] = (byte) (10 + i);
            HEX['A' + i] = (byte) (10 + i);
        }
    }

    /** The value of a hex digit, or -1. */
    public static int hexDigit(byte b) {
        return HEX[b & 0xFF];
    }

    /**
     * Decodes {@code length} hex digits into {@code out} right-aligned (shorter ids are padded
     * with leading zero bytes, as B3 and Jaeger allow). False when not hex or too long; then
     * {@code out} may hold part of the id and must not be used.
     */
    public static boolean decodeHexId(DirectBuffer buf, int offset, int length, byte[] out) {
        if (length <= 0 || length > out.length * 2) {
            return false;
        }
        int bytes = (length + 1) >> 1;
        int o = out.length - bytes;
        for (int i = 0; i < o; i++) {
            out[i] = 0;
        }
        int i = offset;
        int end = offset + length;
        if (fits(buf, offset, end)) {
            return decodeHexIdUnchecked(buf.byteArray(), buf.addressOffset(), i, end, (length & 1) != 0, out, o);
        }
        if ((length & 1) != 0) {
            int d = HEX[buf.getByte(i++) & 0xFF];
            if (d < 0) {
                return false;
            }
            out[o++] = (byte) d;
        }
        while (i < end) {
            int hi = HEX[buf.getByte(i) & 0xFF];
            int lo = HEX[buf.getByte(i + 1) & 0xFF];
            if ((hi | lo) < 0) {
                return false;
            }
            out[o++] = (byte) ((hi << 4) | lo);
            i += 2;
        }
        return true;
    }

    /**
     * A traceparent's two ids: the 32 hex digits at {@code offset} into {@code traceId} (16
     * bytes) and the 16 at {@code offset + 33} into {@code spanId} (8 bytes). Same answer, and
     * the same bytes left in the arrays on bad input, as {@code decodeHexId(buf, offset, 32,
     * traceId) && decodeHexId(buf, offset + 33, 16, spanId)}, in straight-line code: that pair
     * checks lengths, loops, and calls a decoder too big to inline, twice per request.
     * {@code [offset, offset + 49)} must lie in the buffer ({@link #fits}).
     */
    public static boolean decodeTraceparentIds(DirectBuffer buf, int offset, byte[] traceId, byte[] spanId) {
        if (!LITTLE_ENDIAN || traceId.length != 16 || spanId.length != 8) {
            return decodeHexId(buf, offset, 32, traceId) && decodeHexId(buf, offset + 33, 16, spanId);
        }
        byte[] array = buf.byteArray();
        long at = buf.addressOffset() + offset;
        long a = UnsafeAccess.UNSAFE.getLong(array, at);
        long b = UnsafeAccess.UNSAFE.getLong(array, at + 8);
        long c = UnsafeAccess.UNSAFE.getLong(array, at + 16);
        long d = UnsafeAccess.UNSAFE.getLong(array, at + 24);
        // stored before the check, as decodeHexId does
        UnsafeAccess.UNSAFE.putInt(traceId, BYTE_ARRAY_BASE, hexWord(a));
        UnsafeAccess.UNSAFE.putInt(traceId, BYTE_ARRAY_BASE + 4, hexWord(b));
        UnsafeAccess.UNSAFE.putInt(traceId, BYTE_ARRAY_BASE + 8, hexWord(c));
        UnsafeAccess.UNSAFE.putInt(traceId, BYTE_ARRAY_BASE + 12, hexWord(d));
        if (((notHex(a) | notHex(b) | notHex(c) | notHex(d)) & HIGHS) != 0) {
            return false;
        }
        long e = UnsafeAccess.UNSAFE.getLong(array, at + 33);
        long f = UnsafeAccess.UNSAFE.getLong(array, at + 41);
        UnsafeAccess.UNSAFE.putInt(spanId, BYTE_ARRAY_BASE, hexWord(e));
        UnsafeAccess.UNSAFE.putInt(spanId, BYTE_ARRAY_BASE + 4, hexWord(f));
        return ((notHex(e) | notHex(f)) & HIGHS) == 0;
    }

    /** 0x80 in every byte of {@code x} that is not a hex digit (other bits may be set too). */
    private static long notHex(long x) {
        long lower = x | LOWER_CASE;
        // per byte (all below 0x80, so no carry crosses a byte): '0'..'9' in x, 'a'..'f' in lower
        long digit = (x + HEX_AT_0) & ~(x + HEX_AT_COLON);
        long letter = (lower + HEX_AT_A) & ~(lower + HEX_AT_G);
        return x | ~(digit | letter);
    }

    /** Eight hex digits (little-endian word) as four bytes, in memory order; see {@link #notHex} for checking. */
    private static int hexWord(long x) {
        long lower = x | LOWER_CASE;
        long letter = (lower + HEX_AT_A) & ~(lower + HEX_AT_G);
        // the digit's value: low nibble, plus 9 for a letter
        long v = (x & LOW_NIBBLES) + ((letter & HIGHS) >>> 7) * 9;
        // bytes 0, 2, 4, 6 are high nibbles of the output bytes, 1, 3, 5, 7 their low nibbles
        long pairs = ((v & EVEN_NIBBLES) << 4) | ((v >>> 8) & EVEN_NIBBLES);
        // the output bytes sit in bytes 0, 2, 4, 6: squeeze them into the low four
        pairs = (pairs | (pairs >>> 8)) & 0x0000FFFF0000FFFFL;
        return (int) (pairs | (pairs >>> 16));
    }

    private static boolean decodeHexIdUnchecked(byte[] array, long base, int from, int end, boolean odd, byte[] out,
            int outAt) {
        int i = from;
        int o = outAt;
        if (odd) {
            int d = HEX[UnsafeAccess.UNSAFE.getByte(array, base + i++) & 0xFF];
            if (d < 0) {
                return false;
            }
            out[o++] = (byte) d;
        }
        // eight hex digits a word: a trace id is four words, a span id two. Whether every digit
        // was hex is gathered over the words and tested once; the four bytes of a word are
        // packed into one int and stored at once (out has room: o + (end - i) / 2 <= out.length)
        long bad = 0;
        while (LITTLE_ENDIAN && i + Long.BYTES <= end) {
            long x = UnsafeAccess.UNSAFE.getLong(array, base + i);
            bad |= notHex(x);
            UnsafeAccess.UNSAFE.putInt(out, BYTE_ARRAY_BASE + o, hexWord(x));
            o += 4;
            i += Long.BYTES;
        }
        if ((bad & HIGHS) != 0) {
            return false;
        }
        while (i < end) {
            int hi = HEX[UnsafeAccess.UNSAFE.getByte(array, base + i) & 0xFF];
            int lo = HEX[UnsafeAccess.UNSAFE.getByte(array, base + i + 1) & 0xFF];
            if ((hi | lo) < 0) {
                return false;
            }
            out[o++] = (byte) ((hi << 4) | lo);
            i += 2;
        }
        return true;
    }

    /** Whether the byte is ASCII white space (space or tab). */
    public static boolean isBlank(byte b) {
        return b == ' ' || b == '\t';
    }
}
