package io.periscope.protocols.http1;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.Connection;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolParser;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.0 and 1.1: request and status lines, the framing headers (Content-Length,
 * Transfer-Encoding: chunked) and, unless shallow, Host, User-Agent, X-Request-ID and the trace
 * context headers (traceparent, b3 single and multi, uber-trace-id, sw8). Bodies are skipped by
 * counting, across as many messages as they span; pipelined requests pair in order; 1xx
 * responses (100 Continue) do not end a request. Authorization and cookies are never read.
 */
public final class Http1Parser implements ProtocolParser {
    /** Attribute holding the SkyWalking trace id, which is not a 16-byte id. */
    public static final String SW8_TRACE_ID = "periscope.sw8.trace_id";

    private static final byte[] HTTP_SLASH = bytes("HTTP/1.");
    private static final byte[][] METHODS = {
        bytes("GET"), bytes("POST"), bytes("PUT"), bytes("DELETE"), bytes("HEAD"), bytes("OPTIONS"),
        bytes("PATCH"), bytes("CONNECT"), bytes("TRACE"),
    };
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    /** Each method followed by its space, as the low bytes of a little-endian word, and its mask. */
    private static final long[] METHOD_WORDS = new long[METHODS.length];
    private static final long[] METHOD_MASKS = new long[METHODS.length];

    static {
        for (int i = 0; i < METHODS.length; i++) {
            byte[] m = METHODS[i];
            long w = (long) ' ' << (m.length * Byte.SIZE);
            for (int b = m.length - 1; b >= 0; b--) {
                w |= (long) (m[b] & 0xFF) << (b * Byte.SIZE);
            }
            METHOD_WORDS[i] = w;
            METHOD_MASKS[i] = m.length + 1 >= Long.BYTES ? -1L : (1L << ((m.length + 1) * Byte.SIZE)) - 1;
        }
    }

    private static final HeaderName CONTENT_LENGTH = new HeaderName("content-length");
    private static final HeaderName TRANSFER_ENCODING = new HeaderName("transfer-encoding");
    private static final byte[] CHUNKED = bytes("chunked");
    private static final HeaderName HOST = new HeaderName("host");
    private static final HeaderName USER_AGENT = new HeaderName("user-agent");
    private static final HeaderName TRACEPARENT = new HeaderName("traceparent");
    private static final HeaderName B3 = new HeaderName("b3");
    private static final HeaderName X_B3_TRACE_ID = new HeaderName("x-b3-traceid");
    private static final HeaderName X_B3_SPAN_ID = new HeaderName("x-b3-spanid");
    private static final HeaderName X_B3_SAMPLED = new HeaderName("x-b3-sampled");
    private static final HeaderName UBER_TRACE_ID = new HeaderName("uber-trace-id");
    private static final HeaderName SW8 = new HeaderName("sw8");
    private static final HeaderName X_REQUEST_ID = new HeaderName("x-request-id");

    /**
     * First bytes (either case) of the request header lines a full parse reads: the framing
     * headers (c, t: also traceparent), Host, User-Agent and uber-trace-id, b3, sw8, x-request-id
     * and x-b3-*. Other lines (Accept*, Cookie, Referer...) are skipped unread, several per word.
     */
    private static final boolean[] FULL_FIRST = new boolean[256];

    static {
        for (char c : "cthubsx".toCharArray()) {
            FULL_FIRST[c] = true;
            FULL_FIRST[Character.toUpperCase(c)] = true;
        }
    }

    private static final int MAX_METHOD_BYTES = 8;
    private static final long LOWER_CASE_WORD = 0x2020202020202020L;
    private static final long LF_WORD = 0x0A0A0A0A0A0A0A0AL;
    private static final long LOW7_WORD = 0x7F7F7F7F7F7F7F7FL;
    private static final int STATUS_CONTINUE_FIRST = 100;
    private static final int STATUS_SWITCHING = 101;
    private static final int STATUS_OK_FIRST = 200;
    private static final int STATUS_NO_CONTENT = 204;
    private static final int STATUS_NOT_MODIFIED = 304;
    private static final int STATUS_CLIENT_ERROR_FIRST = 400;
    private static final int STATUS_SERVER_ERROR_FIRST = 500;
    private static final int STATUS_MAX = 599;
    private static final long UNTIL_CLOSE = Long.MAX_VALUE;
    private static final int TRACEPARENT_LENGTH = 55;
    private static final int MAX_CHUNK_LINE_BYTES = 1024;

