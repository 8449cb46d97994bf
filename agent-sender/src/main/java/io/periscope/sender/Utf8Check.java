package io.periscope.sender;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * UTF-8 validation for captured text: OTLP string fields must be valid UTF-8, and a receiver that
 * finds one that is not rejects the whole request, so malformed bytes are replaced before sending.
 */
final class Utf8Check {
    private static final byte[] REPLACEMENT = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ASCII_MASK = 0x8080808080808080L;

    private Utf8Check() {
    }

    static boolean isValid(byte[] b, int offset, int length) {
        int i = offset;
        int end = offset + length;
        // The common case, ASCII, eight bytes at a time: no byte has its top bit set.
        while (i + Long.BYTES <= end && ((long) LONGS.get(b, i) & ASCII_MASK) == 0) {
            i += Long.BYTES;
        }
        while (i < end && b[i] >= 0) {
            i++; // the common case: ASCII
        }
        while (i < end) {
            int n = sequenceLength(b, i, end);
            if (n <= 0) {
                return false;
            }
            i += n;
        }
        return true;
    }

    /** Copies {@code b} to {@code dst}, each malformed byte replaced by U+FFFD; returns the length. */
    static int sanitize(byte[] b, int offset, int length, byte[] dst) {
        int i = offset;
        int end = offset + length;
        int n = 0;
        while (i < end) {
            int len = sequenceLength(b, i, end);
            if (len <= 0) {
                System.arraycopy(REPLACEMENT, 0, dst, n, 3);
                n += 3;
                i++;
            } else {
                System.arraycopy(b, i, dst, n, len);
                n += len;
                i += len;
            }
        }
        return n;
    }

    /** Length of the well-formed sequence at {@code i}, or -1 (Unicode Table 3-7). */
    private static int sequenceLength(byte[] b, int i, int end) {
        int c = b[i] & 0xff;
        if (c < 0x80) {
            return 1;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            return i + 1 < end && cont(b[i + 1]) ? 2 : -1;
        }
        if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= end) {
                return -1;
            }
            int c1 = b[i + 1] & 0xff;
            boolean ok = c == 0xE0 ? c1 >= 0xA0 && c1 <= 0xBF
                    : c == 0xED ? c1 >= 0x80 && c1 <= 0x9F : cont(b[i + 1]);
            return ok && cont(b[i + 2]) ? 3 : -1;
        }
        if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= end) {
                return -1;
            }
            int c1 = b[i + 1] & 0xff;
            boolean ok = c == 0xF0 ? c1 >= 0x90 && c1 <= 0xBF
                    : c == 0xF4 ? c1 >= 0x80 && c1 <= 0x8F : cont(b[i + 1]);
            return ok && cont(b[i + 2]) && cont(b[i + 3]) ? 4 : -1;
        }
        return -1;
    }

    private static boolean cont(byte x) {
        return (x & 0xC0) == 0x80;
    }
}
