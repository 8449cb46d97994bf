package io.periscope.protocols;

import org.agrona.DirectBuffer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A reusable, fixed-capacity byte string: the text fields of a {@link RequestLog}.
 *
 * <p>Parsers copy bytes into it straight from the capture buffer and exporters encode it straight
 * out again, so a field costs no allocation per message. Content beyond the capacity is cut and
 * {@link #truncated()} says so. Bytes are kept as captured (UTF-8 in practice).
 */
public final class TextField {
    private final byte[] bytes;
    private int length;
    private boolean truncated;

    public TextField(int capacityBytes) {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacityBytes must be positive: " + capacityBytes);
        }
        this.bytes = new byte[capacityBytes];
    }

    /** Empties the field. */
    public TextField clear() {
        length = 0;
        truncated = false;
        return this;
    }

    /** Replaces the content with {@code len} bytes of {@code src} at {@code offset}, cut to capacity. */
    public TextField set(DirectBuffer src, int offset, int len) {
        length = 0;
        truncated = false;
        return append(src, offset, len);
    }

    /** Replaces the content with {@code len} bytes of {@code src} at {@code offset}, cut to capacity. */
    public TextField set(byte[] src, int offset, int len) {
        length = 0;
        truncated = false;
        return append(src, offset, len);
    }

    /**
     * Replaces the content with an ASCII/Latin-1 string, one byte per char; meant for constants
     * (command names, fixed labels) since it does not encode UTF-8.
     */
    public TextField setAscii(CharSequence text) {
        length = 0;
        truncated = false;
        return appendAscii(text);
    }

    /** Appends {@code len} bytes of {@code src} at {@code offset}, cut to capacity. */
    public TextField append(DirectBuffer src, int offset, int len) {
        int n = Math.min(len, bytes.length - length);
        if (n > 0) {
            src.getBytes(offset, bytes, length, n);
            length += n;
        }
        truncated |= n < len;
        return this;
    }

    /** Appends {@code len} bytes of {@code src} at {@code offset}, cut to capacity. */
    public TextField append(byte[] src, int offset, int len) {
        int n = Math.min(len, bytes.length - length);
        if (n > 0) {
            System.arraycopy(src, offset, bytes, length, n);
            length += n;
        }
        truncated |= n < len;
        return this;
    }

    /** Appends one byte, cut to capacity. */
    public TextField append(byte b) {
        if (length < bytes.length) {
            bytes[length++] = b;
        } else {
            truncated = true;
        }
        return this;
    }

    /** Appends an ASCII/Latin-1 string, one byte per char. */
    @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int) is the one-byte-per-char copy wanted
    public TextField appendAscii(CharSequence text) {
        int len = text.length();
        int n = Math.min(len, bytes.length - length);
        if (text instanceof String str) {
            // a bulk copy (arraycopy for Latin-1 strings): constants like method names are set per record
            if (n > 0) {
                str.getBytes(0, n, bytes, length);
                length += n;
            }
        } else {
            for (int i = 0; i < n; i++) {
                bytes[length++] = (byte) text.charAt(i);
            }
        }
        truncated |= n < len;
        return this;
    }

    /** Appends a non-negative or negative decimal number without allocating. */
    public TextField appendDecimal(long value) {
        if (value < 0) {
            append((byte) '-');
            if (value == Long.MIN_VALUE) {
                return appendAscii("9223372036854775808");
            }
            value = -value;
        }
        long divisor = 1;
        while (value / divisor >= 10) {
            divisor *= 10;
        }
        while (divisor > 0) {
            append((byte) ('0' + (value / divisor) % 10));
            divisor /= 10;
        }
        return this;
    }

    /** Copies another field's content (cut to this field's capacity). */
    public TextField copyFrom(TextField other) {
        length = 0;
        truncated = other.truncated;
        append(other.bytes, 0, other.length);
        return this;
    }

    /**
     * Sets the content's length after the caller wrote {@link #array()} in place (an encoder of
     * its own, e.g. {@link EndpointRule}); {@code cut} says content was left out.
     */
    void setLength(int n, boolean cut) {
        if (n < 0 || n > bytes.length) {
            throw new IllegalArgumentException("length " + n + ", capacity " + bytes.length);
        }
        length = n;
        truncated = cut;
    }

    public int length() {
        return length;
    }

    public boolean isEmpty() {
        return length == 0;
    }

    public int capacity() {
        return bytes.length;
    }

    /** Whether content was cut at the capacity. */
    public boolean truncated() {
        return truncated;
    }

    public byte byteAt(int index) {
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException("index " + index + ", length " + length);
        }
        return bytes[index];
    }

    /** The backing array; only the first {@link #length()} bytes are content. For encoders. */
    public byte[] array() {
        return bytes;
    }

    /** Whether the content equals {@code text} byte for byte (ASCII comparison, no allocation). */
    public boolean contentEquals(CharSequence text) {
        if (text.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (bytes[i] != (byte) text.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The content decoded as UTF-8 (allocates: for tests, logs and cold paths). */
    @Override
    public String toString() {
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TextField)) {
            return false;
        }
        TextField other = (TextField) o;
        return Arrays.equals(bytes, 0, length, other.bytes, 0, other.length);
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int i = 0; i < length; i++) {
            h = 31 * h + bytes[i];
        }
        return h;
    }
}
