package io.periscope.protocols.mqtt;

import io.periscope.protocols.Connection;
import io.periscope.protocols.FrameSkip;
import io.periscope.protocols.FramedParser;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * MQTT 3.1, 3.1.1 and 5. Every control packet is framed by its fixed header, several per segment
 * or one across many. Method is the packet type ({@code CONNECT}, {@code PUBLISH}, ...); resource
 * the PUBLISH topic or the SUBSCRIBE/UNSUBSCRIBE topic filters (comma separated).
 *
 * <p>Pairing: CONNECT with CONNACK, PINGREQ with PINGRESP, and by packet id PUBLISH (QoS 1) with
 * PUBACK, PUBLISH (QoS 2) with PUBREC, PUBREL with PUBCOMP, SUBSCRIBE with SUBACK, UNSUBSCRIBE with
 * UNSUBACK, in whichever direction the exchange was started (brokers publish to subscribers too).
 * QoS 0 PUBLISH, DISCONNECT and AUTH have no answer and are reported at once with zero duration.
 * The CONNACK return code (3.1.1) or reason code (5), a failing SUBACK code and a v5 PUBACK/PUBREC
 * reason code become the status.
 */
public final class MqttParser extends FramedParser<MqttParser.State> {
    /** Attribute: the client identifier of CONNECT. */
    public static final String CLIENT_ID = "messaging.client.id";
    /** Attribute: the QoS of a PUBLISH (0, 1 or 2). */
    public static final String QOS = "messaging.mqtt.qos";

    /** Bytes of a packet waited for before parsing it (topics and ids lie within). */
    static final int HEAD_BYTES = 512;
    private static final int MAX_REMAINING = 268_435_455;

    private static final int CONNECT = 1;
    private static final int CONNACK = 2;
    private static final int PUBLISH = 3;
    private static final int PUBACK = 4;
    private static final int PUBREC = 5;
    private static final int PUBREL = 6;
    private static final int PUBCOMP = 7;
    private static final int SUBSCRIBE = 8;
    private static final int SUBACK = 9;
    private static final int UNSUBSCRIBE = 10;
    private static final int UNSUBACK = 11;
    private static final int PINGREQ = 12;
    private static final int PINGRESP = 13;
    private static final int DISCONNECT = 14;
    private static final int AUTH = 15;

    private static final String[] NAMES = {
        null, "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK",
        "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH",
    };
    private static final String[] QOS_TEXT = {"0", "1", "2"};

    // pairing keys: exchange kind << 17 | started-by-server << 16 | packet id
    private static final long K_CONNECT = 1L << 17;
    private static final long K_PUBLISH = 2L << 17;
    private static final long K_PUBREL = 3L << 17;
    private static final long K_SUBSCRIBE = 4L << 17;
    private static final long K_UNSUBSCRIBE = 5L << 17;
    private static final long K_PING = 6L << 17;
    private static final long BY_SERVER = 1L << 16;

    @Override
    public L7Protocol protocol() {
        return L7Protocol.MQTT;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < 2) {
            return Inference.NO;
        }
        int end = offset + length;
        int pos = offset;
        int packets = 0;
        boolean printableTopic = false;
        while (pos < end) {
            int b = buf.getByte(pos) & 0xFF;
            int type = b >>> 4;
            if (!validFlags(type, b & 0xF)) {
                return Inference.NO;
            }
            long rem = remainingLength(buf, pos + 1, end);
            if (rem < 0) {
                return Inference.NO;
            }
            int body = pos + 1 + varintBytes(rem);
            if (body + rem > end) {
                return Inference.NO;
            }
            if (packets == 0 && type == CONNECT) {
                return connectHead(buf, body, (int) rem) ? Inference.REQUEST : Inference.NO;
            }
            if ((type == PUBLISH || type == SUBSCRIBE || type == UNSUBSCRIBE) && rem >= 3) {
                int topicAt = type == PUBLISH ? body : body + 2;
                int n = buf.getShort(topicAt, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                printableTopic = n > 0 && topicAt + 2 + n <= body + rem && printable(buf, topicAt + 2, n);
                if (!printableTopic) {
                    return Inference.NO;
                }
            }
            packets++;
            pos = (int) (body + rem);
        }
        // mid-connection: well-formed packets filling the segment exactly, one with a readable topic
        return printableTopic ? Inference.REQUEST : Inference.NO;
    }

    private static boolean connectHead(DirectBuffer buf, int body, int rem) {
        if (rem < 10) {
            return false;
        }
        int nameLen = buf.getShort(body, ByteOrder.BIG_ENDIAN);
        if (nameLen == 4 && buf.getInt(body + 2, ByteOrder.BIG_ENDIAN) == 0x4D515454) { // "MQTT"
            int level = buf.getByte(body + 6);
            return level == 4 || level == 5;
        }
        return nameLen == 6 && rem >= 12 && buf.getByte(body + 2) == 'M' && buf.getByte(body + 3) == 'Q'
                && buf.getByte(body + 8) == 3;
    }

