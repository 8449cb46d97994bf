package io.periscope.protocols;

import org.agrona.DirectBuffer;

/**
 * Reduces a URL path to a low-cardinality, route-like endpoint: the query string goes, the first
 * N segments stay, and segments that look like ids (all digits, a UUID, a long hex string)
 * become {@code {id}}. {@code /api/users/12345/orders?x=1} with N=3 gives
 * {@code /api/users/{id}}.
 */
public final class EndpointRule {
    private static final byte[] ID = {'{', 'i', 'd', '}'};
    private static final int UUID_LENGTH = 36;
    private static final int MIN_HEX_ID_LENGTH = 16;

    private static final int MAX_PATH_BYTES = 2048;

    private final int segments;
    private final boolean replaceIds;
    /** For paths read from a buffer; one rule per engine, one engine per thread. */
    private final byte[] scratch = new byte[MAX_PATH_BYTES];

    public EndpointRule(int segments, boolean replaceIds) {
        if (segments <= 0) {
            throw new IllegalArgumentException("segments must be positive: " + segments);
        }
        this.segments = segments;
        this.replaceIds = replaceIds;
    }

    /** Writes the endpoint of the path at {@code buf[offset, offset+length)} into {@code out}. */
    public void apply(DirectBuffer buf, int offset, int length, TextField out) {
        int n = Math.min(length, scratch.length);
        buf.getBytes(offset, scratch, 0, n);
        apply(scratch, 0, n, out);
    }

    /**
     * Writes the endpoint of the path at {@code src[offset, offset+length)} into {@code out}.
     * Works on a plain array (e.g. the resource field just filled), which the JIT scans faster
     * than a buffer with bounds checks.
     */
    public void apply(byte[] src, int offset, int length, TextField out) {
        out.clear();
        int end = offset + length;
        int kept = 0;
        int i = offset;
        // one pass: segments end at '/', and the path at '?' or '#' (the query is never read)
        while (i < end && kept < segments) {
            byte b = src[i];
            if (b == '?' || b == '#') {
                break;
            }
            if (b == '/') {
                i++;
                continue;
            }
            int segEnd = i + 1;
            while (segEnd < end) {
                byte c = src[segEnd];
                if (c == '/' || c == '?' || c == '#') {
                    break;
                }
                segEnd++;
            }
            out.append((byte) '/');
            if (replaceIds && looksLikeId(src, i, segEnd - i)) {
                out.append(ID, 0, ID.length);
            } else {
                out.append(src, i, segEnd - i);
            }
            kept++;
            i = segEnd;
        }
        if (out.isEmpty() && length > 0 && src[offset] == '/') {
            out.append((byte) '/');
        }
    }

    /** Whether a path segment is an identifier rather than a route word. */
    static boolean looksLikeId(byte[] buf, int offset, int length) {
        if (length == 0) {
            return false;
        }
        boolean allDigits = true;
        boolean allHex = true;
        boolean anyDigit = false;
        int dashes = 0;
        for (int i = 0; i < length; i++) {
            byte b = buf[offset + i];
            boolean digit = b >= '0' && b <= '9';
            boolean hexLetter = (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
            anyDigit |= digit;
            if (!digit) {
                allDigits = false;
            }
            if (b == '-') {
                dashes++;
            } else if (!digit && !hexLetter) {
                allHex = false;
            }
        }
        if (allDigits) {
            return true;
        }
        if (!allHex || !anyDigit) {
            return false;
        }
        if (dashes == 4 && length == UUID_LENGTH) {
            return buf[offset + 8] == '-' && buf[offset + 13] == '-' && buf[offset + 18] == '-'
                    && buf[offset + 23] == '-';
        }
        return dashes == 0 && length >= MIN_HEX_ID_LENGTH;
    }
}
