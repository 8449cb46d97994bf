package io.periscope.protocols;

import org.agrona.DirectBuffer;

/**
 * SQL text for request logs: the statement's leading keyword (the method) and its text with
 * literals replaced by {@code ?} (strings, numbers, hex and dollar-quoted constants), so that
 * values such as passwords or personal data never leave the node and statements group well.
 * Identifiers ("quoted" or `backticked`) and comments are kept as they are.
 */
public final class SqlText {
    private static final int MAX_KEYWORD_BYTES = 16;

    private SqlText() {
    }

    /** Writes the first keyword (upper-cased: SELECT, INSERT, WITH, ...) of the statement into {@code out}. */
    public static void keyword(DirectBuffer buf, int offset, int length, TextField out) {
        out.clear();
        int i = offset;
        int end = offset + length;
        while (i < end) {
            byte b = buf.getByte(i);
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '(' || b == ';') {
                i++;
            } else if (b == '-' && i + 1 < end && buf.getByte(i + 1) == '-') {
                while (i < end && buf.getByte(i) != '\n') {
                    i++;
                }
            } else if (b == '/' && i + 1 < end && buf.getByte(i + 1) == '*') {
                i += 2;
                while (i + 1 < end && !(buf.getByte(i) == '*' && buf.getByte(i + 1) == '/')) {
                    i++;
                }
                i += 2;
            } else {
                break;
            }
        }
        for (int n = 0; i < end && n < MAX_KEYWORD_BYTES; i++, n++) {
            byte b = buf.getByte(i);
            if (b >= 'a' && b <= 'z') {
                b -= 'a' - 'A';
            } else if (b < 'A' || b > 'Z') {
                break;
            }
            out.append(b);
        }
    }

    /**
     * Writes the statement into {@code out}, with literals replaced by {@code ?} when
     * {@code obfuscate} (trailing NULs and whitespace dropped either way).
     */
    public static void write(DirectBuffer buf, int offset, int length, TextField out, boolean obfuscate) {
        out.clear();
        int end = offset + length;
        while (offset < end) {
            byte b = buf.getByte(offset);
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                break;
            }
            offset++;
        }
        while (end > offset) {
            byte b = buf.getByte(end - 1);
            if (b != 0 && b != ' ' && b != '\n' && b != '\r' && b != '\t' && b != ';') {
                break;
            }
            end--;
        }
        if (!obfuscate) {
            out.append(buf, offset, end - offset);
            return;
        }
        int i = offset;
        byte prev = ' ';
        while (i < end && out.length() < out.capacity()) {
            byte b = buf.getByte(i);
            if (b == '\'') {
                i = skipQuoted(buf, i, end, (byte) '\'');
                out.append((byte) '?');
                prev = '?';
                continue;
            }
            if (b == '"' || b == '`') {
                int close = skipQuoted(buf, i, end, b);
                out.append(buf, i, close - i);
                i = close;
                prev = b;
                continue;
            }
            if (b == '$' && !isWord(prev)) {
                int close = dollarQuoted(buf, i, end);
                if (close > 0) {
                    out.append((byte) '?');
                    i = close;
                    prev = '?';
                    continue;
                }
            }
            if (b == '-' && i + 1 < end && buf.getByte(i + 1) == '-') {
                int nl = i;
                while (nl < end && buf.getByte(nl) != '\n') {
                    nl++;
                }
                out.append(buf, i, nl - i);
                i = nl;
                continue;
            }
            if (b >= '0' && b <= '9' && !isWord(prev)) {
                i++;
                while (i < end) {
                    byte c = buf.getByte(i);
                    boolean more = (c >= '0' && c <= '9') || c == '.' || c == 'x' || c == 'X'
                            || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
                            || ((c == '+' || c == '-') && (prevIsExponent(buf, i)));
                    if (!more) {
                        break;
                    }
                    i++;
                }
                out.append((byte) '?');
                prev = '?';
                continue;
            }
            out.append(b);
            prev = b;
            i++;
        }
        if (i < end) {
            out.append(buf, i, 1);
        }
    }

    private static boolean prevIsExponent(DirectBuffer buf, int i) {
        byte p = buf.getByte(i - 1);
        return p == 'e' || p == 'E';
    }

    private static boolean isWord(byte b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' || b == '$'
                || b == '.' || b == '@' || b == '"' || b == '`' || b < 0;
    }

    /** The offset after the quoted run starting at {@code i} (doubled quotes and backslashes escape). */
    private static int skipQuoted(DirectBuffer buf, int i, int end, byte quote) {
        i++;
        while (i < end) {
            byte c = buf.getByte(i);
            if (c == '\\' && quote == '\'') {
                i += 2;
                continue;
            }
            if (c == quote) {
                if (i + 1 < end && buf.getByte(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return end;
    }

    /** For {@code $tag$ ... $tag$}: the offset after the closing tag, or -1 when not one. */
    private static int dollarQuoted(DirectBuffer buf, int i, int end) {
        int tagEnd = i + 1;
        while (tagEnd < end) {
            byte c = buf.getByte(tagEnd);
            if (c == '$') {
                break;
            }
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) {
                return -1;
            }
            tagEnd++;
        }
        if (tagEnd >= end) {
            return -1;
        }
        int tagLen = tagEnd - i + 1;
        for (int j = tagEnd + 1; j + tagLen <= end; j++) {
            boolean match = true;
            for (int k = 0; k < tagLen; k++) {
                if (buf.getByte(j + k) != buf.getByte(i + k)) {
                    match = false;
                    break;
                }
            }
            if (match) {
                return j + tagLen;
            }
        }
        return end;
    }
}
