package io.periscope.protocols.nats;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.Connection;
import io.periscope.protocols.FrameSkip;
import io.periscope.protocols.FramedParser;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import io.periscope.protocols.http1.TraceContext;
import org.agrona.DirectBuffer;

/**
 * NATS client protocol. The client's CONNECT, PUB, HPUB, SUB, UNSUB and PING and the server's MSG
 * and HMSG are records; method is the operation, resource the subject. PING pairs with PONG; with
 * {@code "verbose":true} in CONNECT every other client operation pairs with the {@code +OK} or
 * {@code -ERR} that acknowledges it, otherwise it is reported at once with zero duration. A
 * {@code -ERR} with nothing to answer is a record of its own. Headers of HPUB/HMSG are read for
 * trace context (traceparent, b3, uber-trace-id, sw8); payloads are skipped by counting.
 * INFO, the server's PING and the client's PONG are keep-alive chatter and make no record.
 */
public final class NatsParser extends FramedParser<NatsParser.State> {
    /** Attribute: the subject a reply is expected on (request/reply over NATS). */
    public static final String REPLY_TO = "messaging.nats.reply_to";
    /** Attribute: SkyWalking trace id from an sw8 header. */
    public static final String SW8_TRACE_ID = "periscope.sw8.trace_id";

    private static final int MAX_LINE_BYTES = 4096;
    private static final long MAX_PAYLOAD_BYTES = 64L * 1024 * 1024;
    private static final long K_ACK = 1;
    private static final long K_PING = 2;

    private static final byte[] CONNECT = "CONNECT".getBytes();
    private static final byte[] INFO = "INFO".getBytes();
    private static final byte[] PUB = "PUB".getBytes();
    private static final byte[] HPUB = "HPUB".getBytes();
    private static final byte[] SUB = "SUB".getBytes();
    private static final byte[] UNSUB = "UNSUB".getBytes();
    private static final byte[] MSG = "MSG".getBytes();
    private static final byte[] HMSG = "HMSG".getBytes();
    private static final byte[] PING = "PING".getBytes();
    private static final byte[] PONG = "PONG".getBytes();
    private static final byte[] OK = "+OK".getBytes();
    private static final byte[] ERR = "-ERR".getBytes();
    private static final byte[] VERBOSE = "\"verbose\":".getBytes();
    private static final byte[] TRACEPARENT = "traceparent".getBytes();
    private static final byte[] B3 = "b3".getBytes();
    private static final byte[] UBER = "uber-trace-id".getBytes();
    private static final byte[] SW8 = "sw8".getBytes();
    private static final byte[][] SERVER_ERRORS = {
        "'Stale Connection'".getBytes(), "'Maximum Connections Exceeded'".getBytes(), "'Slow Consumer'".getBytes(),
    };

