package io.periscope.protocols.amqp;

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
 * AMQP 0-9-1 (RabbitMQ). Every method frame is a record named {@code class.method}
 * ({@code basic.publish}, {@code queue.declare}, ...). Synchronous methods pair with their
 * {@code -ok} reply on the same channel, whichever side sent them (the broker starts
 * connection.start, tune and close); asynchronous ones (basic.publish, deliver, ack, nack, reject,
 * return) are reported at once with zero duration. Resource is the exchange (publish, deliver,
 * return, exchange.*) or the queue (queue.*, consume, get), with the routing key in an attribute;
 * host is the virtual host of connection.open. A connection.close or channel.close with a reply
 * code other than 200 is an error; it also ends, with that error, the request it answers on that
 * channel (e.g. an exchange.declare refused with PRECONDITION_FAILED). Content header and body
 * frames are skipped.
 */
public final class AmqpParser extends FramedParser<AmqpParser.State> {
    /** Attribute: the routing key of publish, deliver, return and queue.bind. */
    public static final String ROUTING_KEY = "messaging.rabbitmq.destination.routing_key";

    static final int HEAD_BYTES = 512;
    private static final int FRAME_HEADER_BYTES = 7;
    private static final int MAX_FRAME_BYTES = 128 * 1024 * 1024;
    private static final int FRAME_END = 0xCE;
    private static final int METHOD = 1;
    private static final int HEARTBEAT = 8;

    private static final int CONNECTION = 10;
    private static final int CHANNEL = 20;
    private static final int EXCHANGE = 40;
    private static final int QUEUE = 50;
    private static final int BASIC = 60;
    private static final int CONFIRM = 85;
    private static final int TX = 90;

    private static final long FROM_SERVER = 1L << 32;

