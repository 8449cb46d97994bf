package io.periscope.protocols.dubbo;

import io.periscope.protocols.Connection;
import io.periscope.protocols.FrameSkip;
import io.periscope.protocols.FramedParser;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import io.periscope.protocols.http1.TraceContext;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * Dubbo 2 ("dubbo" protocol over TCP). The 16-byte header carries the request id that pairs a
 * response with its request, the serialization and, in responses, the status (20 OK). The body
 * of a request starts with four strings: dubbo version, service path, service version, method;
 * they are read for Hessian2 (serialization 2) and Kryo (8). Method is the method name, resource
 * {@code service/method}, version the dubbo version, and the service version an attribute. A
 * response status other than 20, or a Hessian2 result that carries an exception, is an error.
 * Attachments are scanned for {@code traceparent} and {@code sw8}. Heartbeat events make no record.
 */
public final class DubboParser extends FramedParser<DubboParser.State> {
    /** Attribute: the version of the service interface. */
    public static final String SERVICE_VERSION = "rpc.dubbo.service_version";
    /** Attribute: SkyWalking trace id from an sw8 attachment. */
    public static final String SW8_TRACE_ID = "periscope.sw8.trace_id";

    static final int HEAD_BYTES = 1024;
    private static final int HEADER_BYTES = 16;
    private static final int MAGIC = 0xdabb;
    private static final int MAX_BODY_BYTES = 64 * 1024 * 1024;
    private static final int HESSIAN2 = 2;
    private static final int KRYO = 8;
    private static final int OK = 20;
    private static final int MAX_STRING_BYTES = 1024;
    private static final byte[] SW8 = {0x03, 's', 'w', '8'};
    private static final byte[] TRACEPARENT = {0x0b, 't', 'r', 'a', 'c', 'e', 'p', 'a', 'r', 'e', 'n', 't'};

