package io.periscope.protocols.redis;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.Connection;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolParser;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import org.agrona.DirectBuffer;

/**
 * Redis RESP2 and RESP3. A request is an array of bulk strings (or an inline command line): the
 * first is the command (method), the second the key (resource); with obfuscation on, nothing
 * after the key is kept. A reply of any type ends the oldest pending request, an error reply
 * ({@code -ERR ...}, RESP3 blob errors) fills the error message. Values of any size are skipped
 * by counting, across messages; RESP3 push messages are not replies and pair with nothing.
 */
public final class RedisParser implements ProtocolParser {
    private static final int MAX_DEPTH = 16;
    /** Digits read in the one-pass number path: as many as parseDecimal accepts. */
    private static final int MAX_FAST_DIGITS = 18;
    private static final long NOT_READ = -2;
    private static final int MAX_ARGS = 1 << 20;
    private static final int MAX_INLINE_BYTES = 4096;
    private static final long MAX_BULK_BYTES = 512L * 1024 * 1024;
    private static final int MAX_INFER_ARGS = 64;
    private static final int ERROR_PREVIEW_BYTES = 256;
    private static final byte[] HTTP_VERSION = " HTTP/1.".getBytes();
    private static final byte[][] SERVER_ERRORS = {
        "OOM".getBytes(), "LOADING".getBytes(), "BUSY".getBytes(), "MASTERDOWN".getBytes(),
        "MISCONF".getBytes(), "READONLY".getBytes(), "CLUSTERDOWN".getBytes(), "TRYAGAIN".getBytes(),
    };

    @Override
    public L7Protocol protocol() {
        return L7Protocol.REDIS;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < 4) {
            return Inference.NO;
        }
        byte first = buf.getByte(offset);
        int lf = AsciiBytes.indexOfLf(buf, offset, offset + Math.min(length, 32));
        if (lf < 2 || buf.getByte(lf - 1) != '\r') {
            return Inference.NO;
        }
        if (first == '*') {
            long n = AsciiBytes.parseDecimal(buf, offset + 1, lf - 1 - offset - 1);
            if (n <= 0 || n > MAX_INFER_ARGS || lf + 1 >= offset + length || buf.getByte(lf + 1) != '$') {
                return Inference.NO;
            }
            int lf2 = AsciiBytes.indexOfLf(buf, lf + 1, offset + Math.min(length, lf + 1 - offset + 16));
            if (lf2 < 0 || buf.getByte(lf2 - 1) != '\r') {
                return Inference.NO;
            }
            long cmdLen = AsciiBytes.parseDecimal(buf, lf + 2, lf2 - 1 - lf - 2);
            if (cmdLen <= 0 || cmdLen > 32) {
                return Inference.NO;
            }
            int cmd = lf2 + 1;
            if (cmd + cmdLen > offset + length) {
                return portHint ? Inference.REQUEST : Inference.NO;
            }
            for (int i = 0; i < cmdLen; i++) {
                byte b = buf.getByte(cmd + i);
                if (!((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || b == '_' || b == '-' || b == '|')) {
                    return Inference.NO;
                }
            }
            return Inference.REQUEST;
        }
        if (portHint && first >= 'A' && first <= 'z' && inlineCommand(buf, offset, lf - 1)
                && !endsWithHttpVersion(buf, offset, lf - 1)) {
            return Inference.REQUEST;
        }
        if (portHint && (first == '+' || first == '-' || first == ':' || first == '$')) {
            // replies are too plain to recognise without the port saying so
            return Inference.RESPONSE;
        }
        return Inference.NO;
    }

    /** "GET / HTTP/1.1" is HTTP even on the Redis port. */
    private static boolean endsWithHttpVersion(DirectBuffer buf, int offset, int end) {
        // the line ends with " HTTP/1.x" (end is the CR)
        int at = end - HTTP_VERSION.length - 1;
        return at > offset && AsciiBytes.startsWith(buf, at, HTTP_VERSION.length, HTTP_VERSION);
    }