    private static boolean printable(DirectBuffer buf, int at, int n) {
        for (int i = 0; i < n; i++) {
            int c = buf.getByte(at + i);
            if (c >= 0 && c < 0x20) {
                return false;
            }
        }
        return true;
    }

    private static boolean validFlags(int type, int flags) {
        switch (type) {
            case 0:
                return false;
            case PUBLISH:
                return (flags & 0x6) != 0x6;
            case PUBREL: case SUBSCRIBE: case UNSUBSCRIBE:
                return flags == 2;
            default:
                return flags == 0;
        }
    }

    /** The remaining-length varint at {@code at}, -1 when cut short, -2 when malformed. */
    private static long remainingLength(DirectBuffer buf, int at, int end) {
        long v = 0;
        for (int i = 0; i < 4; i++) {
            if (at + i >= end) {
                return -1;
            }
            int b = buf.getByte(at + i) & 0xFF;
            v |= (long) (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        return -2;
    }

    private static int varintBytes(long v) {
        return v < 128 ? 1 : v < 16_384 ? 2 : v < 2_097_152 ? 3 : 4;
    }

    /** Per-connection state: protocol level and bytes of a packet still to skip, per direction. */
    static final class State extends FrameSkip {
        /** 3, 4 or 5 from CONNECT; 4 until a CONNECT is seen. */
        int level = 4;
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    protected int frame(Connection conn, State s, boolean requestSide, DirectBuffer buf, int pos, int end) {
        int b = buf.getByte(pos) & 0xFF;
        long rem = remainingLength(buf, pos + 1, end);
        if (rem == -1) {
            return WAIT;
        }
        if (rem < 0 || rem > MAX_REMAINING || !validFlags(b >>> 4, b & 0xF)) {
            return MALFORMED;
        }
        int body = pos + 1 + varintBytes(rem);
        long total = body - pos + rem;
        int head = head(total, pos, end, HEAD_BYTES);
        if (head < 0) {
            return WAIT;
        }
        packet(conn, s, requestSide, buf, pos, b, body, (int) Math.min(rem, head - (body - pos)), total);
        // The head is read; the rest of the message is passed over.
        s.add(requestSide, total - head);
        return head;
    }

    private void packet(Connection conn, State s, boolean fromClient, DirectBuffer buf, int pos, int first,
            int body, int have, long total) {
        int type = first >>> 4;
        int lim = body + have;
        long server = fromClient ? 0 : BY_SERVER;
        long peer = fromClient ? BY_SERVER : 0;
        switch (type) {
            case CONNECT: {
                RequestLog log = open(conn, pos, type, K_CONNECT, total);
                int nameLen = u16(buf, body, lim);
                int at = body + 2 + nameLen;
                if (at + 4 > lim) {
                    return;
                }
                s.level = buf.getByte(at);
                log.version().setAscii(s.level == 5 ? "5.0" : s.level == 3 ? "3.1" : "3.1.1");
                at += 4; // level, flags, keep alive
                if (s.level == 5) {
                    at = skipProperties(buf, at, lim);
                }
                int idLen = u16(buf, at, lim);
                if (idLen > 0 && at + 2 < lim) {
                    TextField id = log.addAttribute(CLIENT_ID);
                    if (id != null) {
                        id.set(buf, at + 2, Math.min(idLen, lim - at - 2));
                    }
                }
                return;
            }
            case CONNACK: {
                RequestLog log = conn.respondTo(K_CONNECT, pos);
                if (log != null) {
                    int code = have >= 2 ? buf.getByte(body + 1) & 0xFF : -1;
                    finish(conn, log, code, connackClass(code, s.level), total);
                }
                return;
            }
            case PUBLISH: {
                int qos = (first >>> 1) & 3;
                int topicLen = u16(buf, body, lim);
                int id = qos > 0 ? u16(buf, body + 2 + topicLen, lim) : 0;
                RequestLog log = open(conn, pos, type, K_PUBLISH | server | id, total);
                if (topicLen > 0 && body + 2 < lim) {
                    int n = Math.min(topicLen, lim - body - 2);
                    log.resource().set(buf, body + 2, n);
                    log.endpoint().set(buf, body + 2, n);
                }
                TextField q = log.addAttribute(QOS);
                if (q != null) {
                    q.setAscii(QOS_TEXT[qos]);
                }
                if (qos == 0) {
                    oneWay(conn, log);
                }
                return;
            }
            case PUBACK: case PUBREC:
                answer(conn, s, buf, pos, body, have, K_PUBLISH | peer, total);
                return;
            case PUBREL:
                open(conn, pos, type, K_PUBREL | server | u16(buf, body, lim), total);
                return;
            case PUBCOMP:
                answer(conn, s, buf, pos, body, have, K_PUBREL | peer, total);
                return;
            case SUBSCRIBE: case UNSUBSCRIBE: {
                long kind = type == SUBSCRIBE ? K_SUBSCRIBE : K_UNSUBSCRIBE;
                RequestLog log = open(conn, pos, type, kind | server | u16(buf, body, lim), total);
                int at = body + 2;
                if (s.level == 5) {
                    at = skipProperties(buf, at, lim);
                }
                TextField topics = log.resource();
                while (at + 2 <= lim && !topics.truncated()) {
                    int n = u16(buf, at, lim);
                    int have2 = Math.min(n, lim - at - 2);
                    if (!topics.isEmpty()) {
                        topics.append((byte) ',');
                    }
                    topics.append(buf, at + 2, have2);
                    at += 2 + n + (type == SUBSCRIBE ? 1 : 0);
                }
                log.endpoint().copyFrom(topics);
                return;
            }
            case SUBACK: case UNSUBACK: {
                long kind = type == SUBACK ? K_SUBSCRIBE : K_UNSUBSCRIBE;
                RequestLog log = conn.respondTo(kind | peer | u16(buf, body, lim), pos);
                if (log == null) {
                    return;
                }
                int at = body + 2;
                if (s.level == 5) {
                    at = skipProperties(buf, at, lim);
                }
                int code = 0;
                // 3.1.1 UNSUBACK has no codes; SUBACK 0x80 / v5 reason codes >= 0x80 are failures
                for (; at < lim && (type == SUBACK || s.level == 5); at++) {
                    int c = buf.getByte(at) & 0xFF;
                    if (c >= 0x80) {
                        code = c;
                        break;
                    }
                }
                finish(conn, log, code, code >= 0x80 ? reasonClass(code) : StatusClass.OK, total);
                return;
            }
            case PINGREQ:
                open(conn, pos, type, K_PING | server, total);
                return;
            case PINGRESP: {
                RequestLog log = conn.respondTo(K_PING | peer, pos);
                if (log != null) {
                    finish(conn, log, -1, StatusClass.OK, total);
                }
                return;
            }
            case DISCONNECT: case AUTH: {
                RequestLog log = open(conn, pos, type, 0, total);
                if (have >= 1 && s.level == 5) {
                    int code = buf.getByte(body) & 0xFF;
                    log.statusCode(code);
                }
                oneWay(conn, log);
                return;
            }
            default:
                conn.parseError();
        }
    }

    private static RequestLog open(Connection conn, int pos, int type, long key, long total) {
        RequestLog log = conn.openRequest(key, pos);
        log.method().setAscii(NAMES[type]);
        log.requestBytes(total);
        return log;
    }

    /** A message that expects no answer: reported now, with zero duration. */
    private static void oneWay(Connection conn, RequestLog log) {
        log.endNanos(log.startNanos());
        if (log.statusClass() == StatusClass.UNKNOWN) {
            int code = log.statusCode();
            log.statusClass(code >= 0x80 ? reasonClass(code) : StatusClass.OK);
        }
        log.responseBytes(0);
        conn.complete(log);
    }

    private static void answer(Connection conn, State s, DirectBuffer buf, int pos, int body, int have, long kind,
            long total) {
        int lim = body + have;
        RequestLog log = conn.respondTo(kind | u16(buf, body, lim), pos);
        if (log == null) {
            return;
        }
        int code = have >= 3 && s.level == 5 ? buf.getByte(body + 2) & 0xFF : 0;
        finish(conn, log, code, code >= 0x80 ? reasonClass(code) : StatusClass.OK, total);
    }

    private static void finish(Connection conn, RequestLog log, int code, StatusClass cls, long total) {
        log.statusCode(code);
        log.statusClass(cls);
        log.responseBytes(total);
        conn.complete(log);
    }

    private static StatusClass connackClass(int code, int level) {
        if (code < 0) {
            return StatusClass.UNKNOWN;
        }
        if (code == 0) {
            return StatusClass.OK;
        }
        if (level == 5) {
            return reasonClass(code);
        }
        // 3.1.1: 3 = server unavailable; 1, 2, 4, 5 = the client's protocol, id, credentials or rights
        return code == 3 ? StatusClass.SERVER_ERROR : StatusClass.CLIENT_ERROR;
    }

    /** MQTT 5 reason codes >= 0x80: the server's own failures are 0x80, 0x83, 0x88, 0x89, 0x97. */
    private static StatusClass reasonClass(int code) {
        if (code < 0x80) {
            return StatusClass.OK;
        }
        switch (code) {
            case 0x80: case 0x83: case 0x88: case 0x89: case 0x97:
                return StatusClass.SERVER_ERROR;
            default:
                return StatusClass.CLIENT_ERROR;
        }
    }

    private static int u16(DirectBuffer buf, int at, int lim) {
        return at + 2 <= lim ? buf.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF : 0;
    }

    /** Skips an MQTT 5 property block (varint length + properties). */
    private static int skipProperties(DirectBuffer buf, int at, int lim) {
        long n = remainingLength(buf, at, lim);
        if (n < 0) {
            return lim;
        }
        return (int) Math.min(lim, at + varintBytes(n) + n);
    }
}
