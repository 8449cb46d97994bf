package io.periscope.protocols.http2;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.Connection;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolParser;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import io.periscope.protocols.http1.TraceContext;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/2 (h2c prior knowledge, or h2 seen in clear by uprobes) and gRPC over it. Requests pair
 * with responses by stream id; HPACK keeps a dynamic table per connection and direction and
 * does its best when the capture starts mid-connection. A request whose content-type is
 * application/grpc is reported as GRPC: {@code rpc.service}/{@code rpc.method} from :path, the
 * status code is grpc-status (from trailers, or a trailers-only response), the HTTP status goes
 * to {@code http.response.status_code}.
 */
public final class Http2Parser implements ProtocolParser {
    public static final String RPC_SERVICE = "rpc.service";
    public static final String RPC_METHOD = "rpc.method";
    public static final String RPC_SYSTEM = "rpc.system";
    public static final String GRPC_STATUS = "rpc.grpc.status_code";
    public static final String HTTP_STATUS = "http.response.status_code";

    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int FRAME_HEADER_BYTES = 9;
    private static final int MAX_FRAME_BYTES = 1 << 24;
    private static final int DATA = 0;
    private static final int HEADERS = 1;
    private static final int RST_STREAM = 3;
    private static final int SETTINGS = 4;
    private static final int PING = 6;
    private static final int WINDOW_UPDATE = 8;
    private static final int CONTINUATION = 9;
    private static final int MAX_FRAME_TYPE = 9;
    private static final int END_STREAM = 0x1;
    private static final int END_HEADERS = 0x4;
    private static final int PADDED = 0x8;
    private static final int PRIORITY = 0x20;
    private static final int SETTING_BYTES = 6;
    private static final int BLOCK_BYTES = 16384;
    private static final int FIRST_REQUEST_INDEX = 0x82;
    private static final int LAST_REQUEST_INDEX = 0x87;
    private static final int FIRST_STATUS_INDEX = 0x88;
    private static final int LAST_STATUS_INDEX = 0x8e;

    private static final byte[] METHOD = bytes(":method");
    private static final byte[] PATH = bytes(":path");
    private static final byte[] AUTHORITY = bytes(":authority");
    private static final byte[] STATUS = bytes(":status");
    private static final byte[] CONTENT_TYPE = bytes("content-type");
    private static final byte[] GRPC_CONTENT_TYPE = bytes("application/grpc");
    private static final byte[] GRPC_STATUS_NAME = bytes("grpc-status");
    private static final byte[] GRPC_MESSAGE = bytes("grpc-message");
    private static final byte[] USER_AGENT = bytes("user-agent");
    private static final byte[] TRACEPARENT = bytes("traceparent");
    private static final byte[] X_REQUEST_ID = bytes("x-request-id");
    private static final byte[] UBER_TRACE_ID = bytes("uber-trace-id");
    private static final byte[] B3 = bytes("b3");
    private static final byte[] SW8 = bytes("sw8");
    private static final String SW8_TRACE_ID = "periscope.sw8.trace_id";

