package io.periscope.protocols.mysql;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.Connection;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolParser;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.SqlRecord;
import io.periscope.protocols.SqlText;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * MySQL / MariaDB client protocol. Commands (sequence id 0) open requests: COM_QUERY and
 * COM_STMT_PREPARE carry SQL, COM_STMT_EXECUTE names a statement id whose SQL was remembered from
 * its prepare (a few per connection); the first response packet (sequence id 1) ends the request
 * as OK, ERR (error code as status, SQLSTATE in {@code db.response.status_code}) or a result
 * set. The login is reported as a LOGIN request. When the handshake negotiates compression,
 * packets are unwrapped (and inflated, bounded) before parsing.
 */
public final class MysqlParser implements ProtocolParser {
    public static final String DB_NAMESPACE = SqlRecord.DB_NAMESPACE;
    public static final String DB_STATUS_CODE = "db.response.status_code";
    public static final String STATEMENT_ID = "periscope.mysql.statement_id";

    private static final int HEADER_BYTES = 4;
    private static final int COMPRESSED_HEADER_BYTES = 7;
    private static final int MAX_PACKET_BYTES = 0xFFFFFF;
    private static final int PROTOCOL_10 = 10;
    private static final int CLIENT_CONNECT_WITH_DB = 0x8;
    private static final int CLIENT_COMPRESS = 0x20;
    private static final int CLIENT_SSL = 0x800;
    private static final int CLIENT_SECURE_CONNECTION = 0x8000;
    private static final int CLIENT_PLUGIN_AUTH_LENENC = 0x200000;
    private static final int LOGIN_FIXED_BYTES = 32;
    private static final int STATEMENTS = 8;
    private static final int INFLATE_INPUT_BYTES = 8192;
    private static final int INFLATE_OUTPUT_BYTES = 16384;
    private static final int OK = 0x00;
    private static final int ERR = 0xFF;
    private static final int EOF = 0xFE;
    private static final int AUTH_MORE = 0x01;
    private static final int EOF_MAX_BYTES = 9;

    private static final int COM_QUIT = 1;
    private static final int COM_INIT_DB = 2;
    private static final int COM_QUERY = 3;
    private static final int COM_PING = 14;
    private static final int COM_STMT_PREPARE = 22;
    private static final int COM_STMT_EXECUTE = 23;
    private static final int COM_STMT_SEND_LONG_DATA = 24;
    private static final int COM_STMT_CLOSE = 25;
    private static final int COM_MAX = 31;