    @Override
    public L7Protocol protocol() {
        return L7Protocol.AMQP;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < 8) {
            return Inference.NO;
        }
        if (buf.getInt(offset, ByteOrder.BIG_ENDIAN) == 0x414D5150 && buf.getByte(offset + 4) == 0
                && buf.getByte(offset + 5) == 0 && buf.getByte(offset + 6) == 9 && buf.getByte(offset + 7) == 1) {
            return Inference.REQUEST; // "AMQP" 0 0 9 1
        }
        if (length < 12 || buf.getByte(offset) != METHOD) {
            return Inference.NO;
        }
        int size = buf.getInt(offset + 3, ByteOrder.BIG_ENDIAN);
        if (size < 4 || size > MAX_FRAME_BYTES || FRAME_HEADER_BYTES + size >= length
                || (buf.getByte(offset + FRAME_HEADER_BYTES + size) & 0xFF) != FRAME_END) {
            return Inference.NO;
        }
        int cls = buf.getShort(offset + 7, ByteOrder.BIG_ENDIAN);
        int method = buf.getShort(offset + 9, ByteOrder.BIG_ENDIAN);
        String name = name(cls, method);
        if (name == null) {
            return Inference.NO;
        }
        boolean fromServer = cls == CONNECTION && (method == 10 || method == 30)
                || cls == BASIC && (method == 60 || method == 50 || method == 71 || method == 72)
                || !request(cls, method) && cls != BASIC;
        return fromServer ? Inference.RESPONSE : Inference.REQUEST;
    }

    /** The method's name, or null when the class/method pair is not AMQP 0-9-1. */
    static String name(int cls, int method) {
        switch (cls) {
            case CONNECTION:
                switch (method) {
                    case 10: return "connection.start";
                    case 11: return "connection.start-ok";
                    case 20: return "connection.secure";
                    case 21: return "connection.secure-ok";
                    case 30: return "connection.tune";
                    case 31: return "connection.tune-ok";
                    case 40: return "connection.open";
                    case 41: return "connection.open-ok";
                    case 50: return "connection.close";
                    case 51: return "connection.close-ok";
                    case 60: return "connection.blocked";
                    case 61: return "connection.unblocked";
                    default: return null;
                }
            case CHANNEL:
                switch (method) {
                    case 10: return "channel.open";
                    case 11: return "channel.open-ok";
                    case 20: return "channel.flow";
                    case 21: return "channel.flow-ok";
                    case 40: return "channel.close";
                    case 41: return "channel.close-ok";
                    default: return null;
                }
            case EXCHANGE:
                switch (method) {
                    case 10: return "exchange.declare";
                    case 11: return "exchange.declare-ok";
                    case 20: return "exchange.delete";
                    case 21: return "exchange.delete-ok";
                    case 30: return "exchange.bind";
                    case 31: return "exchange.bind-ok";
                    case 40: return "exchange.unbind";
                    case 51: return "exchange.unbind-ok";
                    default: return null;
                }
            case QUEUE:
                switch (method) {
                    case 10: return "queue.declare";
                    case 11: return "queue.declare-ok";
                    case 20: return "queue.bind";
                    case 21: return "queue.bind-ok";
                    case 30: return "queue.purge";
                    case 31: return "queue.purge-ok";
                    case 40: return "queue.delete";
                    case 41: return "queue.delete-ok";
                    case 50: return "queue.unbind";
                    case 51: return "queue.unbind-ok";
                    default: return null;
                }
            case BASIC:
                switch (method) {
                    case 10: return "basic.qos";
                    case 11: return "basic.qos-ok";
                    case 20: return "basic.consume";
                    case 21: return "basic.consume-ok";
                    case 30: return "basic.cancel";
                    case 31: return "basic.cancel-ok";
                    case 40: return "basic.publish";
                    case 50: return "basic.return";
                    case 60: return "basic.deliver";
                    case 70: return "basic.get";
                    case 71: return "basic.get-ok";
                    case 72: return "basic.get-empty";
                    case 80: return "basic.ack";
                    case 90: return "basic.reject";
                    case 100: return "basic.recover-async";
                    case 110: return "basic.recover";
                    case 111: return "basic.recover-ok";
                    case 120: return "basic.nack";
                    default: return null;
                }
            case CONFIRM:
                return method == 10 ? "confirm.select" : method == 11 ? "confirm.select-ok" : null;
            case TX:
                switch (method) {
                    case 10: return "tx.select";
                    case 11: return "tx.select-ok";
                    case 20: return "tx.commit";
                    case 21: return "tx.commit-ok";
                    case 30: return "tx.rollback";
                    case 31: return "tx.rollback-ok";
                    default: return null;
                }
            default:
                return null;
        }
    }

    /** Whether the method waits for a reply (a synchronous request). */
    private static boolean request(int cls, int method) {
        if (cls == BASIC) {
            return method == 10 || method == 20 || method == 30 || method == 70 || method == 110;
        }
        if (cls == EXCHANGE && method == 40) {
            return true;
        }
        return method % 10 == 0 && !(cls == CONNECTION && method == 60);
    }

    /** Whether the method is the reply to a synchronous request. */
    private static boolean reply(int cls, int method) {
        if (cls == BASIC) {
            return method == 11 || method == 21 || method == 31 || method == 71 || method == 72 || method == 111;
        }
        return method % 10 == 1 && !(cls == CONNECTION && method == 61);
    }

    /** Per-connection state: bytes of the frame in flight still to skip, per direction. */
    static final class State extends FrameSkip {
        /** The client sent the protocol header: everything after it is frames. */
        boolean started;
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    protected int frame(Connection conn, State s, boolean requestSide, DirectBuffer buf, int pos, int end) {
        if (end - pos < 8) {
            return WAIT;
        }
        if (buf.getInt(pos, ByteOrder.BIG_ENDIAN) == 0x414D5150) {
            // protocol header "AMQP 0 0 9 1" (or the broker's answer naming the version it wants)
            return 8;
        }
        int type = buf.getByte(pos) & 0xFF;
        int size = buf.getInt(pos + 3, ByteOrder.BIG_ENDIAN);
        if (type < METHOD || type > HEARTBEAT || size < 0 || size > MAX_FRAME_BYTES) {
            return MALFORMED;
        }
        long total = FRAME_HEADER_BYTES + 1L + size;
        int head = head(total, pos, end, HEAD_BYTES);
        if (head < 0) {
            return WAIT;
        }
        if (head == total && (buf.getByte(pos + head - 1) & 0xFF) != FRAME_END) {
            return MALFORMED;
        }
        if (type == METHOD && head >= 11) {
            method(conn, requestSide, buf, pos, head, total);
        }
        // The head is read; the rest of the message is passed over.
        s.add(requestSide, total - head);
        return head;
    }

    private static void method(Connection conn, boolean fromClient, DirectBuffer buf, int pos, int head, long total) {
        int channel = buf.getShort(pos + 1, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int cls = buf.getShort(pos + 7, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int method = buf.getShort(pos + 9, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        String name = name(cls, method);
        if (name == null) {
            conn.parseError();
            return;
        }
        int args = pos + 11;
        int lim = pos + head;
        long mine = (fromClient ? 0 : FROM_SERVER) | channel;
        long theirs = (fromClient ? FROM_SERVER : 0) | channel;
        if (reply(cls, method)) {
            boolean closeOk = (cls == CONNECTION && method == 51) || (cls == CHANNEL && method == 41);
            if (closeOk && conn.pendingByKey(theirs) == null) {
                return; // the close it confirms was an error close, already reported
            }
            RequestLog log = conn.respondTo(theirs, pos);
            if (log != null) {
                if (log.statusClass() == StatusClass.UNKNOWN) {
                    log.statusClass(StatusClass.OK);
                }
                if (log.statusCode() < 0) {
                    log.statusCode(0);
                }
                log.responseBytes(total);
                conn.complete(log);
            }
            return;
        }
        boolean close = (cls == CONNECTION && method == 50) || (cls == CHANNEL && method == 40)
                || (cls == BASIC && method == 50);
        int code = close ? u16(buf, args, lim) : -1;
        if (close && code != 200) {
            // the close answers (and fails) whatever the other side was waiting for on this channel
            RequestLog failed = conn.respondTo(theirs, pos);
            if (failed != null) {
                error(failed, buf, args, lim, code);
                failed.responseBytes(total);
                conn.complete(failed);
            }
        }
        // an error close is the end of the story whether or not its close-ok is ever seen
        boolean waits = request(cls, method) && !(close && code != 200);
        RequestLog log = conn.openRequest(waits ? mine : -1, pos);
        log.method().setAscii(name);
        log.requestBytes(total);
        arguments(log, buf, cls, method, args, lim);
        if (close && code != 200) {
            error(log, buf, args, lim, code);
        } else if (close) {
            log.statusCode(code);
        }
        if (!waits) {
            log.endNanos(log.startNanos()).responseBytes(0);
            if (log.statusClass() == StatusClass.UNKNOWN) {
                log.statusClass(StatusClass.OK);
            }
            conn.complete(log);
        }
    }

    private static void error(RequestLog log, DirectBuffer buf, int args, int lim, int code) {
        log.statusCode(code);
        log.statusClass(code == 320 || code == 506 || code == 541 ? StatusClass.SERVER_ERROR
                : StatusClass.CLIENT_ERROR);
        shortstr(log.errorMessage(), buf, args + 2, lim);
    }

    private static void arguments(RequestLog log, DirectBuffer buf, int cls, int method, int at, int lim) {
        if (cls == CONNECTION && method == 40) {
            shortstr(log.host(), buf, at, lim);
        } else if (cls == BASIC && method == 40) {
            at = shortstr(log.resource(), buf, at + 2, lim);
            routingKey(log, buf, at, lim);
        } else if (cls == BASIC && method == 60) {
            at = skipShortstr(buf, at, lim) + 9;
            at = shortstr(log.resource(), buf, at, lim);
            routingKey(log, buf, at, lim);
        } else if (cls == BASIC && method == 50) {
            at = skipShortstr(buf, at + 2, lim);
            at = shortstr(log.resource(), buf, at, lim);
            routingKey(log, buf, at, lim);
        } else if (cls == EXCHANGE && (method == 10 || method == 20) || cls == QUEUE
                || cls == BASIC && (method == 20 || method == 70)) {
            at = shortstr(log.resource(), buf, at + 2, lim);
            if (cls == QUEUE && (method == 20 || method == 50)) {
                at = skipShortstr(buf, at, lim);
                routingKey(log, buf, at, lim);
            }
        }
        if (!log.resource().isEmpty()) {
            log.endpoint().copyFrom(log.resource());
        }
    }

    private static void routingKey(RequestLog log, DirectBuffer buf, int at, int lim) {
        if (at < lim && (buf.getByte(at) & 0xFF) > 0) {
            TextField rk = log.addAttribute(ROUTING_KEY);
            if (rk != null) {
                shortstr(rk, buf, at, lim);
            }
        }
    }

    /** Copies a short string (length byte + bytes) and returns where the next field starts. */
    private static int shortstr(TextField out, DirectBuffer buf, int at, int lim) {
        if (at >= lim) {
            return lim;
        }
        int n = buf.getByte(at) & 0xFF;
        int have = Math.min(n, lim - at - 1);
        if (have > 0) {
            out.set(buf, at + 1, have);
        }
        return at + 1 + n;
    }

    private static int skipShortstr(DirectBuffer buf, int at, int lim) {
        return at >= lim ? lim : at + 1 + (buf.getByte(at) & 0xFF);
    }

    private static int u16(DirectBuffer buf, int at, int lim) {
        return at + 2 <= lim ? buf.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF : -1;
    }
}