    @Override
    public L7Protocol protocol() {
        return L7Protocol.HTTP2;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < FRAME_HEADER_BYTES) {
            return Inference.NO;
        }
        if (AsciiBytes.startsWith(buf, offset, length, PREFACE)
                || (length < PREFACE.length && isPrefix(buf, offset, length))) {
            return Inference.REQUEST;
        }
        // mid-connection: walk control frames to the first HEADERS, whose first field tells
        // a request (:method) from a response (:status)
        int pos = offset;
        int end = offset + length;
        for (int frames = 0; frames < 8 && pos + FRAME_HEADER_BYTES < end; frames++) {
            int len = u24(buf, pos);
            int type = buf.getByte(pos + 3) & 0xFF;
            int flags = buf.getByte(pos + 4) & 0xFF;
            int stream = buf.getInt(pos + 5, ByteOrder.BIG_ENDIAN) & 0x7FFFFFFF;
            if (type > MAX_FRAME_TYPE || len > MAX_FRAME_BYTES) {
                return Inference.NO;
            }
            if (type == SETTINGS || type == WINDOW_UPDATE || type == PING) {
                if ((type == SETTINGS && (stream != 0 || len % SETTING_BYTES != 0)) || (type == PING && len != 8)) {
                    return Inference.NO;
                }
                pos += FRAME_HEADER_BYTES + len;
                continue;
            }
            if (type != HEADERS || stream % 2 != 1 || (flags & ~(END_STREAM | END_HEADERS | PADDED | PRIORITY)) != 0
                    || len == 0) {
                return Inference.NO;
            }
            int first = pos + FRAME_HEADER_BYTES + ((flags & PADDED) != 0 ? 1 : 0) + ((flags & PRIORITY) != 0 ? 5 : 0);
            if (first >= end) {
                return Inference.NO;
            }
            int b = buf.getByte(first) & 0xFF;
            if (b >= FIRST_REQUEST_INDEX && b <= LAST_REQUEST_INDEX) {
                return Inference.REQUEST;
            }
            if (b >= FIRST_STATUS_INDEX && b <= LAST_STATUS_INDEX) {
                return Inference.RESPONSE;
            }
            return Inference.NO;
        }
        return Inference.NO;
    }

    private static boolean isPrefix(DirectBuffer buf, int offset, int length) {
        for (int i = 0; i < length; i++) {
            if (buf.getByte(offset + i) != PREFACE[i]) {
                return false;
            }
        }
        return true;
    }

    /** Per-connection state: HPACK per direction, the frame being skipped, a header block in pieces. */
    static final class State implements HpackDecoder.HeaderSink {
        final HpackDecoder[] hpack = {new HpackDecoder(), new HpackDecoder()};
        final long[] skip = new long[2];
        final boolean[] prefaceChecked = new boolean[2];
        final boolean[] inBlock = new boolean[2];
        final int[] blockStream = new int[2];
        final boolean[] blockEndStream = new boolean[2];
        final int[] blockLength = new int[2];
        final int[] blockFrameOffset = new int[2];
        byte[][] block;
        UnsafeBuffer[] blockBuffer;
        // the target of decoded headers
        RequestLog target;
        boolean request;
        boolean grpc;
        Connection conn;
        int tracePrio;

        @Override
        public void header(DirectBuffer name, int nameLength, DirectBuffer value, int valueLength) {
            RequestLog log = target;
            if (log == null) {
                return;
            }
            if (request) {
                if (eq(name, nameLength, METHOD)) {
                    log.method().set(value, 0, valueLength);
                } else if (eq(name, nameLength, PATH)) {
                    log.resource().set(value, 0, valueLength);
                } else if (eq(name, nameLength, AUTHORITY)) {
                    log.host().set(value, 0, valueLength);
                } else if (eq(name, nameLength, CONTENT_TYPE)) {
                    grpc = AsciiBytes.startsWith(value, 0, valueLength, GRPC_CONTENT_TYPE);
                } else if (conn.shallow()) {
                    return;
                } else if (eq(name, nameLength, USER_AGENT)) {
                    log.userAgent().set(value, 0, valueLength);
                } else if (eq(name, nameLength, X_REQUEST_ID)) {
                    log.requestId().set(value, 0, valueLength);
                } else if (eq(name, nameLength, TRACEPARENT)) {
                    if (TraceContext.traceparent(log, value, 0, valueLength)) {
                        tracePrio = 4;
                    }
                } else if (tracePrio < 3 && eq(name, nameLength, B3)) {
                    if (TraceContext.b3Single(log, value, 0, valueLength)) {
                        tracePrio = 3;
                    }
                } else if (tracePrio < 2 && eq(name, nameLength, UBER_TRACE_ID)) {
                    if (TraceContext.uber(log, value, 0, valueLength)) {
                        tracePrio = 2;
                    }
                } else if (eq(name, nameLength, SW8)) {
                    TraceContext.sw8(log, value, 0, valueLength, SW8_TRACE_ID);
                }
                return;
            }
            if (eq(name, nameLength, STATUS)) {
                long status = AsciiBytes.parseDecimal(value, 0, valueLength);
                if (log.protocol() == L7Protocol.GRPC) {
                    TextField f = log.addAttribute(HTTP_STATUS);
                    if (f != null) {
                        f.set(value, 0, valueLength);
                    }
                    if (status >= 400) {
                        log.statusClass(status >= 500 ? StatusClass.SERVER_ERROR : StatusClass.CLIENT_ERROR);
                    }
                } else {
                    log.statusCode((int) status);
                    log.statusClass(status >= 500 ? StatusClass.SERVER_ERROR
                            : status >= 400 ? StatusClass.CLIENT_ERROR : StatusClass.OK);
                }
            } else if (eq(name, nameLength, GRPC_STATUS_NAME)) {
                long code = AsciiBytes.parseDecimal(value, 0, valueLength);
                if (code >= 0) {
                    log.protocol(L7Protocol.GRPC);
                    log.statusCode((int) code);
                    log.statusClass(grpcClass((int) code));
                    TextField f = log.attribute(GRPC_STATUS);
                    if (f == null) {
                        f = log.addAttribute(GRPC_STATUS);
                    }
                    if (f != null) {
                        f.clear().appendDecimal(code);
                    }
                }
            } else if (eq(name, nameLength, GRPC_MESSAGE) && !conn.shallow()) {
                log.errorMessage().set(value, 0, valueLength);
            }
        }
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    public void reset(Object state, boolean requestSide) {
        State s = (State) state;
        int d = requestSide ? 0 : 1;
        s.skip[d] = 0;
        s.inBlock[d] = false;
        s.prefaceChecked[d] = false;
        s.hpack[d].reset();
    }

    @Override
    public void skip(Connection conn, boolean requestSide, long missingBytes) {
        State s = (State) conn.state();
        int d = requestSide ? 0 : 1;
        if (s.skip[d] >= missingBytes && !s.inBlock[d]) {
            s.skip[d] -= missingBytes;
        } else {
            // lost a header block: the HPACK table may now be out of step; carry on best effort
            s.skip[d] = 0;
            s.inBlock[d] = false;
        }
    }

    @Override
    public int parse(Connection conn, boolean requestSide, DirectBuffer buf, int offset, int length) {
        State s = (State) conn.state();
        s.conn = conn;
        int d = requestSide ? 0 : 1;
        int pos = offset;
        int end = offset + length;
        if (requestSide && !s.prefaceChecked[0]) {
            if (end - pos < PREFACE.length && isPrefix(buf, pos, end - pos)) {
                return 0;
            }
            s.prefaceChecked[0] = true;
            if (AsciiBytes.startsWith(buf, pos, end - pos, PREFACE)) {
                pos += PREFACE.length;
            }
        }
        while (pos < end) {
            if (s.skip[d] > 0) {
                long n = Math.min(s.skip[d], end - pos);
                s.skip[d] -= n;
                pos += (int) n;
                continue;
            }
            if (end - pos < FRAME_HEADER_BYTES) {
                return pos - offset;
            }
            int len = u24(buf, pos);
            int type = buf.getByte(pos + 3) & 0xFF;
            int flags = buf.getByte(pos + 4) & 0xFF;
            int stream = buf.getInt(pos + 5, ByteOrder.BIG_ENDIAN) & 0x7FFFFFFF;
            if (len > MAX_FRAME_BYTES || type > 0xFF) {
                conn.parseError();
                return length;
            }
            long total = (long) FRAME_HEADER_BYTES + len;
            if (type == HEADERS || type == CONTINUATION) {
                if (pos + total > end) {
                    if (total <= conn.config().maxCarryBytes()) {
                        return pos - offset;
                    }
                    // a header block larger than we keep: skip it, HPACK may drift (best effort)
                    conn.parseError();
                    s.inBlock[d] = false;
                    s.skip[d] = pos + total - end;
                    return length;
                }
                headerFrame(conn, s, d, buf, pos, len, type, flags, stream);
            } else if (type <= MAX_FRAME_TYPE) {
                otherFrame(conn, s, d, type, flags, stream, total, pos, buf, len, end);
            }
            int have = (int) Math.min(end, pos + total);
            s.skip[d] = pos + total - have;
            pos = have;
        }
        return length;
    }

    private static void otherFrame(Connection conn, State s, int d, int type, int flags, int stream, long total,
            int pos, DirectBuffer buf, int len, int end) {
        if (stream == 0) {
            return;
        }
        RequestLog log = conn.pendingByKey(stream);
        if (log == null) {
            return;
        }
        if (type == DATA) {
            if (d == 0) {
                log.requestBytes(log.requestBytes() + total);
            } else {
                log.responseBytes(Math.max(0, log.responseBytes()) + total);
                if ((flags & END_STREAM) != 0) {
                    conn.complete(log);
                }
            }
        } else if (type == RST_STREAM) {
            if (log.statusClass() == StatusClass.UNKNOWN) {
                log.statusClass(StatusClass.SERVER_ERROR);
            }
            log.errorMessage().setAscii("RST_STREAM ");
            if (len >= 4 && pos + FRAME_HEADER_BYTES + 4 <= end) {
                log.errorMessage().appendDecimal(buf.getInt(pos + FRAME_HEADER_BYTES, ByteOrder.BIG_ENDIAN));
            }
            conn.respondTo(stream, pos);
            conn.complete(log);
        }
    }

    private static void headerFrame(Connection conn, State s, int d, DirectBuffer buf, int pos, int len, int type,
            int flags, int stream) {
        int payload = pos + FRAME_HEADER_BYTES;
        int payloadEnd = payload + len;
        if (type == HEADERS) {
            int pad = 0;
            if ((flags & PADDED) != 0) {
                if (len < 1) {
                    conn.parseError();
                    return;
                }
                pad = buf.getByte(payload) & 0xFF;
                payload++;
            }
            if ((flags & PRIORITY) != 0) {
                payload += 5;
            }
            payloadEnd -= pad;
            if (payloadEnd < payload) {
                conn.parseError();
                return;
            }
            s.blockStream[d] = stream;
            s.blockEndStream[d] = (flags & END_STREAM) != 0;
            s.blockFrameOffset[d] = pos;
            if ((flags & END_HEADERS) != 0) {
                s.inBlock[d] = false;
                block(conn, s, d, buf, payload, payloadEnd - payload, len + FRAME_HEADER_BYTES);
                return;
            }
            s.inBlock[d] = true;
            s.blockLength[d] = 0;
            append(s, d, buf, payload, payloadEnd - payload);
            return;
        }
        // CONTINUATION
        if (!s.inBlock[d] || stream != s.blockStream[d]) {
            return;
        }
        append(s, d, buf, payload, payloadEnd - payload);
        if ((flags & END_HEADERS) != 0) {
            s.inBlock[d] = false;
            block(conn, s, d, s.blockBuffer[d], 0, Math.min(s.blockLength[d], BLOCK_BYTES),
                    s.blockLength[d] + FRAME_HEADER_BYTES);
        }
    }

    private static void append(State s, int d, DirectBuffer buf, int offset, int length) {
        if (s.block == null) {
            s.block = new byte[2][BLOCK_BYTES];
            s.blockBuffer = new UnsafeBuffer[] {new UnsafeBuffer(s.block[0]), new UnsafeBuffer(s.block[1])};
        }
        int n = Math.min(length, BLOCK_BYTES - s.blockLength[d]);
        if (n > 0) {
            buf.getBytes(offset, s.block[d], s.blockLength[d], n);
        }
        s.blockLength[d] += length;
    }

    /** A complete header block of stream {@code blockStream[d]}. */
    private static void block(Connection conn, State s, int d, DirectBuffer buf, int offset, int length,
            long frameBytes) {
        int stream = s.blockStream[d];
        int framePos = s.blockFrameOffset[d];
        boolean request = d == 0;
        RequestLog log;
        if (request) {
            log = conn.pendingByKey(stream);
            boolean fresh = log == null;
            if (fresh) {
                log = conn.openRequest(stream, framePos);
                log.version().setAscii("2");
                log.requestBytes(frameBytes);
            }
            s.target = fresh ? log : null;
        } else {
            log = conn.respondTo(stream, framePos);
            s.target = log;
            if (log != null) {
                log.responseBytes(Math.max(0, log.responseBytes()) + frameBytes);
            }
        }
        s.request = request;
        s.grpc = false;
        s.tracePrio = 0;
        if (!s.hpack[d].decode(buf, offset, length, s)) {
            conn.parseError();
        }
        if (request && s.target != null) {
            finishRequest(conn, s, s.target);
        }
        s.target = null;
        if (!request && log != null && s.blockEndStream[d]) {
            conn.complete(log);
        }
    }

    private static void finishRequest(Connection conn, State s, RequestLog log) {
        TextField path = log.resource();
        if (s.grpc) {
            log.protocol(L7Protocol.GRPC);
            log.endpoint().copyFrom(path);
            TextField system = log.addAttribute(RPC_SYSTEM);
            if (system != null) {
                system.setAscii("grpc");
            }
            // :path is /package.Service/Method
            int slash = -1;
            for (int i = path.length() - 1; i > 0; i--) {
                if (path.byteAt(i) == '/') {
                    slash = i;
                    break;
                }
            }
            if (slash > 0) {
                TextField service = log.addAttribute(RPC_SERVICE);
                if (service != null) {
                    service.set(path.array(), 1, slash - 1);
                }
                TextField method = log.addAttribute(RPC_METHOD);
                if (method != null) {
                    method.set(path.array(), slash + 1, path.length() - slash - 1);
                }
            }
        } else {
            conn.endpointRule().apply(path.array(), 0, path.length(), log.endpoint());
        }
    }

    /** gRPC codes that are the caller's doing are client errors; the rest server errors. */
    static StatusClass grpcClass(int code) {
        switch (code) {
            case 0:
                return StatusClass.OK;
            case 1:
            case 3:
            case 5:
            case 6:
            case 7:
            case 9:
            case 11:
            case 16:
                return StatusClass.CLIENT_ERROR;
            default:
                return StatusClass.SERVER_ERROR;
        }
    }

    private static boolean eq(DirectBuffer name, int nameLength, byte[] lower) {
        return AsciiBytes.equalsIgnoreCase(name, 0, nameLength, lower);
    }

    private static int u24(DirectBuffer buf, int pos) {
        return ((buf.getByte(pos) & 0xFF) << 16) | ((buf.getByte(pos + 1) & 0xFF) << 8) | (buf.getByte(pos + 2) & 0xFF);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