    private static boolean inlineCommand(DirectBuffer buf, int offset, int end) {
        for (int i = offset; i < end; i++) {
            byte b = buf.getByte(i);
            if (b == ' ') {
                return i > offset;
            }
            if (!((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z'))) {
                return false;
            }
        }
        return end > offset;
    }

    /** Per-connection framing state of the command and the reply in flight. */
    static final class State {
        long reqArgsLeft;
        int reqArgIndex;
        long reqSkip;
        long reqBytes;
        RequestLog reqLog;
        int depth;
        final long[] remaining = new long[MAX_DEPTH];
        long respSkip;
        long respBytes;
        RequestLog respLog;
        boolean outOfBand;
        boolean inReply;
        /** The value {@link #digits} read last. */
        long digitsValue;
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    public void reset(Object state, boolean requestSide) {
        State s = (State) state;
        if (requestSide) {
            s.reqArgsLeft = 0;
            s.reqArgIndex = 0;
            s.reqSkip = 0;
            s.reqBytes = 0;
            s.reqLog = null;
        } else {
            s.depth = 0;
            s.respSkip = 0;
            s.respBytes = 0;
            s.respLog = null;
            s.outOfBand = false;
            s.inReply = false;
        }
    }

    @Override
    public void skip(Connection conn, boolean requestSide, long missingBytes) {
        State s = (State) conn.state();
        if (requestSide) {
            if (s.reqSkip >= missingBytes && s.reqSkip > 0) {
                s.reqSkip -= missingBytes;
                s.reqBytes += missingBytes;
                if (s.reqSkip == 0 && s.reqArgsLeft == 0) {
                    endRequest(conn, s);
                }
                return;
            }
            reset(s, true);
        } else {
            if (s.respSkip >= missingBytes && s.respSkip > 0) {
                s.respSkip -= missingBytes;
                s.respBytes += missingBytes;
                if (s.respSkip == 0) {
                    elementDone(conn, s);
                }
                return;
            }
            reset(s, false);
        }
    }

    @Override
    public int parse(Connection conn, boolean requestSide, DirectBuffer buf, int offset, int length) {
        State s = (State) conn.state();
        int pos = requestSide ? parseRequests(conn, s, buf, offset, offset + length)
                : parseReplies(conn, s, buf, offset, offset + length);
        if (pos < 0) {
            conn.parseError();
            reset(s, requestSide);
            return length;
        }
        return pos - offset;
    }

    // ---- commands ----

    private int parseRequests(Connection conn, State s, DirectBuffer buf, int pos, int end) {
        while (pos < end) {
            if (s.reqSkip > 0) {
                long n = Math.min(s.reqSkip, end - pos);
                s.reqSkip -= n;
                s.reqBytes += n;
                pos += (int) n;
                if (s.reqSkip == 0 && s.reqArgsLeft == 0) {
                    endRequest(conn, s);
                }
                continue;
            }
            // every read is inside [pos, end), which lies in the buffer (the engine's guarantee)
            byte type = AsciiBytes.byteAt(buf, pos);
            // "*<n>\r\n" and "$<n>\r\n" are most lines of a command: read the number as the line
            // is scanned, instead of finding the line feed and then reading the number again
            long number = NOT_READ;
            int lf = type == '*' || type == '$' ? countLine(buf, pos, end, s) : -1;
            if (lf >= 0) {
                number = s.digitsValue;
            }
            if (lf < 0) {
                lf = AsciiBytes.indexOfLf(buf, pos, end);
                if (lf < 0) {
                    return end - pos > MAX_INLINE_BYTES ? -1 : pos;
                }
            }
            int lineEnd = lf > pos && AsciiBytes.byteAt(buf, lf - 1) == '\r' ? lf - 1 : lf;
            if (s.reqArgsLeft == 0) {
                if (type != '*') {
                    if (lineEnd == pos) {
                        pos = lf + 1;
                        continue;
                    }
                    inlineCommand(conn, buf, pos, lineEnd, lf + 1 - pos);
                    pos = lf + 1;
                    continue;
                }
                long n = number != NOT_READ ? number : AsciiBytes.parseDecimal(buf, pos + 1, lineEnd - pos - 1);
                if (n <= 0 || n > MAX_ARGS) {
                    return -1;
                }
                s.reqLog = conn.openRequest(0, pos);
                s.reqArgsLeft = n;
                s.reqArgIndex = 0;
                s.reqBytes = lf + 1 - pos;
                pos = lf + 1;
                continue;
            }
            if (type != '$') {
                return -1;
            }
            long len = number != NOT_READ ? number : AsciiBytes.parseDecimal(buf, pos + 1, lineEnd - pos - 1);
            if (len < 0 || len > MAX_BULK_BYTES) {
                return -1;
            }
            int data = lf + 1;
            int idx = s.reqArgIndex;
            boolean keep = idx <= 1 || !conn.obfuscate();
            if (keep && data + len + 2 > end && len + 2 + (data - pos) <= conn.config().maxCarryBytes()) {
                // wait for the whole argument: command and key are short
                return pos;
            }
            RequestLog log = s.reqLog;
            boolean live = log != null && conn.isPending(log);
            int have = (int) Math.min(len, end - data);
            if (live && keep) {
                if (idx == 0) {
                    upper(log.method(), buf, data, Math.min(have, RequestLog.METHOD_BYTES));
                } else {
                    if (idx > 1) {
                        log.resource().append((byte) ' ');
                    }
                    log.resource().append(buf, data, have);
                }
            }
            s.reqArgIndex++;
            s.reqArgsLeft--;
            if (len + 2 <= end - data) {
                // the whole argument is here: past it now, not by another turn through the skip
                int next = data + (int) len + 2;
                s.reqBytes += next - pos;
                pos = next;
                if (s.reqArgsLeft == 0) {
                    endRequest(conn, s);
                }
                continue;
            }
            s.reqBytes += data - pos;
            s.reqSkip = len + 2;
            pos = data;
        }
        return pos;
    }

    /**
     * A "*<n>\r\n" or "$<n>\r\n" line at {@code pos} (its type byte already checked): the index of
     * its line feed with n left in {@code s.digitsValue}, read as the line is scanned; -1 when the
     * line is anything else or is not whole in [pos, end), for the general line reader.
     */
    private static int countLine(DirectBuffer buf, int pos, int end, State s) {
        int i = digits(buf, pos + 1, Math.min(end, pos + 1 + MAX_FAST_DIGITS), s);
        if (i > pos + 1 && i + 1 < end && AsciiBytes.byteAt(buf, i) == '\r'
                && AsciiBytes.byteAt(buf, i + 1) == '\n') {
            return i + 1;
        }
        return -1;
    }

    /**
     * Reads the decimal digits at {@code from} (at most up to {@code limit}) into
     * {@code s.digitsValue}; returns the index after them. The first two digits are read in
     * straight-line code, since nearly every count and length has one or two: a plain loop is
     * what C2 unrolls (pre, main and post loops) for the one or two turns it takes.
     */
    private static int digits(DirectBuffer buf, int from, int limit, State s) {
        int i = from;
        long v = 0;
        if (i < limit) {
            int d = AsciiBytes.byteAt(buf, i) - '0';
            if (d >= 0 && d <= 9) {
                v = d;
                i++;
                if (i < limit) {
                    d = AsciiBytes.byteAt(buf, i) - '0';
                    if (d >= 0 && d <= 9) {
                        v = v * 10 + d;
                        i++;
                        while (i < limit) {
                            d = AsciiBytes.byteAt(buf, i) - '0';
                            if (d < 0 || d > 9) {
                                break;
                            }
                            v = v * 10 + d;
                            i++;
                        }
                    }
                }
            }
        }
        s.digitsValue = v;
        return i;
    }

    private static void endRequest(Connection conn, State s) {
        RequestLog log = s.reqLog;
        s.reqLog = null;
        if (log != null && conn.isPending(log)) {
            log.requestBytes(s.reqBytes);
        }
    }

    /** A telnet-style command line: {@code PING} or {@code GET key}. */
    private static void inlineCommand(Connection conn, DirectBuffer buf, int pos, int lineEnd, int bytes) {
        RequestLog log = conn.openRequest(0, pos);
        int sp = AsciiBytes.indexOf(buf, pos, lineEnd, (byte) ' ');
        int cmdEnd = sp < 0 ? lineEnd : sp;
        upper(log.method(), buf, pos, Math.min(cmdEnd - pos, RequestLog.METHOD_BYTES));
        if (sp >= 0) {
            int keyEnd = AsciiBytes.indexOf(buf, sp + 1, lineEnd, (byte) ' ');
            int stop = conn.obfuscate() && keyEnd >= 0 ? keyEnd : lineEnd;
            log.resource().set(buf, sp + 1, stop - sp - 1);
        }
        log.requestBytes(bytes);
    }

    /**
     * Copies the command upper-cased; the bytes lie inside the bytes being parsed. One pass from
     * the buffer: a command is a few bytes, not worth a bulk copy and then a second pass.
     */
    private static void upper(TextField out, DirectBuffer buf, int offset, int length) {
        out.clear();
        for (int i = 0; i < length; i++) {
            byte b = AsciiBytes.byteAt(buf, offset + i);
            out.append(b >= 'a' && b <= 'z' ? (byte) (b - ('a' - 'A')) : b);
        }
    }

    // ---- replies ----

    private int parseReplies(Connection conn, State s, DirectBuffer buf, int pos, int end) {
        while (pos < end) {
            if (s.respSkip > 0) {
                long n = Math.min(s.respSkip, end - pos);
                s.respSkip -= n;
                s.respBytes += n;
                pos += (int) n;
                if (s.respSkip == 0) {
                    elementDone(conn, s);
                }
                continue;
            }
            // every read is inside [pos, end), which lies in the buffer (the engine's guarantee)
            byte type = AsciiBytes.byteAt(buf, pos);
            // "$<n>\r\n" and "*<n>\r\n" as in parseRequests
            long number = NOT_READ;
            int lf = type == '$' || type == '*' ? countLine(buf, pos, end, s) : -1;
            if (lf >= 0) {
                number = s.digitsValue;
            }
            if (lf < 0) {
                lf = AsciiBytes.indexOfLf(buf, pos, end);
                if (lf < 0) {
                    return end - pos > MAX_INLINE_BYTES ? -1 : pos;
                }
            }
            int lineEnd = lf > pos && AsciiBytes.byteAt(buf, lf - 1) == '\r' ? lf - 1 : lf;
            if (!s.inReply) {
                s.inReply = true;
                s.respBytes = 0;
                s.outOfBand = type == '>' || type == '|';
                s.respLog = s.outOfBand ? null : conn.respondFirst(pos);
                if (s.respLog != null) {
                    s.respLog.statusClass(StatusClass.OK);
                    if (type == '-') {
                        error(s.respLog, buf, pos + 1, lineEnd - pos - 1);
                    }
                }
            }
            s.respBytes += lf + 1 - pos;
            int next = lf + 1;
            switch (type) {
                case '+': case '-': case ':': case '_': case ',': case '#': case '(':
                    pos = next;
                    elementDone(conn, s);
                    break;
                case '$': case '!': case '=': {
                    long len = number != NOT_READ ? number
                            : lineEnd - pos == 3 && buf.getByte(pos + 1) == '-' && buf.getByte(pos + 2) == '1'
                            ? -1 : AsciiBytes.parseDecimal(buf, pos + 1, lineEnd - pos - 1);
                    pos = next;
                    if (len < 0) {
                        if (lineEnd - pos == 0 && buf.getByte(pos - 2) != '1') {
                            return -1;
                        }
                        elementDone(conn, s);
                    } else if (len > MAX_BULK_BYTES) {
                        return -1;
                    } else {
                        if (type == '!' && s.depth == 0 && s.respLog != null) {
                            error(s.respLog, buf, pos, (int) Math.min(len, Math.min(end - pos, ERROR_PREVIEW_BYTES)));
                        }
                        if (len + 2 <= end - pos) {
                            // the whole value is here: past it now, not by another turn through the skip
                            s.respBytes += len + 2;
                            pos += (int) len + 2;
                            elementDone(conn, s);
                        } else {
                            s.respSkip = len + 2;
                        }
                    }
                    break;
                }
                case '*': case '~': case '>': case '%': case '|': {
                    boolean nil = lineEnd - pos == 3 && buf.getByte(pos + 1) == '-' && buf.getByte(pos + 2) == '1';
                    long n = number != NOT_READ ? number
                            : nil ? 0 : AsciiBytes.parseDecimal(buf, pos + 1, lineEnd - pos - 1);
                    if (n < 0 || n > MAX_ARGS) {
                        return -1;
                    }
                    if (type == '%' || type == '|') {
                        n *= 2;
                    }
                    pos = next;
                    if (n == 0) {
                        elementDone(conn, s);
                    } else {
                        if (s.depth == MAX_DEPTH) {
                            return -1;
                        }
                        s.remaining[s.depth++] = n;
                    }
                    break;
                }
                default:
                    return -1;
            }
        }
        return pos;
    }

    /** One element ended: pop finished aggregates; when the top level ends, the reply is done. */
    private static void elementDone(Connection conn, State s) {
        while (s.depth > 0) {
            if (--s.remaining[s.depth - 1] > 0) {
                return;
            }
            s.depth--;
        }
        RequestLog log = s.respLog;
        boolean attribute = s.outOfBand && s.respLog == null;
        s.respLog = null;
        s.inReply = false;
        if (log != null && conn.isPending(log)) {
            log.responseBytes(s.respBytes);
            conn.complete(log);
        } else if (attribute) {
            // RESP3 attribute or push: the reply (if any) follows as its own top-level value
            s.outOfBand = false;
        }
    }

    private static void error(RequestLog log, DirectBuffer buf, int offset, int length) {
        log.errorMessage().set(buf, offset, length);
        log.statusClass(StatusClass.CLIENT_ERROR);
        for (byte[] prefix : SERVER_ERRORS) {
            if (AsciiBytes.startsWith(buf, offset, length, prefix)) {
                log.statusClass(StatusClass.SERVER_ERROR);
                break;
            }
        }
    }
}