    @Override
    public L7Protocol protocol() {
        return L7Protocol.DUBBO;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < HEADER_BYTES || (buf.getShort(offset, ByteOrder.BIG_ENDIAN) & 0xFFFF) != MAGIC) {
            return Inference.NO;
        }
        int flag = buf.getByte(offset + 2) & 0xFF;
        int len = buf.getInt(offset + 12, ByteOrder.BIG_ENDIAN);
        int serialization = flag & 0x1F;
        if (len < 0 || len > MAX_BODY_BYTES || serialization < 2 || serialization > 22) {
            return Inference.NO;
        }
        return (flag & 0x80) != 0 ? Inference.REQUEST : Inference.RESPONSE;
    }

    /** Per-connection state: body bytes still to skip, per direction; a string read's end. */
    static final class State extends FrameSkip {
        int next;
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    protected int frame(Connection conn, State s, boolean requestSide, DirectBuffer buf, int pos, int end) {
        if (end - pos < HEADER_BYTES) {
            return WAIT;
        }
        int len = buf.getInt(pos + 12, ByteOrder.BIG_ENDIAN);
        if ((buf.getShort(pos, ByteOrder.BIG_ENDIAN) & 0xFFFF) != MAGIC || len < 0 || len > MAX_BODY_BYTES) {
            return MALFORMED;
        }
        long total = HEADER_BYTES + (long) len;
        int head = head(total, pos, end, HEAD_BYTES);
        if (head < 0) {
            return WAIT;
        }
        int flag = buf.getByte(pos + 2) & 0xFF;
        long id = buf.getLong(pos + 4, ByteOrder.BIG_ENDIAN);
        boolean event = (flag & 0x20) != 0;
        if (!event) {
            if ((flag & 0x80) != 0) {
                request(conn, s, buf, pos, head, total, flag, id);
            } else {
                response(conn, buf, pos, head, total, flag, id);
            }
        }
        // The head is read; the rest of the message is passed over.
        s.add(requestSide, total - head);
        return head;
    }

    private static void request(Connection conn, State s, DirectBuffer buf, int pos, int head, long total, int flag,
            long id) {
        boolean twoWay = (flag & 0x40) != 0;
        RequestLog log = conn.openRequest(id, pos);
        log.requestBytes(total);
        int serialization = flag & 0x1F;
        int lim = pos + head;
        s.next = pos + HEADER_BYTES;
        if (serialization == HESSIAN2 || serialization == KRYO) {
            boolean kryo = serialization == KRYO;
            string(s, log.version(), buf, lim, kryo);
            string(s, log.resource(), buf, lim, kryo);
            TextField v = log.addAttribute(SERVICE_VERSION);
            if (v != null) {
                string(s, v, buf, lim, kryo);
            } else {
                string(s, null, buf, lim, kryo);
            }
            string(s, log.method(), buf, lim, kryo);
            if (!log.resource().isEmpty() && !log.method().isEmpty()) {
                log.resource().append((byte) '/').append(log.method().array(), 0, log.method().length());
            }
            log.endpoint().copyFrom(log.resource());
            if (!kryo && !conn.shallow()) {
                traceContext(log, buf, s.next, lim);
            }
        }
        if (!twoWay) {
            log.endNanos(log.startNanos()).statusClass(StatusClass.OK).responseBytes(0);
            conn.complete(log);
        }
    }

    private static void response(Connection conn, DirectBuffer buf, int pos, int head, long total, int flag,
            long id) {
        RequestLog log = conn.respondTo(id, pos);
        if (log == null) {
            return;
        }
        int status = buf.getByte(pos + 3) & 0xFF;
        log.statusCode(status);
        log.responseBytes(total);
        if (status == OK) {
            log.statusClass(StatusClass.OK);
            int body = pos + HEADER_BYTES;
            // Hessian2 compact int: 0x90 + n; result kinds 0 and 3 carry an exception
            if ((flag & 0x1F) == HESSIAN2 && body < pos + head) {
                int kind = (buf.getByte(body) & 0xFF) - 0x90;
                if (kind == 0 || kind == 3) {
                    log.statusClass(StatusClass.SERVER_ERROR);
                    log.errorMessage().setAscii("exception");
                }
            }
        } else {
            boolean client = status == 30 || status == 40 || status == 90;
            log.statusClass(client ? StatusClass.CLIENT_ERROR : StatusClass.SERVER_ERROR);
            TextField err = log.errorMessage();
            // the body of an error response is its message as one string
            int at = pos + HEADER_BYTES;
            int lim = pos + head;
            if (at < lim) {
                int len = hessianLength(buf, at, lim);
                int start = at + headerBytes(buf.getByte(at) & 0xFF);
                if (len > 0 && start < lim) {
                    err.set(buf, start, Math.min(utf8Bytes(buf, start, lim, len), lim - start));
                }
            }
        }
        conn.complete(log);
    }

    /** Reads one string at s.next into {@code out} (may be null) and moves s.next past it. */
    private static void string(State s, TextField out, DirectBuffer buf, int lim, boolean kryo) {
        int at = s.next;
        if (at >= lim) {
            return;
        }
        if (kryo) {
            int b = buf.getByte(at) & 0xFF;
            if (b == 0x80 || b == 0x81) {
                s.next = at + 1; // null, empty
                return;
            }
            int i = at;
            while (i < lim && i - at < MAX_STRING_BYTES && (buf.getByte(i) & 0x80) == 0) {
                i++;
            }
            if (i >= lim || i - at >= MAX_STRING_BYTES) {
                s.next = lim;
                return;
            }
            if (out != null) {
                out.set(buf, at, i - at).append((byte) (buf.getByte(i) & 0x7F));
            }
            s.next = i + 1;
            return;
        }
        int code = buf.getByte(at) & 0xFF;
        if (code == 'N') {
            s.next = at + 1;
            return;
        }
        int chars = hessianLength(buf, at, lim);
        if (chars < 0) {
            s.next = lim;
            return;
        }
        int start = at + headerBytes(code);
        int bytes = utf8Bytes(buf, start, lim, chars);
        if (out != null && start < lim) {
            out.set(buf, start, Math.min(bytes, lim - start));
        }
        s.next = start + bytes;
    }

    /** Characters of the Hessian2 string at {@code at}; -1 when it is not a (final) string. */
    private static int hessianLength(DirectBuffer buf, int at, int lim) {
        int code = buf.getByte(at) & 0xFF;
        if (code <= 0x1f) {
            return code;
        }
        if (code >= 0x30 && code <= 0x33) {
            return at + 1 < lim ? ((code - 0x30) << 8) | (buf.getByte(at + 1) & 0xFF) : -1;
        }
        if (code == 'S') {
            return at + 2 < lim ? buf.getShort(at + 1, ByteOrder.BIG_ENDIAN) & 0xFFFF : -1;
        }
        return -1;
    }

    private static int headerBytes(int code) {
        return code <= 0x1f ? 1 : code <= 0x33 ? 2 : 3;
    }

    /** Bytes taken by {@code chars} UTF-8 characters from {@code at} (as far as the buffer shows). */
    private static int utf8Bytes(DirectBuffer buf, int at, int lim, int chars) {
        int i = at;
        for (int c = 0; c < chars && i < lim; c++) {
            int b = buf.getByte(i) & 0xFF;
            i += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        }
        return i - at;
    }

    /** Looks for the attachment keys "traceparent" and "sw8" (Hessian2 short strings) and reads their values. */
    private static void traceContext(RequestLog log, DirectBuffer buf, int from, int lim) {
        for (int i = from; i + TRACEPARENT.length < lim; i++) {
            byte b = buf.getByte(i);
            if (b == TRACEPARENT[0] && matches(buf, i, lim, TRACEPARENT)) {
                int v = i + TRACEPARENT.length;
                int len = hessianLength(buf, v, lim);
                int start = v + headerBytes(buf.getByte(v) & 0xFF);
                if (len > 0 && start + len <= lim) {
                    TraceContext.traceparent(log, buf, start, len);
                }
            } else if (b == SW8[0] && matches(buf, i, lim, SW8)) {
                int v = i + SW8.length;
                int len = hessianLength(buf, v, lim);
                int start = v + headerBytes(buf.getByte(v) & 0xFF);
                if (len > 0 && start + len <= lim) {
                    TraceContext.sw8(log, buf, start, len, SW8_TRACE_ID);
                }
            }
        }
    }

    private static boolean matches(DirectBuffer buf, int at, int lim, byte[] word) {
        if (at + word.length > lim) {
            return false;
        }
        for (int i = 0; i < word.length; i++) {
            if (buf.getByte(at + i) != word[i]) {
                return false;
            }
        }
        return true;
    }
}
