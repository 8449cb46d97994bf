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
     * than a buffer with bounds checks. One pass: each segment is classified by a table lookup
     * per byte (digit, hex letter, dash, other) while it is copied out, and replaced by
     * {@code {id}} when it turns out to be an id; a per-byte branch on every character class and
     * an append per piece cost more than the whole rest of a request line.
     */
    public void apply(byte[] src, int offset, int length, TextField out) {
        byte[] dst = out.array();
        int cap = dst.length;
        int w = 0;
        boolean cut = false;
        int end = offset + length;
        int kept = 0;
        int i = offset;
        // segments end at '/', and the path at '?' or '#' (the query is never read)
        while (i < end && kept < segments) {
            int c = CLASS[src[i] & 0xFF];
            if (c == QUERY) {
                break;
            }
            if (c == SLASH) {
                i++;
                continue;
            }
            int segStart = i;
            int seen = 0;
            if (w < cap) {
                dst[w] = '/';
            } else {
                cut = true;
            }
            int segOut = w + 1;
            int o = segOut;
            while (true) {
                seen |= c;
                if (o < cap) {
                    dst[o] = src[i];
                }
                o++;
                i++;
                if (i == end) {
                    break;
                }
                c = CLASS[src[i] & 0xFF];
                if (c >= SLASH) {
                    break;
                }
            }
            if (replaceIds && isId(src, segStart, i - segStart, seen)) {
                o = segOut;
                for (byte b : ID) {
                    if (o < cap) {
                        dst[o] = b;
                    }
                    o++;
                }
            }
            if (o > cap) {
                cut = true;
                o = cap;
            }
            w = o;
            kept++;
        }
        if (w == 0 && length > 0 && src[offset] == '/') {
            dst[w++] = '/';
        }
        out.setLength(w, cut);
    }

    /** Byte classes for {@link #apply}: bits that OR into what a segment holds, then terminators. */
    private static final int DIGIT = 1;
    private static final int HEX_LETTER = 2;
    private static final int DASH = 4;
    private static final int OTHER = 8;
    private static final int SLASH = 16;
    private static final int QUERY = 17;
    private static final byte[] CLASS = new byte[256];

    static {
        for (int b = 0; b < 256; b++) {
            int c = OTHER;
            if (b >= '0' && b <= '9') {
                c = DIGIT;
            } else if ((b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')) {
                c = HEX_LETTER;
            } else if (b == '-') {
                c = DASH;
            } else if (b == '/') {
                c = SLASH;
            } else if (b == '?' || b == '#') {
                c = QUERY;
            }
            CLASS[b] = (byte) c;
        }
    }

    /** {@link #looksLikeId} given the classes the segment holds (OR of {@link #CLASS}). */
    private static boolean isId(byte[] buf, int offset, int length, int seen) {
        if (seen == DIGIT) {
            return true;
        }
        if ((seen & OTHER) != 0 || (seen & DIGIT) == 0) {
            return false;
        }
        if ((seen & DASH) == 0) {
            return length >= MIN_HEX_ID_LENGTH;
        }
        return length == UUID_LENGTH && looksLikeId(buf, offset, length);
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