    // trace context priority: a stronger source is not overwritten by a weaker one
    private static final int PRIO_NONE = 0;
    private static final int PRIO_SW8 = 1;
    private static final int PRIO_UBER = 2;
    private static final int PRIO_B3 = 3;
    private static final int PRIO_TRACEPARENT = 4;

    @Override
    public L7Protocol protocol() {
        return L7Protocol.HTTP1;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp) {
            return Inference.NO;
        }
        if (AsciiBytes.startsWith(buf, offset, length, HTTP_SLASH) && length >= 12
                && statusCode(buf, offset + 9, length - 9) >= 0) {
            return Inference.RESPONSE;
        }
        int sp = methodEnd(buf, offset, length);
        if (sp < 0) {
            return Inference.NO;
        }
        int lf = AsciiBytes.indexOfLf(buf, offset, offset + length);
        int lineEnd = lf < 0 ? offset + length : lf;
        // the request line must end with HTTP/1.x when we have it all
        if (lf >= 0) {
            int e = lf > offset && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            if (e - offset < HTTP_SLASH.length + 1 || !AsciiBytes.startsWith(buf, e - 8, 8, HTTP_SLASH)) {
                return Inference.NO;
            }
        }
        return lineEnd > sp + 1 && buf.getByte(sp + 1) != ' ' ? Inference.REQUEST : Inference.NO;
    }

    /** The framing of the message in flight in one direction. */
    static final class Side {
        /** Body bytes still to skip. */
        long skip;
        boolean chunked;
        /** In chunked mode: bytes of chunk data (plus its CRLF) still to skip. */
        long chunkSkip;
        boolean trailers;
        /** Inside a head whose start line was read but whose empty line has not come yet. */
        boolean inHead;
        long headBytes;
        int tracePrio;
        /** The record being filled; checked against the pending list before every use. */
        RequestLog current;
        long bodyBytes;
        /** Content-Length of the head in flight; -1 none. */
        long contentLength;
    }

    /**
     * State of one connection: the framing per direction (0 request, 1 response), one object
     * each, so a parse loads its side once instead of indexing ten per-direction arrays.
     */
    static final class State {
        final Side[] side = {new Side(), new Side()};
        /** The response head in flight is a 1xx (100 Continue): not the answer. */
        boolean informational;
        int status;
        /** Where {@link #headers} stopped when the head was incomplete. */
        int stop;
        boolean upgraded;
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    public void reset(Object state, boolean requestSide) {
        State s = (State) state;
        int d = requestSide ? 0 : 1;
        Side h = s.side[d];
        h.skip = 0;
        h.chunked = false;
        h.chunkSkip = 0;
        h.trailers = false;
        h.inHead = false;
        h.current = null;
        h.bodyBytes = 0;
        s.upgraded = false;
    }

    @Override
    public void skip(Connection conn, boolean requestSide, long missingBytes) {
        State s = (State) conn.state();
        int d = requestSide ? 0 : 1;
        Side h = s.side[d];
        if (s.upgraded) {
            return;
        }
        if (!h.inHead && h.skip >= missingBytes && !h.chunked) {
            if (h.skip != UNTIL_CLOSE) {
                h.skip -= missingBytes;
                h.bodyBytes += missingBytes;
                if (h.skip == 0) {
                    endBody(conn, s, d);
                }
            }
            return;
        }
        // lost our place inside a head or a chunked body: report what we have and start over
        endBody(conn, s, d);
        reset(s, requestSide);
    }

    @Override
    public int parse(Connection conn, boolean requestSide, DirectBuffer buf, int offset, int length) {
        State s = (State) conn.state();
        if (s.upgraded) {
            return length;
        }
        int d = requestSide ? 0 : 1;
        Side h = s.side[d];
        int pos = offset;
        int end = offset + length;
        while (pos < end) {
            if (h.skip > 0) {
                if (h.skip == UNTIL_CLOSE) {
                    return length;
                }
                long n = Math.min(h.skip, end - pos);
                h.skip -= n;
                h.bodyBytes += n;
                pos += (int) n;
                if (h.skip == 0) {
                    endBody(conn, s, d);
                }
                continue;
            }
            if (h.inHead) {
                RequestLog log = h.current;
                if (log == null || !conn.isPending(log)) {
                    log = conn.scratchRecord();
                }
                int headEnd = headers(conn, s, log, buf, pos, end, requestSide);
                if (headEnd == 0) {
                    // keep only the incomplete line for the next bytes
                    h.headBytes += s.stop - pos;
                    return s.stop - offset;
                }
                if (headEnd < 0) {
                    conn.parseError();
                    reset(s, requestSide);
                    return length;
                }
                h.headBytes += headEnd - pos;
                h.inHead = false;
                pos = headEnd;
                if (requestSide) {
                    endRequestHead(s, log);
                } else {
                    endResponseHead(conn, s, log);
                }
                continue;
            }
            if (h.chunked) {
                int next = skipChunks(conn, s, d, buf, pos, end);
                if (next < 0) {
                    return length;
                }
                if (next == pos) {
                    return pos - offset;
                }
                pos = next;
                continue;
            }
            int next = requestSide ? parseRequestLine(conn, s, buf, pos, end)
                    : parseStatusLine(conn, s, buf, pos, end);
            if (next == pos) {
                // incomplete start line: keep it for the next bytes
                return pos - offset;
            }
            if (next < 0) {
                conn.parseError();
                reset(s, requestSide);
                return length;
            }
            pos = next;
        }
        return length;
    }

    // ---- request ----

    /** Reads a request line at {@code pos}; the position after it, pos if incomplete, -1 if not HTTP. */
    private int parseRequestLine(Connection conn, State s, DirectBuffer buf, int pos, int end) {
        int methodEnd = methodEnd(buf, pos, end - pos);
        if (methodEnd < 0) {
            return end - pos < MAX_METHOD_BYTES && isUpperToken(buf, pos, end) ? pos : -1;
        }
        int lf = AsciiBytes.indexOfLf(buf, pos, end);
        if (lf < 0) {
            return pos;
        }
        int lineEnd = lf > pos && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        int uriStart = methodEnd + 1;
        int uriEnd = lineEnd - HTTP_SLASH.length - 2;
        if (uriEnd <= uriStart || buf.getByte(uriEnd) != ' '
                || !AsciiBytes.startsWith(buf, uriEnd + 1, 8, HTTP_SLASH)) {
            return -1;
        }
        RequestLog log = conn.openRequest(0, pos);
        log.method().set(buf, pos, methodEnd - pos);
        log.version().set(buf, uriEnd + 6, 3);
        log.resource().set(buf, uriStart, uriEnd - uriStart);
        conn.endpointRule().apply(log.resource().array(), 0, log.resource().length(), log.endpoint());
        beginHead(s, 0, log, lf + 1 - pos);
        return lf + 1;
    }

    private static void beginHead(State s, int d, RequestLog log, int lineBytes) {
        Side h = s.side[d];
        h.inHead = true;
        h.current = log;
        h.headBytes = lineBytes;
        h.contentLength = -1;
        h.chunked = false;
        h.trailers = false;
        h.chunkSkip = 0;
        h.tracePrio = PRIO_NONE;
    }

    private static void endRequestHead(State s, RequestLog log) {
        Side h = s.side[0];
        h.bodyBytes = 0;
        if (h.chunked) {
            log.requestBytes(h.headBytes);
        } else {
            long body = Math.max(0, h.contentLength);
            log.requestBytes(h.headBytes + body);
            h.skip = body;
        }
    }

    // ---- response ----

    private int parseStatusLine(Connection conn, State s, DirectBuffer buf, int pos, int end) {
        int avail = end - pos;
        if (avail < 12) {
            return isPrefixOf(buf, pos, avail, HTTP_SLASH) ? pos : -1;
        }
        if (!AsciiBytes.startsWith(buf, pos, avail, HTTP_SLASH)) {
            return -1;
        }
        int status = statusCode(buf, pos + 9, avail - 9);
        if (status < 0) {
            return -1;
        }
        int lf = AsciiBytes.indexOfLf(buf, pos, end);
        if (lf < 0) {
            return pos;
        }
        s.informational = status >= STATUS_CONTINUE_FIRST && status < STATUS_OK_FIRST
                && status != STATUS_SWITCHING;
        s.status = status;
        RequestLog log = s.informational ? null : conn.respondFirst(pos);
        if (log != null) {
            int lineEnd = lf > pos && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            log.statusCode(status);
            log.statusClass(statusClass(status));
            if (status >= STATUS_CLIENT_ERROR_FIRST && !conn.shallow() && lineEnd > pos + 13) {
                log.errorMessage().set(buf, pos + 13, lineEnd - pos - 13);
            }
        }
        beginHead(s, 1, log, lf + 1 - pos);
        return lf + 1;
    }

    private static void endResponseHead(Connection conn, State s, RequestLog target) {
        Side h = s.side[1];
        RequestLog log = h.current;
        if (s.informational) {
            // 100 Continue and friends: not the answer yet
            h.current = null;
            return;
        }
        if (log != null && !conn.isPending(log)) {
            log = null;
        }
        int status = s.status;
        long headBytes = h.headBytes;
        boolean noBody = status == STATUS_NO_CONTENT || status == STATUS_NOT_MODIFIED
                || (log != null && (log.method().contentEquals("HEAD") || log.method().contentEquals("CONNECT")
                && status < STATUS_CLIENT_ERROR_FIRST));
        h.bodyBytes = 0;
        if (status == STATUS_SWITCHING) {
            s.upgraded = true;
            noBody = true;
        }
        long contentLength = h.contentLength;
        if (noBody) {
            h.chunked = false;
            target.responseBytes(headBytes);
            finish(conn, log);
        } else if (h.chunked) {
            target.responseBytes(headBytes);
        } else if (contentLength >= 0) {
            target.responseBytes(headBytes + contentLength);
            h.skip = contentLength;
            if (contentLength == 0) {
                finish(conn, log);
            }
        } else {
            // delimited by the connection's close: report now, swallow the rest
            target.responseBytes(-1);
            h.skip = UNTIL_CLOSE;
            finish(conn, log);
        }
    }

    private static void finish(Connection conn, RequestLog log) {
        if (log != null) {
            conn.complete(log);
        }
    }

    private static void endBody(Connection conn, State s, int d) {
        Side h = s.side[d];
        RequestLog log = h.current;
        h.current = null;
        if (log == null || !conn.isPending(log)) {
            return;
        }
        if (d == 0) {
            if (h.chunked) {
                log.requestBytes(log.requestBytes() + h.bodyBytes);
            }
        } else {
            if (h.chunked) {
                log.responseBytes(log.responseBytes() + h.bodyBytes);
            }
            conn.complete(log);
        }
    }

    // ---- chunked bodies ----

    /** Skips chunks; the position reached, pos when a size line is incomplete, -1 on garbage. */
    private int skipChunks(Connection conn, State s, int d, DirectBuffer buf, int pos, int end) {
        Side h = s.side[d];
        while (pos < end) {
            if (h.chunkSkip > 0) {
                long n = Math.min(h.chunkSkip, end - pos);
                h.chunkSkip -= n;
                h.bodyBytes += n;
                pos += (int) n;
                continue;
            }
            int lf = AsciiBytes.indexOfLf(buf, pos, Math.min(end, pos + MAX_CHUNK_LINE_BYTES));
            if (lf < 0) {
                if (end - pos >= MAX_CHUNK_LINE_BYTES) {
                    conn.parseError();
                    reset(s, d == 0);
                    return -1;
                }
                return pos;
            }
            int lineBytes = lf + 1 - pos;
            h.bodyBytes += lineBytes;
            if (h.trailers) {
                pos = lf + 1;
                if (lineBytes <= 2) {
                    // the empty line after the last chunk (and its trailers)
                    endBody(conn, s, d);
                    h.chunked = false;
                    h.trailers = false;
                    return pos;
                }
                continue;
            }
            int sizeEnd = pos;
            while (sizeEnd < lf && AsciiBytes.hexDigit(buf.getByte(sizeEnd)) >= 0) {
                sizeEnd++;
            }
            long size = AsciiBytes.parseHex(buf, pos, sizeEnd - pos);
            if (size < 0) {
                if (lineBytes <= 2) {
                    // CRLF ending the previous chunk's data
                    pos = lf + 1;
                    continue;
                }
                conn.parseError();
                reset(s, d == 0);
                return -1;
            }
            pos = lf + 1;
            if (size == 0) {
                h.trailers = true;
            } else {
                h.chunkSkip = size + 2;
            }
        }
        return pos;
    }

    // ---- headers ----

    /**
     * Reads header lines from {@code pos} into {@code log} and the framing into the state
     * ({@link State#contentLength}, chunked). Returns the offset just past the empty line that
     * ends the head, 0 when the head is incomplete, -1 when a line is not a header line.
     */
    private int headers(Connection conn, State s, RequestLog log, DirectBuffer buf, int pos, int end,
            boolean request) {
        int d = request ? 0 : 1;
        Side h = s.side[d];
        boolean full = !conn.shallow() && request;
        int tracePrio = h.tracePrio;
        // every read below is inside [pos, end), which the engine guarantees lies in the buffer
        while (pos < end) {
            byte first = AsciiBytes.byteAt(buf, pos);
            if (first == '\n') {
                return pos + 1;
            }
            if (first == '\r') {
                if (pos + 1 >= end) {
                    break;
                }
                return AsciiBytes.byteAt(buf, pos + 1) == '\n' ? pos + 2 : -1;
            }
            int lower = first | 0x20;
            if (full ? !FULL_FIRST[first & 0xFF] : lower != 'c' && lower != 't') {
                // a line not read: jump to the next line that may be one read (or the end)
                int next = nextLine(buf, pos, end, full);
                if (next < 0) {
                    pos = ~next;
                    break;
                }
                pos = next;
                continue;
            }
            if (full && lower == 't' && tracePrio < PRIO_TRACEPARENT) {
                int next = traceparentLine(log, buf, pos, end);
                if (next > 0) {
                    tracePrio = PRIO_TRACEPARENT;
                    pos = next;
                    continue;
                }
            }
            int lf = AsciiBytes.indexOfLf(buf, pos, end);
            if (lf < 0) {
                break;
            }
            int lineEnd = AsciiBytes.byteAt(buf, lf - 1) == '\r' ? lf - 1 : lf;
            int lineLen = lineEnd - pos;
            switch (first | 0x20) {
                case 'c':
                    if (isName(buf, pos, lineLen, CONTENT_LENGTH)) {
                        int v = valueStart(buf, pos + CONTENT_LENGTH.length + 1, lineEnd);
                        h.contentLength = AsciiBytes.parseDecimal(buf, v, valueEnd(buf, v, lineEnd) - v);
                    }
                    break;
                case 't':
                    if (isName(buf, pos, lineLen, TRANSFER_ENCODING)) {
                        int ve = valueEnd(buf, pos, lineEnd);
                        h.chunked = ve - pos > TRANSFER_ENCODING.length + CHUNKED.length
                                && AsciiBytes.equalsIgnoreCase(buf, ve - CHUNKED.length, CHUNKED.length, CHUNKED);
                    } else if (full && tracePrio < PRIO_TRACEPARENT && isName(buf, pos, lineLen, TRACEPARENT)) {
                        int v = valueStart(buf, pos + TRACEPARENT.length + 1, lineEnd);
                        if (lineEnd - v >= TRACEPARENT_LENGTH && TraceContext.traceparent(log, buf, v, lineEnd - v)) {
                            tracePrio = PRIO_TRACEPARENT;
                        }
                    }
                    break;
                default:
                    if (full) {
                        tracePrio = header(log, buf, pos, lineEnd, first | 0x20, tracePrio);
                    }
                    break;
            }
            pos = lf + 1;
        }
        h.tracePrio = tracePrio;
        s.stop = pos;
        return 0;
    }

    /**
     * A traceparent line as nearly every tracer writes it, {@code traceparent:} and its 55-byte
     * value right before the line's end, read without searching the line for its line feed
     * (which would read the value twice): the position after the line once its ids are in
     * {@code log}, 0 when the line is anything else (the caller then reads it the general way).
     */
    private static int traceparentLine(RequestLog log, DirectBuffer buf, int pos, int end) {
        // [pos, end) lies in the buffer; isName reads at most up to pos + its name's length
        if (!isName(buf, pos, end - pos, TRACEPARENT)) {
            return 0;
        }
        int v = valueStart(buf, pos + TRACEPARENT.length + 1, end);
        int after = v + TRACEPARENT_LENGTH;
        if (after >= end) {
            return 0;
        }
        int next;
        byte b = AsciiBytes.byteAt(buf, after);
        if (b == '\n') {
            next = after + 1;
        } else if (b == '\r' && after + 1 < end && AsciiBytes.byteAt(buf, after + 1) == '\n') {
            next = after + 2;
        } else {
            return 0;
        }
        return TraceContext.traceparent(log, buf, v, TRACEPARENT_LENGTH) ? next : 0;
    }

    /**
     * The start of the first line after {@code pos} that may be a framing header or the end of
     * the head (see {@link #framingLineStart}), or, when there is none in
     * {@code [pos, end)}, {@code ~start} of the last (incomplete) line. Looks at every line feed
     * of a word at once instead of scanning line by line: most header lines are skipped unread.
     */
    static int nextFramingLine(DirectBuffer buf, int pos, int end) {
        return nextLine(buf, pos, end, false);
    }

    /**
     * As {@link #nextFramingLine}, or with {@code full} the first line after {@code pos} that a
     * full parse of a request reads ({@link #FULL_FIRST}) or the end of the head.
     */
    static int nextLine(DirectBuffer buf, int pos, int end, boolean full) {
        int lastLineStart = pos;
        int i = pos;
        while (i + Long.BYTES <= end) {
            long word = AsciiBytes.longAt(buf, i) ^ LF_WORD;
            // exact zero-byte mask (no false hits from borrows): 0x80 where the byte was '\n'
            long found = ~(((word & LOW7_WORD) + LOW7_WORD) | word | LOW7_WORD);
            while (found != 0) {
                int lineStart = i + (Long.numberOfTrailingZeros(found) >>> 3) + 1;
                if (lineStart >= end) {
                    return ~lineStart;
                }
                if (full ? fullLineStart(buf, lineStart) : framingLineStart(buf, lineStart, end)) {
                    return lineStart;
                }
                lastLineStart = lineStart;
                found &= found - 1;
            }
            i += Long.BYTES;
        }
        for (; i < end; i++) {
            if (AsciiBytes.byteAt(buf, i) == '\n') {
                int lineStart = i + 1;
                if (lineStart >= end) {
                    return ~lineStart;
                }
                if (full ? fullLineStart(buf, lineStart) : framingLineStart(buf, lineStart, end)) {
                    return lineStart;
                }
                lastLineStart = lineStart;
            }
        }
        return ~lastLineStart;
    }

    /** Whether the line at {@code lineStart} is one a full request parse reads, or ends the head. */
    static boolean fullLineStart(DirectBuffer buf, int lineStart) {
        byte b = AsciiBytes.byteAt(buf, lineStart);
        return b == '\r' || b == '\n' || FULL_FIRST[b & 0xFF];
    }

    /**
     * Whether the line at {@code lineStart} (inside {@code [.., end)}) may be Content-Length,
     * Transfer-Encoding or the end of the head. Errs on the side of yes (a line too short to tell,
     * or one that merely lower-cases to the same first eight bytes): such a line is then read in
     * full by the caller, so only lines that cannot matter are skipped.
     */
    static boolean framingLineStart(DirectBuffer buf, int lineStart, int end) {
        byte b = AsciiBytes.byteAt(buf, lineStart);
        if (b == '\r' || b == '\n') {
            return true;
        }
        int lower = b | 0x20;
        if (lower != 'c' && lower != 't') {
            return false;
        }
        if (lineStart + Long.BYTES > end) {
            return true;
        }
        // "content-" or "transfer": Connection, Content-Type, Cache-Control... are skipped too
        long word = AsciiBytes.longAt(buf, lineStart) | LOWER_CASE_WORD;
        return word == CONTENT_LENGTH.words[0] || word == TRANSFER_ENCODING.words[0];
    }

    /**
     * Whether the line starts with header name {@code lower} followed by a colon. The line
     * {@code [pos, pos + lineLen)} lies inside the bytes being parsed, so reads are unchecked.
     */
    private static boolean isName(DirectBuffer buf, int pos, int lineLen, HeaderName name) {
        int n = name.length;
        if (lineLen <= n || AsciiBytes.byteAt(buf, pos + n) != ':') {
            return false;
        }
        int i = 0;
        if (n >= Long.BYTES) {
            // eight bytes a step: names here are letters, digits and '-', which | 0x20 lower-cases
            for (; i + Long.BYTES <= n; i += Long.BYTES) {
                if ((AsciiBytes.longAt(buf, pos + i) | LOWER_CASE_WORD) != name.words[i >> 3]) {
                    return false;
                }
            }
            // the rest as one word overlapping the last one compared
            return i == n || (AsciiBytes.longAt(buf, pos + n - Long.BYTES) | LOWER_CASE_WORD) == name.lastWord;
        }
        byte[] lower = name.lower;
        for (; i < n; i++) {
            if ((AsciiBytes.byteAt(buf, pos + i) | 0x20) != lower[i]) {
                return false;
            }
        }
        return true;
    }

    /** A lower-case header name with its bytes also as native-order words, for {@link #isName}. */
    private static final class HeaderName {
        final byte[] lower;
        final int length;
        /** The name's bytes at 0, 8, 16...: the whole words. */
        final long[] words;
        /** The name's last eight bytes (overlapping the last whole word). */
        final long lastWord;

        HeaderName(String name) {
            lower = bytes(name);
            length = lower.length;
            words = new long[length / Long.BYTES];
            for (int i = 0; i < words.length; i++) {
                words[i] = word(lower, i * Long.BYTES);
            }
            lastWord = length >= Long.BYTES ? word(lower, length - Long.BYTES) : 0;
        }

        private static long word(byte[] bytes, int index) {
            long w = 0;
            for (int b = Long.BYTES - 1; b >= 0; b--) {
                w = (w << 8) | (bytes[index + b] & 0xFF);
            }
            // built little-endian; the static constants are made before any other field is set
            return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? w : Long.reverseBytes(w);
        }
    }

    private static int valueStart(DirectBuffer buf, int v, int lineEnd) {
        while (v < lineEnd && AsciiBytes.isBlank(AsciiBytes.byteAt(buf, v))) {
            v++;
        }
        return v;
    }

    private static int valueEnd(DirectBuffer buf, int v, int lineEnd) {
        int ve = lineEnd;
        while (ve > v && AsciiBytes.isBlank(AsciiBytes.byteAt(buf, ve - 1))) {
            ve--;
        }
        return ve;
    }

    /** The non-framing headers of a request, in full mode. */
    private static int header(RequestLog log, DirectBuffer buf, int pos, int lineEnd, int first, int tracePrio) {
        int lineLen = lineEnd - pos;
        switch (first) {
            case 'h':
                if (isName(buf, pos, lineLen, HOST)) {
                    int v = valueStart(buf, pos + HOST.length + 1, lineEnd);
                    log.host().set(buf, v, valueEnd(buf, v, lineEnd) - v);
                }
                break;
            case 'u':
                if (isName(buf, pos, lineLen, USER_AGENT)) {
                    int v = valueStart(buf, pos + USER_AGENT.length + 1, lineEnd);
                    log.userAgent().set(buf, v, valueEnd(buf, v, lineEnd) - v);
                } else if (tracePrio < PRIO_UBER && isName(buf, pos, lineLen, UBER_TRACE_ID)) {
                    int v = valueStart(buf, pos + UBER_TRACE_ID.length + 1, lineEnd);
                    if (TraceContext.uber(log, buf, v, valueEnd(buf, v, lineEnd) - v)) {
                        return PRIO_UBER;
                    }
                }
                break;
            case 'b':
                if (tracePrio < PRIO_B3 && isName(buf, pos, lineLen, B3)) {
                    int v = valueStart(buf, pos + B3.length + 1, lineEnd);
                    if (TraceContext.b3Single(log, buf, v, valueEnd(buf, v, lineEnd) - v)) {
                        return PRIO_B3;
                    }
                }
                break;
            case 's':
                if (isName(buf, pos, lineLen, SW8)) {
                    int v = valueStart(buf, pos + SW8.length + 1, lineEnd);
                    TraceContext.sw8(log, buf, v, valueEnd(buf, v, lineEnd) - v, SW8_TRACE_ID);
                    return Math.max(tracePrio, PRIO_SW8);
                }
                break;
            case 'x':
                if (isName(buf, pos, lineLen, X_REQUEST_ID)) {
                    int v = valueStart(buf, pos + X_REQUEST_ID.length + 1, lineEnd);
                    log.requestId().set(buf, v, valueEnd(buf, v, lineEnd) - v);
                } else if (tracePrio <= PRIO_B3 && isName(buf, pos, lineLen, X_B3_TRACE_ID)) {
                    int v = valueStart(buf, pos + X_B3_TRACE_ID.length + 1, lineEnd);
                    if (AsciiBytes.decodeHexId(buf, v, valueEnd(buf, v, lineEnd) - v, log.traceId())) {
                        log.hasTraceContext(true);
                        return PRIO_B3;
                    }
                } else if (tracePrio <= PRIO_B3 && isName(buf, pos, lineLen, X_B3_SPAN_ID)) {
                    int v = valueStart(buf, pos + X_B3_SPAN_ID.length + 1, lineEnd);
                    AsciiBytes.decodeHexId(buf, v, valueEnd(buf, v, lineEnd) - v, log.parentSpanId());
                } else if (tracePrio <= PRIO_B3 && isName(buf, pos, lineLen, X_B3_SAMPLED)) {
                    int v = valueStart(buf, pos + X_B3_SAMPLED.length + 1, lineEnd);
                    log.sampled(lineEnd - v >= 1 && buf.getByte(v) == '1');
                }
                break;
            default:
                break;
        }
        return tracePrio;
    }

    // ---- small helpers ----

    /** End of a known method followed by a space, or -1. */
    private static int methodEnd(DirectBuffer buf, int offset, int length) {
        if (LITTLE_ENDIAN && length >= Long.BYTES && AsciiBytes.fits(buf, offset, offset + Long.BYTES)) {
            // the method and its space in one word compare: "GET " is the first four bytes
            long word = AsciiBytes.longAt(buf, offset);
            for (int i = 0; i < METHOD_WORDS.length; i++) {
                if ((word & METHOD_MASKS[i]) == METHOD_WORDS[i]) {
                    return offset + METHODS[i].length;
                }
            }
            return -1;
        }
        int n = Math.min(length, MAX_METHOD_BYTES + 1);
        int sp = -1;
        for (int i = 0; i < n; i++) {
            if (buf.getByte(offset + i) == ' ') {
                sp = i;
                break;
            }
        }
        if (sp <= 0) {
            return -1;
        }
        for (byte[] m : METHODS) {
            if (m.length == sp && AsciiBytes.startsWith(buf, offset, length, m)) {
                return offset + sp;
            }
        }
        return -1;
    }

    private static boolean isUpperToken(DirectBuffer buf, int pos, int end) {
        for (int i = pos; i < end; i++) {
            byte b = buf.getByte(i);
            if (b < 'A' || b > 'Z') {
                return false;
            }
        }
        return true;
    }

    private static boolean isPrefixOf(DirectBuffer buf, int pos, int avail, byte[] prefix) {
        int n = Math.min(avail, prefix.length);
        for (int i = 0; i < n; i++) {
            if (buf.getByte(pos + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** The three-digit status at {@code offset} (after "HTTP/1.x "), or -1. */
    private static int statusCode(DirectBuffer buf, int offset, int length) {
        if (length < 3 || buf.getByte(offset - 1) != ' ') {
            return -1;
        }
        long code = AsciiBytes.parseDecimal(buf, offset, 3);
        if (code < STATUS_CONTINUE_FIRST || code > STATUS_MAX) {
            return -1;
        }
        return length == 3 || buf.getByte(offset + 3) == ' ' || buf.getByte(offset + 3) == '\r' ? (int) code : -1;
    }

    static StatusClass statusClass(int status) {
        if (status >= STATUS_SERVER_ERROR_FIRST) {
            return StatusClass.SERVER_ERROR;
        }
        if (status >= STATUS_CLIENT_ERROR_FIRST) {
            return StatusClass.CLIENT_ERROR;
        }
        return StatusClass.OK;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