    @Override
    public L7Protocol protocol() {
        return L7Protocol.MYSQL;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < HEADER_BYTES + 1) {
            return Inference.NO;
        }
        if (looksCompressed(buf, offset, offset + length)) {
            // capture began after a handshake that turned compression on
            offset += COMPRESSED_HEADER_BYTES;
            length -= COMPRESSED_HEADER_BYTES;
        }
        int len = u24(buf, offset);
        int seq = buf.getByte(offset + 3) & 0xFF;
        int first = buf.getByte(offset + 4) & 0xFF;
        boolean exact = len + HEADER_BYTES == length;
        if (len == 0 || (!exact && !(portHint && len + HEADER_BYTES > length))) {
            return Inference.NO;
        }
        if (seq == 0 && first == PROTOCOL_10 && length > 6 && buf.getByte(offset + 5) >= '0'
                && buf.getByte(offset + 5) <= '9') {
            return Inference.RESPONSE;
        }
        if (seq == 0 && (first == COM_QUERY || first == COM_STMT_PREPARE) && len > 1) {
            byte c = buf.getByte(offset + 5);
            boolean text = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '(' || c == '/' || c == ' '
                    || c == '\n';
            return text ? Inference.REQUEST : Inference.NO;
        }
        if (portHint && seq == 0 && first > 0 && first <= COM_MAX) {
            return Inference.REQUEST;
        }
        if (portHint && seq == 1 && (first == OK || first == ERR)) {
            return Inference.RESPONSE;
        }
        return Inference.NO;
    }

    /**
     * Whether the bytes are one whole compressed packet holding an uncompressed ordinary packet
     * (what clients send for small commands): the sign of a compressed connection met mid-way.
     */
    static boolean looksCompressed(DirectBuffer buf, int pos, int end) {
        if (end - pos < COMPRESSED_HEADER_BYTES + HEADER_BYTES + 1) {
            return false;
        }
        int clen = u24(buf, pos);
        return clen + COMPRESSED_HEADER_BYTES == end - pos && u24(buf, pos + 4) == 0
                && u24(buf, pos + COMPRESSED_HEADER_BYTES) + HEADER_BYTES == clen;
    }

    /** Per-connection state. */
    static final class State {
        final long[] skip = new long[2];
        final long[] innerSkip = new long[2];
        boolean greetingSeen;
        boolean loginPending;
        boolean loginDone;
        boolean compressRequested;
        boolean compressed;
        boolean tls;
        boolean probed;
        RequestLog login;
        RequestLog prepare;
        final TextField database = new TextField(RequestLog.ATTRIBUTE_VALUE_BYTES);
        final long[] statementIds = new long[STATEMENTS];
        final TextField[] statements = new TextField[STATEMENTS];
        int nextStatement;
        Inflater inflater;
        byte[] inflateInput;
        UnsafeBuffer inflated;

        State() {
            for (int i = 0; i < STATEMENTS; i++) {
                statements[i] = new TextField(RequestLog.RESOURCE_BYTES);
                statementIds[i] = -1;
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
        s.innerSkip[d] = 0;
    }

    @Override
    public String toString() {
        return "MysqlParser";
    }

    @Override
    public void skip(Connection conn, boolean requestSide, long missingBytes) {
        State s = (State) conn.state();
        int d = requestSide ? 0 : 1;
        if (s.skip[d] >= missingBytes) {
            s.skip[d] -= missingBytes;
        } else {
            reset(s, requestSide);
        }
    }

    @Override
    public int parse(Connection conn, boolean requestSide, DirectBuffer buf, int offset, int length) {
        State s = (State) conn.state();
        if (s.tls) {
            return length;
        }
        int d = requestSide ? 0 : 1;
        int pos = offset;
        int end = offset + length;
        if (!s.probed) {
            s.probed = true;
            s.compressed = !s.greetingSeen && looksCompressed(buf, pos, end);
        }
        while (pos < end) {
            if (s.skip[d] > 0) {
                long n = Math.min(s.skip[d], end - pos);
                s.skip[d] -= n;
                pos += (int) n;
                continue;
            }
            int headerBytes = s.compressed ? COMPRESSED_HEADER_BYTES : HEADER_BYTES;
            if (end - pos < headerBytes) {
                return pos - offset;
            }
            int len = u24(buf, pos);
            long total = (long) headerBytes + len;
            if (total > conn.config().maxCarryBytes() || pos + total <= end) {
                int have = (int) Math.min(end, pos + total);
                boolean ok = s.compressed ? compressedPacket(conn, s, requestSide, buf, pos, have, len)
                        : packet(conn, s, requestSide, buf, pos, have);
                if (!ok) {
                    conn.parseError();
                    reset(s, requestSide);
                    return length;
                }
                s.skip[d] = pos + total - have;
                pos = have;
            } else {
                return pos - offset;
            }
        }
        return length;
    }

    /** One compressed packet: a 7-byte header, then raw or deflated ordinary packets. */
    private boolean compressedPacket(Connection conn, State s, boolean requestSide, DirectBuffer buf, int pos,
            int have, int compressedLen) {
        int uncompressedLen = u24(buf, pos + 4);
        int body = pos + COMPRESSED_HEADER_BYTES;
        if (uncompressedLen == 0) {
            return innerPackets(conn, s, requestSide, buf, body, have);
        }
        if (s.inflater == null) {
            s.inflater = new Inflater();
            s.inflateInput = new byte[INFLATE_INPUT_BYTES];
            s.inflated = new UnsafeBuffer(new byte[INFLATE_OUTPUT_BYTES]);
        }
        int in = Math.min(have - body, INFLATE_INPUT_BYTES);
        buf.getBytes(body, s.inflateInput, 0, in);
        s.inflater.reset();
        s.inflater.setInput(s.inflateInput, 0, in);
        int out;
        try {
            out = s.inflater.inflate(s.inflated.byteArray(), 0, INFLATE_OUTPUT_BYTES);
        } catch (DataFormatException e) {
            return false;
        }
        boolean ok = innerPackets(conn, s, requestSide, s.inflated, 0, out);
        if (out < uncompressedLen) {
            // we saw only the start of this compressed packet: the next one starts afresh
            s.innerSkip[requestSide ? 0 : 1] = 0;
        }
        return ok;
    }

    private boolean innerPackets(Connection conn, State s, boolean requestSide, DirectBuffer buf, int pos, int end) {
        int d = requestSide ? 0 : 1;
        while (pos < end) {
            if (s.innerSkip[d] > 0) {
                long n = Math.min(s.innerSkip[d], end - pos);
                s.innerSkip[d] -= n;
                pos += (int) n;
                continue;
            }
            if (end - pos < HEADER_BYTES) {
                return true;
            }
            long total = (long) HEADER_BYTES + u24(buf, pos);
            int have = (int) Math.min(end, pos + total);
            if (!packet(conn, s, requestSide, buf, pos, have)) {
                return false;
            }
            s.innerSkip[d] = pos + total - have;
            pos = have;
        }
        return true;
    }

    /** One ordinary packet at {@code pos} (header included), cut at {@code have}. */
    private boolean packet(Connection conn, State s, boolean requestSide, DirectBuffer buf, int pos, int have) {
        int len = u24(buf, pos);
        int seq = buf.getByte(pos + 3) & 0xFF;
        int body = pos + HEADER_BYTES;
        if (len > MAX_PACKET_BYTES) {
            return false;
        }
        if (body >= have) {
            return len == 0;
        }
        int first = buf.getByte(body) & 0xFF;
        if (requestSide) {
            if (seq == 0) {
                command(conn, s, buf, pos, body, have, first, len);
            } else if (seq == 1 && !s.loginDone && len >= LOGIN_FIXED_BYTES) {
                login(conn, s, buf, pos, body, have, len);
            }
            return true;
        }
        if (seq == 0 && first == PROTOCOL_10 && !s.loginDone) {
            s.greetingSeen = true;
            return true;
        }
        if (s.loginPending) {
            if (first == OK || first == ERR) {
                s.loginPending = false;
                s.loginDone = true;
                RequestLog log = s.login;
                s.login = null;
                if (log != null && conn.isPending(log)) {
                    conn.respondFirst(pos);
                    response(conn, s, log, buf, body, have, first, len);
                }
                if (first == OK && s.compressRequested) {
                    s.compressed = true;
                }
            }
            // auth switch (0xFE) and more data (0x01) continue the login
            return true;
        }
        if (seq == 1) {
            RequestLog log = conn.respondFirst(pos);
            if (log != null) {
                response(conn, s, log, buf, body, have, first, len);
            }
        }
        return true;
    }

    private void command(Connection conn, State s, DirectBuffer buf, int pos, int body, int have, int cmd, int len) {
        if (cmd == COM_QUIT || cmd == COM_STMT_CLOSE || cmd == COM_STMT_SEND_LONG_DATA || cmd > COM_MAX || cmd == 0) {
            // no response will come
            if (cmd == COM_STMT_CLOSE && have - body >= 5) {
                forget(s, u32(buf, body + 1));
            }
            return;
        }
        s.loginDone = true;
        RequestLog log = conn.openRequest(0, pos);
        log.requestBytes(HEADER_BYTES + (long) len);
        SqlRecord.database(log, s.database);
        int text = body + 1;
        switch (cmd) {
            case COM_QUERY:
                if (have - text >= 2 && buf.getByte(text) == 0 && buf.getByte(text + 1) == 1) {
                    // MySQL 8 query attributes (CLIENT_QUERY_ATTRIBUTES): no parameters, one set
                    text += 2;
                }
                SqlRecord.statement(conn, log, buf, text, have - text);
                break;
            case COM_STMT_PREPARE:
                log.method().setAscii("PREPARE");
                SqlText.write(buf, text, have - text, log.resource(), conn.obfuscate());
                s.prepare = log;
                break;
            case COM_STMT_EXECUTE: {
                long id = have - body >= 5 ? u32(buf, body + 1) : -1;
                TextField sql = statement(s, id);
                log.method().setAscii("EXECUTE");
                if (sql != null) {
                    log.resource().copyFrom(sql);
                }
                TextField f = log.addAttribute(STATEMENT_ID);
                if (f != null) {
                    f.appendDecimal(id);
                }
                break;
            }
            case COM_INIT_DB:
                log.method().setAscii("USE");
                log.resource().set(buf, text, have - text);
                s.database.set(buf, text, have - text);
                break;
            case COM_PING:
                log.method().setAscii("PING");
                break;
            default:
                log.method().setAscii("COM_").appendDecimal(cmd);
                break;
        }
    }

    /** HandshakeResponse41: capabilities, max packet, charset, 23 reserved, user, auth, [database]. */
    private static void login(Connection conn, State s, DirectBuffer buf, int pos, int body, int have, int len) {
        int caps = buf.getInt(body, ByteOrder.LITTLE_ENDIAN);
        if (len == LOGIN_FIXED_BYTES && (caps & CLIENT_SSL) != 0) {
            // SSLRequest: TLS follows, nothing more to read here
            s.tls = true;
            return;
        }
        s.compressRequested = (caps & CLIENT_COMPRESS) != 0;
        RequestLog log = conn.openRequest(0, pos);
        log.method().setAscii("LOGIN");
        log.requestBytes(HEADER_BYTES + (long) len);
        s.login = log;
        s.loginPending = true;
        int user = body + LOGIN_FIXED_BYTES;
        int userEnd = AsciiBytes.indexOf(buf, user, have, (byte) 0);
        if (userEnd < 0 || (caps & CLIENT_CONNECT_WITH_DB) == 0) {
            return;
        }
        int auth = userEnd + 1;
        int dbStart;
        if ((caps & CLIENT_PLUGIN_AUTH_LENENC) != 0 || (caps & CLIENT_SECURE_CONNECTION) != 0) {
            if (auth >= have) {
                return;
            }
            int authLen = buf.getByte(auth) & 0xFF;
            if (authLen >= 0xFB) {
                return;
            }
            dbStart = auth + 1 + authLen;
        } else {
            int authEnd = AsciiBytes.indexOf(buf, auth, have, (byte) 0);
            if (authEnd < 0) {
                return;
            }
            dbStart = authEnd + 1;
        }
        int dbEnd = AsciiBytes.indexOf(buf, dbStart, have, (byte) 0);
        if (dbStart < have && dbEnd > dbStart) {
            s.database.set(buf, dbStart, dbEnd - dbStart);
            SqlRecord.database(log, s.database);
        }
    }

    private void response(Connection conn, State s, RequestLog log, DirectBuffer buf, int body, int have, int first,
            int len) {
        log.responseBytes(HEADER_BYTES + (long) len);
        if (first == ERR) {
            if (have - body >= 3) {
                log.statusCode(buf.getShort(body + 1, ByteOrder.LITTLE_ENDIAN) & 0xFFFF);
            }
            int msg = body + 3;
            boolean clientSide = false;
            if (have - msg >= 6 && buf.getByte(msg) == '#') {
                TextField f = log.addAttribute(DB_STATUS_CODE);
                if (f != null) {
                    f.set(buf, msg + 1, 5);
                }
                clientSide = clientSqlState(buf.getByte(msg + 1), buf.getByte(msg + 2));
                msg += 6;
            }
            log.statusClass(clientSide ? StatusClass.CLIENT_ERROR : StatusClass.SERVER_ERROR);
            if (have > msg) {
                log.errorMessage().set(buf, msg, have - msg);
            }
        } else {
            log.statusClass(StatusClass.OK);
            if (first == OK && log == s.prepare && have - body >= 5) {
                remember(s, u32(buf, body + 1), log.resource());
            }
        }
        if (log == s.prepare) {
            s.prepare = null;
        }
        conn.complete(log);
    }

    /** SQLSTATE classes that are the client's doing: syntax/access (42), integrity (23), data (22), auth (28). */
    private static boolean clientSqlState(byte c0, byte c1) {
        return (c0 == '4' && c1 == '2') || (c0 == '2' && (c1 == '3' || c1 == '2' || c1 == '8' || c1 == '1'))
                || (c0 == '3' && c1 == 'D');
    }

    private static void remember(State s, long id, TextField sql) {
        int slot = s.nextStatement;
        s.nextStatement = (slot + 1) % STATEMENTS;
        s.statementIds[slot] = id;
        s.statements[slot].copyFrom(sql);
    }

    private static void forget(State s, long id) {
        for (int i = 0; i < STATEMENTS; i++) {
            if (s.statementIds[i] == id) {
                s.statementIds[i] = -1;
            }
        }
    }

    private static TextField statement(State s, long id) {
        for (int i = 0; i < STATEMENTS; i++) {
            if (s.statementIds[i] == id && id >= 0) {
                return s.statements[i];
            }
        }
        return null;
    }

    private static int u24(DirectBuffer buf, int pos) {
        return (buf.getByte(pos) & 0xFF) | ((buf.getByte(pos + 1) & 0xFF) << 8) | ((buf.getByte(pos + 2) & 0xFF) << 16);
    }

    private static long u32(DirectBuffer buf, int pos) {
        return buf.getInt(pos, ByteOrder.LITTLE_ENDIAN) & 0xFFFFFFFFL;
    }
}