    @Override
    public L7Protocol protocol() {
        return L7Protocol.NATS;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < 8) {
            return Inference.NO;
        }
        if (AsciiBytes.startsWith(buf, offset, length, INFO) && buf.getByte(offset + 4) == ' '
                && buf.getByte(offset + 5) == '{') {
            return Inference.RESPONSE;
        }
        if (AsciiBytes.startsWith(buf, offset, length, CONNECT) && buf.getByte(offset + 7) == ' '
                && length > 8 && buf.getByte(offset + 8) == '{') {
            return Inference.REQUEST;
        }
        return Inference.NO;
    }

    /** Per-connection state: payload bytes to skip per direction, verbose acknowledgements. */
    static final class State extends FrameSkip {
        boolean verbose;
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    protected int frame(Connection conn, State s, boolean requestSide, DirectBuffer buf, int pos, int end) {
        int lf = AsciiBytes.indexOfLf(buf, pos, end);
        if (lf < 0) {
            return end - pos > MAX_LINE_BYTES ? MALFORMED : WAIT;
        }
        int lineEnd = lf > pos && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        int sp = AsciiBytes.indexOf(buf, pos, lineEnd, (byte) ' ');
        int opEnd = sp < 0 ? lineEnd : sp;
        int opLen = opEnd - pos;
        long payload = requestSide ? clientOp(conn, s, buf, pos, opLen, lineEnd, lf + 1, end)
                : serverOp(conn, buf, pos, opLen, lineEnd, lf + 1, end);
        if (payload < 0) {
            return MALFORMED;
        }
        // The head is read; the rest of the message is passed over.
        s.add(requestSide, payload);
        return lf + 1 - pos;
    }

    /** One client line; returns the payload bytes (with their CRLF) that follow it, -1 when malformed. */
    private static long clientOp(Connection conn, State s, DirectBuffer buf, int pos, int opLen, int lineEnd,
            int next, int end) {
        long lineBytes = next - pos;
        if (opLen == 0) {
            return 0;
        }
        if (eq(buf, pos, opLen, PONG)) {
            return 0;
        }
        if (eq(buf, pos, opLen, PING)) {
            open(conn, buf, pos, opLen, K_PING, lineBytes);
            return 0;
        }
        if (eq(buf, pos, opLen, CONNECT)) {
            s.verbose = verbose(buf, pos + opLen, lineEnd);
            RequestLog log = open(conn, buf, pos, opLen, K_ACK, lineBytes);
            if (!s.verbose) {
                oneWay(conn, log);
            }
            return 0;
        }
        boolean hpub = eq(buf, pos, opLen, HPUB);
        if (hpub || eq(buf, pos, opLen, PUB)) {
            // PUB <subject> [reply-to] <#bytes> / HPUB <subject> [reply-to] <#header bytes> <#total bytes>
            int tokens = countTokens(buf, pos + opLen, lineEnd);
            int numbers = hpub ? 2 : 1;
            if (tokens < 1 + numbers || tokens > 2 + numbers) {
                return -1;
            }
            long total = numberToken(buf, pos + opLen, lineEnd, tokens - 1);
            long headerBytes = hpub ? numberToken(buf, pos + opLen, lineEnd, tokens - 2) : 0;
            if (total < 0 || total > MAX_PAYLOAD_BYTES || headerBytes < 0 || headerBytes > total) {
                return -1;
            }
            RequestLog log = open(conn, buf, pos, opLen, K_ACK, lineBytes + total + 2);
            subject(log, buf, pos + opLen, lineEnd, tokens == 2 + numbers ? 1 : -1);
            if (hpub) {
                headers(log, buf, next, (int) Math.min(end, next + headerBytes));
            }
            if (!s.verbose) {
                oneWay(conn, log);
            }
            return total + 2;
        }
        if (eq(buf, pos, opLen, SUB) || eq(buf, pos, opLen, UNSUB)) {
            RequestLog log = open(conn, buf, pos, opLen, K_ACK, lineBytes);
            if (opLen == SUB.length) {
                subject(log, buf, pos + opLen, lineEnd, -1);
            }
            if (!s.verbose) {
                oneWay(conn, log);
            }
            return 0;
        }
        // an operation the server will refuse with -ERR 'Unknown Protocol Operation'
        RequestLog log = open(conn, buf, pos, Math.min(opLen, RequestLog.METHOD_BYTES), K_ACK, lineBytes);
        if (!s.verbose) {
            oneWay(conn, log);
        }
        return 0;
    }

    private static long serverOp(Connection conn, DirectBuffer buf, int pos, int opLen, int lineEnd, int next,
            int end) {
        if (opLen == 0 || eq(buf, pos, opLen, INFO) || eq(buf, pos, opLen, PING)) {
            return 0;
        }
        if (eq(buf, pos, opLen, PONG)) {
            RequestLog log = conn.respondTo(K_PING, pos);
            if (log != null) {
                log.statusClass(StatusClass.OK).responseBytes(next - pos);
                conn.complete(log);
            }
            return 0;
        }
        if (eq(buf, pos, opLen, OK)) {
            RequestLog log = conn.respondTo(K_ACK, pos);
            if (log != null) {
                log.statusClass(StatusClass.OK).responseBytes(next - pos);
                conn.complete(log);
            }
            return 0;
        }
        if (eq(buf, pos, opLen, ERR)) {
            RequestLog log = conn.pendingByKey(K_ACK) != null ? conn.respondTo(K_ACK, pos) : null;
            boolean own = log == null;
            if (own) {
                log = open(conn, buf, pos, opLen, 0, 0);
            }
            int from = Math.min(lineEnd, pos + opLen + 1);
            log.errorMessage().set(buf, from, lineEnd - from);
            log.statusClass(StatusClass.CLIENT_ERROR);
            for (byte[] e : SERVER_ERRORS) {
                if (eq(buf, from, lineEnd - from, e)) {
                    log.statusClass(StatusClass.SERVER_ERROR);
                }
            }
            log.responseBytes(next - pos);
            if (own) {
                log.endNanos(log.startNanos());
            }
            conn.complete(log);
            return 0;
        }
        boolean hmsg = eq(buf, pos, opLen, HMSG);
        if (hmsg || eq(buf, pos, opLen, MSG)) {
            // MSG <subject> <sid> [reply-to] <#bytes> / HMSG <subject> <sid> [reply-to] <#hdr> <#total>
            int tokens = countTokens(buf, pos + opLen, lineEnd);
            int numbers = hmsg ? 2 : 1;
            if (tokens < 2 + numbers || tokens > 3 + numbers) {
                return -1;
            }
            long total = numberToken(buf, pos + opLen, lineEnd, tokens - 1);
            long headerBytes = hmsg ? numberToken(buf, pos + opLen, lineEnd, tokens - 2) : 0;
            if (total < 0 || total > MAX_PAYLOAD_BYTES || headerBytes < 0 || headerBytes > total) {
                return -1;
            }
            RequestLog log = open(conn, buf, pos, opLen, 0, next - pos + total + 2);
            subject(log, buf, pos + opLen, lineEnd, tokens == 3 + numbers ? 2 : -1);
            if (hmsg) {
                headers(log, buf, next, (int) Math.min(end, next + headerBytes));
            }
            oneWay(conn, log);
            return total + 2;
        }
        return -1;
    }

    private static RequestLog open(Connection conn, DirectBuffer buf, int pos, int opLen, long key, long bytes) {
        RequestLog log = conn.openRequest(key, pos);
        log.method().set(buf, pos, opLen);
        log.requestBytes(bytes);
        return log;
    }

    private static void oneWay(Connection conn, RequestLog log) {
        log.endNanos(log.startNanos()).statusClass(StatusClass.OK).responseBytes(0);
        conn.complete(log);
    }

    private static boolean eq(DirectBuffer buf, int pos, int len, byte[] word) {
        return len == word.length && AsciiBytes.startsWith(buf, pos, len, word);
    }

    private static boolean verbose(DirectBuffer buf, int from, int end) {
        for (int i = from; i + VERBOSE.length < end; i++) {
            if (buf.getByte(i) == '"' && AsciiBytes.startsWith(buf, i, end - i, VERBOSE)) {
                int v = i + VERBOSE.length;
                while (v < end && buf.getByte(v) == ' ') {
                    v++;
                }
                return v < end && buf.getByte(v) == 't';
            }
        }
        return false;
    }

    private static int countTokens(DirectBuffer buf, int from, int end) {
        int n = 0;
        boolean in = false;
        for (int i = from; i < end; i++) {
            boolean blank = AsciiBytes.isBlank(buf.getByte(i));
            if (!blank && !in) {
                n++;
            }
            in = !blank;
        }
        return n;
    }

    /** Start of token {@code index} (0-based) of the line part {@code [from, end)}. */
    private static int tokenStart(DirectBuffer buf, int from, int end, int index) {
        int n = -1;
        boolean in = false;
        for (int i = from; i < end; i++) {
            boolean blank = AsciiBytes.isBlank(buf.getByte(i));
            if (!blank && !in && ++n == index) {
                return i;
            }
            in = !blank;
        }
        return -1;
    }

    private static int tokenEnd(DirectBuffer buf, int start, int end) {
        int i = start;
        while (i < end && !AsciiBytes.isBlank(buf.getByte(i))) {
            i++;
        }
        return i;
    }

    private static long numberToken(DirectBuffer buf, int from, int end, int index) {
        int t = tokenStart(buf, from, end, index);
        return t < 0 ? -1 : AsciiBytes.parseDecimal(buf, t, tokenEnd(buf, t, end) - t);
    }

    private static void subject(RequestLog log, DirectBuffer buf, int from, int end, int replyIndex) {
        int t = tokenStart(buf, from, end, 0);
        if (t < 0) {
            return;
        }
        int e = tokenEnd(buf, t, end);
        log.resource().set(buf, t, e - t);
        log.endpoint().set(buf, t, e - t);
        if (replyIndex > 0) {
            int r = tokenStart(buf, from, end, replyIndex);
            TextField out = r < 0 ? null : log.addAttribute(REPLY_TO);
            if (out != null) {
                out.set(buf, r, tokenEnd(buf, r, end) - r);
            }
        }
    }

    /** The header block "NATS/1.0\r\nName: value\r\n...\r\n\r\n": trace context headers only. */
    private static void headers(RequestLog log, DirectBuffer buf, int from, int end) {
        int pos = AsciiBytes.indexOfLf(buf, from, end);
        while (pos >= 0 && pos + 1 < end) {
            int line = pos + 1;
            int lf = AsciiBytes.indexOfLf(buf, line, end);
            if (lf < 0) {
                return;
            }
            int lineEnd = lf > line && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            int colon = AsciiBytes.indexOf(buf, line, lineEnd, (byte) ':');
            if (colon > line) {
                int v = colon + 1;
                while (v < lineEnd && AsciiBytes.isBlank(buf.getByte(v))) {
                    v++;
                }
                int nameLen = colon - line;
                int len = lineEnd - v;
                if (AsciiBytes.equalsIgnoreCase(buf, line, nameLen, TRACEPARENT)) {
                    TraceContext.traceparent(log, buf, v, len);
                } else if (AsciiBytes.equalsIgnoreCase(buf, line, nameLen, B3)) {
                    TraceContext.b3Single(log, buf, v, len);
                } else if (AsciiBytes.equalsIgnoreCase(buf, line, nameLen, UBER)) {
                    TraceContext.uber(log, buf, v, len);
                } else if (AsciiBytes.equalsIgnoreCase(buf, line, nameLen, SW8)) {
                    TraceContext.sw8(log, buf, v, len, SW8_TRACE_ID);
                }
            }
            pos = lf;
        }
    }
}
