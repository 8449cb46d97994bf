package io.periscope.protocols.mongodb;

import io.periscope.protocols.Connection;
import io.periscope.protocols.FrameSkip;
import io.periscope.protocols.FramedParser;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * MongoDB wire protocol: OP_MSG (every command since 3.6) and the legacy OP_QUERY/OP_REPLY still
 * used for the first handshake. Method is the command name (the first key of the command
 * document), resource the collection it names (its value, when a string), host the {@code $db}.
 * A reply pairs with its request by responseTo = requestID; its {@code ok}, {@code errmsg} and
 * {@code code} become the status. Only the head of a message is read ({@link #HEAD_BYTES}), the
 * rest is skipped by counting.
 */
public final class MongoParser extends FramedParser<MongoParser.State> {
    /** Bytes of a message waited for before parsing it: the command name and $db lie within. */
    static final int HEAD_BYTES = 1024;
    private static final int HEADER_BYTES = 16;
    private static final int MAX_MESSAGE_BYTES = 48_000_000;
    private static final int MAX_ELEMENTS = 64;

    static final int OP_REPLY = 1;
    static final int OP_QUERY = 2004;
    static final int OP_COMPRESSED = 2012;
    static final int OP_MSG = 2013;

    private static final byte[] DB = "$db".getBytes();
    private static final byte[] OK = "ok".getBytes();
    private static final byte[] ERRMSG = "errmsg".getBytes();
    private static final byte[] CODE = "code".getBytes();
    /** Error codes that say the server (or its replica set) failed rather than the command. */
    private static final int[] SERVER_CODES = {6, 7, 50, 89, 91, 189, 262, 10107, 11600, 11602, 13435, 13436};

    @Override
    public L7Protocol protocol() {
        return L7Protocol.MONGODB;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < HEADER_BYTES + 5) {
            return Inference.NO;
        }
        int len = buf.getInt(offset, ByteOrder.LITTLE_ENDIAN);
        int responseTo = buf.getInt(offset + 8, ByteOrder.LITTLE_ENDIAN);
        int op = buf.getInt(offset + 12, ByteOrder.LITTLE_ENDIAN);
        if (len < HEADER_BYTES + 5 || len > MAX_MESSAGE_BYTES || responseTo != 0) {
            return Inference.NO;
        }
        int end = offset + Math.min(length, len);
        int doc;
        if (op == OP_MSG) {
            int flags = buf.getInt(offset + 16, ByteOrder.LITTLE_ENDIAN);
            if ((flags & ~0x10003) != 0 || buf.getByte(offset + 20) != 0) {
                return Inference.NO;
            }
            doc = offset + 21;
        } else if (op == OP_QUERY) {
            int name = offset + 20;
            int nul = cstringEnd(buf, name, end);
            if (nul <= name || !printable(buf, name, nul - name)) {
                return Inference.NO;
            }
            doc = nul + 1 + 8;
        } else {
            return Inference.NO;
        }
        if (doc + 7 > end) {
            return Inference.NO;
        }
        int docLen = buf.getInt(doc, ByteOrder.LITTLE_ENDIAN);
        int type = buf.getByte(doc + 4);
        int nameEnd = cstringEnd(buf, doc + 5, end);
        if (docLen < 5 || doc + docLen > offset + len || type < 1 || type > 0x13 || nameEnd <= doc + 5
                || !printable(buf, doc + 5, nameEnd - doc - 5)) {
            return Inference.NO;
        }
        return Inference.REQUEST;
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

    /** Index of the NUL ending a C string starting at {@code at}, or -1 before {@code end}. */
    private static int cstringEnd(DirectBuffer buf, int at, int end) {
        for (int i = at; i < end; i++) {
            if (buf.getByte(i) == 0) {
                return i;
            }
        }
        return -1;
    }

    /** Per-connection state: bytes of the message in flight still to skip, per direction. */
    static final class State extends FrameSkip {
        // reply fields found by the document scan
        boolean hasOk;
        double ok;
        int code;
        int errmsgAt;
        int errmsgLen;
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
        int len = buf.getInt(pos, ByteOrder.LITTLE_ENDIAN);
        if (len < HEADER_BYTES || len > MAX_MESSAGE_BYTES) {
            return MALFORMED;
        }
        int head = head(len, pos, end, HEAD_BYTES);
        if (head < 0) {
            return WAIT;
        }
        if (requestSide) {
            request(conn, buf, pos, head, len);
        } else {
            response(conn, s, buf, pos, head, len);
        }
        s.add(requestSide, len - head);
        return head;
    }

    private static void request(Connection conn, DirectBuffer buf, int pos, int head, int len) {
        int requestId = buf.getInt(pos + 4, ByteOrder.LITTLE_ENDIAN);
        int op = buf.getInt(pos + 12, ByteOrder.LITTLE_ENDIAN);
        int lim = pos + head;
        RequestLog log = conn.openRequest(requestId & 0xFFFF_FFFFL, pos);
        log.requestBytes(len);
        int doc = -1;
        switch (op) {
            case OP_MSG:
                log.version().setAscii("OP_MSG");
                doc = firstBodyDocument(buf, pos + 20, lim);
                break;
            case OP_QUERY: {
                log.version().setAscii("OP_QUERY");
                int name = pos + 20;
                int nul = cstringEnd(buf, name, lim);
                if (nul < 0) {
                    return;
                }
                // "db.collection": the database is the host; "db.$cmd" means the document is a command
                int dot = indexOf(buf, name, nul, (byte) '.');
                if (dot > name) {
                    log.host().set(buf, name, dot - name);
                    if (nul - dot - 1 != 4 || buf.getByte(dot + 1) != '$') {
                        log.method().setAscii("query");
                        log.resource().set(buf, dot + 1, nul - dot - 1);
                        return;
                    }
                }
                doc = nul + 1 + 8;
                break;
            }
            case OP_COMPRESSED:
                log.version().setAscii("OP_COMPRESSED");
                log.method().setAscii("compressed");
                return;
            default:
                log.method().setAscii("op_").appendDecimal(op);
                return;
        }
        if (doc < 0 || doc + 5 > lim) {
            return;
        }
        command(log, buf, doc, lim);
    }

    /** The kind-0 section of an OP_MSG (the command), skipping kind-1 document sequences. */
    private static int firstBodyDocument(DirectBuffer buf, int at, int lim) {
        for (int i = 0; i < MAX_ELEMENTS && at < lim; i++) {
            int kind = buf.getByte(at);
            if (kind == 0) {
                return at + 1;
            }
            if (kind != 1 || at + 5 > lim) {
                return -1;
            }
            int size = buf.getInt(at + 1, ByteOrder.LITTLE_ENDIAN);
            if (size < 4) {
                return -1;
            }
            at += 1 + size;
        }
        return -1;
    }

    /** Reads the command name, its collection and $db from a command document. */
    private static void command(RequestLog log, DirectBuffer buf, int doc, int lim) {
        int docLen = buf.getInt(doc, ByteOrder.LITTLE_ENDIAN);
        int end = Math.min(lim, doc + Math.max(docLen, 5) - 1);
        int at = doc + 4;
        for (int i = 0; i < MAX_ELEMENTS && at < end; i++) {
            int type = buf.getByte(at) & 0xFF;
            int name = at + 1;
            int nul = cstringEnd(buf, name, end);
            if (nul < 0) {
                return;
            }
            int value = nul + 1;
            if (i == 0) {
                log.method().set(buf, name, nul - name);
                if (type == 0x02 && value + 4 <= end) {
                    int n = buf.getInt(value, ByteOrder.LITTLE_ENDIAN) - 1;
                    if (n > 0 && value + 4 + n <= end) {
                        log.resource().set(buf, value + 4, n);
                        log.endpoint().set(buf, value + 4, n);
                    }
                }
            } else if (type == 0x02 && nul - name == DB.length && startsWith(buf, name, DB)) {
                int n = value + 4 <= end ? buf.getInt(value, ByteOrder.LITTLE_ENDIAN) - 1 : -1;
                if (n > 0 && value + 4 + n <= end) {
                    log.host().set(buf, value + 4, n);
                }
                return;
            }
            at = skipValue(buf, type, value, end);
            if (at < 0) {
                return;
            }
        }
    }

    private static void response(Connection conn, State s, DirectBuffer buf, int pos, int head, int len) {
        int responseTo = buf.getInt(pos + 8, ByteOrder.LITTLE_ENDIAN);
        int op = buf.getInt(pos + 12, ByteOrder.LITTLE_ENDIAN);
        RequestLog log = conn.respondTo(responseTo & 0xFFFF_FFFFL, pos);
        if (log == null) {
            return;
        }
        log.responseBytes(len);
        int lim = pos + head;
        int doc = -1;
        if (op == OP_MSG) {
            doc = firstBodyDocument(buf, pos + 20, lim);
        } else if (op == OP_REPLY) {
            doc = pos + 36;
        }
        s.hasOk = false;
        s.code = -1;
        s.errmsgLen = 0;
        if (doc >= 0 && doc + 5 <= lim) {
            scanReply(s, buf, doc, lim);
        }
        if (!s.hasOk) {
            log.statusClass(doc >= 0 ? StatusClass.OK : StatusClass.UNKNOWN);
        } else if (s.ok == 1.0) {
            log.statusClass(StatusClass.OK).statusCode(0);
        } else {
            log.statusCode(s.code);
            log.statusClass(serverCode(s.code) ? StatusClass.SERVER_ERROR : StatusClass.CLIENT_ERROR);
            if (s.errmsgLen > 0) {
                log.errorMessage().set(buf, s.errmsgAt, s.errmsgLen);
            }
        }
        conn.complete(log);
    }

    private static boolean serverCode(int code) {
        for (int c : SERVER_CODES) {
            if (c == code) {
                return true;
            }
        }
        return false;
    }

    private static void scanReply(State s, DirectBuffer buf, int doc, int lim) {
        int docLen = buf.getInt(doc, ByteOrder.LITTLE_ENDIAN);
        int end = Math.min(lim, doc + Math.max(docLen, 5) - 1);
        int at = doc + 4;
        for (int i = 0; i < MAX_ELEMENTS && at < end; i++) {
            int type = buf.getByte(at) & 0xFF;
            int name = at + 1;
            int nul = cstringEnd(buf, name, end);
            if (nul < 0) {
                return;
            }
            int value = nul + 1;
            int nameLen = nul - name;
            if (nameLen == OK.length && startsWith(buf, name, OK)) {
                s.hasOk = true;
                s.ok = number(buf, type, value, end);
            } else if (nameLen == CODE.length && startsWith(buf, name, CODE)) {
                s.code = (int) number(buf, type, value, end);
            } else if (type == 0x02 && nameLen == ERRMSG.length && startsWith(buf, name, ERRMSG)
                    && value + 4 <= end) {
                s.errmsgAt = value + 4;
                s.errmsgLen = Math.max(0, Math.min(buf.getInt(value, ByteOrder.LITTLE_ENDIAN) - 1, end - value - 4));
            }
            at = skipValue(buf, type, value, end);
            if (at < 0) {
                return;
            }
        }
    }

    private static double number(DirectBuffer buf, int type, int at, int end) {
        switch (type) {
            case 0x01:
                return at + 8 <= end ? buf.getDouble(at, ByteOrder.LITTLE_ENDIAN) : -1;
            case 0x08:
                return at < end ? buf.getByte(at) : -1;
            case 0x10:
                return at + 4 <= end ? buf.getInt(at, ByteOrder.LITTLE_ENDIAN) : -1;
            case 0x12:
                return at + 8 <= end ? buf.getLong(at, ByteOrder.LITTLE_ENDIAN) : -1;
            default:
                return -1;
        }
    }

    /** Where the element after a value of {@code type} at {@code at} starts; -1 when unknown or cut. */
    static int skipValue(DirectBuffer buf, int type, int at, int end) {
        long next;
        switch (type) {
            case 0x01: case 0x09: case 0x11: case 0x12:
                next = at + 8L;
                break;
            case 0x02: case 0x0D: case 0x0E:
                next = at + 4 <= end ? at + 4L + buf.getInt(at, ByteOrder.LITTLE_ENDIAN) : -1;
                break;
            case 0x03: case 0x04: case 0x0F:
                next = at + 4 <= end ? at + (long) buf.getInt(at, ByteOrder.LITTLE_ENDIAN) : -1;
                break;
            case 0x05:
                next = at + 4 <= end ? at + 5L + buf.getInt(at, ByteOrder.LITTLE_ENDIAN) : -1;
                break;
            case 0x06: case 0x0A: case 0x7F: case 0xFF:
                next = at;
                break;
            case 0x07:
                next = at + 12L;
                break;
            case 0x08:
                next = at + 1L;
                break;
            case 0x0B: {
                int a = cstringEnd(buf, at, end);
                int b = a < 0 ? -1 : cstringEnd(buf, a + 1, end);
                next = b < 0 ? -1 : b + 1;
                break;
            }
            case 0x0C:
                next = at + 4 <= end ? at + 16L + buf.getInt(at, ByteOrder.LITTLE_ENDIAN) : -1;
                break;
            case 0x10:
                next = at + 4L;
                break;
            case 0x13:
                next = at + 16L;
                break;
            default:
                next = -1;
        }
        return next <= at && type != 0x06 && type != 0x0A && type != 0x7F && type != 0xFF || next > end
                ? -1 : (int) next;
    }

    private static boolean startsWith(DirectBuffer buf, int at, byte[] word) {
        for (int i = 0; i < word.length; i++) {
            if (buf.getByte(at + i) != word[i]) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(DirectBuffer buf, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (buf.getByte(i) == b) {
                return i;
            }
        }
        return -1;
    }
}
