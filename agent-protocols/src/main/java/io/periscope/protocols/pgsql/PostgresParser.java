package io.periscope.protocols.pgsql;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.Connection;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolParser;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.SqlRecord;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * PostgreSQL wire protocol v3. A request is a simple Query ('Q'), or an extended-query batch
 * (Parse/Bind/Execute ... up to Sync); it ends at the server's ReadyForQuery ('Z').
 * CommandComplete ('C') gives the row count ({@code db.response.returned_rows}), ErrorResponse
 * ('E') the SQLSTATE ({@code db.response.status_code}) and message. The startup message names the
 * database ({@code db.namespace}); after an accepted SSLRequest the connection is TLS and ignored.
 */
public final class PostgresParser implements ProtocolParser {
    public static final String DB_NAMESPACE = SqlRecord.DB_NAMESPACE;
    public static final String DB_STATUS_CODE = "db.response.status_code";
    public static final String DB_ROWS = "db.response.returned_rows";

    private static final int PROTOCOL_3 = 196_608;
    private static final int SSL_REQUEST = 80_877_103;
    private static final int GSS_REQUEST = 80_877_104;
    private static final int CANCEL_REQUEST = 80_877_102;
    private static final int HEADER_BYTES = 5;
    private static final int MAX_MESSAGE_BYTES = 1 << 30;
    private static final int MAX_STARTUP_BYTES = 10_000;
    private static final byte[] DATABASE = {'d', 'a', 't', 'a', 'b', 'a', 's', 'e'};
    private static final int SQLSTATE_BYTES = 5;
    private static final int STATEMENTS = 8;
    private static final int STATEMENT_NAME_BYTES = 64;
    /** Most messages one inference walks: a batch or an answer of a few rows. */
    private static final int MAX_CHAIN_MESSAGES = 64;

    @Override
    public L7Protocol protocol() {
        return L7Protocol.POSTGRESQL;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < 8) {
            return Inference.NO;
        }
        int len0 = buf.getInt(offset, ByteOrder.BIG_ENDIAN);
        int code = buf.getInt(offset + 4, ByteOrder.BIG_ENDIAN);
        if (len0 >= 8 && len0 <= MAX_STARTUP_BYTES && (code == PROTOCOL_3 || code == SSL_REQUEST || code == GSS_REQUEST
                || code == CANCEL_REQUEST)) {
            return Inference.REQUEST;
        }
        Inference single = inferOne(buf, offset, length, portHint);
        if (single != Inference.NO) {
            return single;
        }
        // No port hint, or a message the single-message rules cannot tell: a whole read that is a
        // chain of well-formed messages ending in Sync (a client's extended-query batch) or in
        // ReadyForQuery (a server's answer). Seen mid-stream on a server socket whose role is not
        // known (a forking server like postgres), pgjdbc's Bind/Execute/Sync batches are all there is.
        if (chainEndsWith(buf, offset, offset + length, true)) {
            return Inference.REQUEST;
        }
        if (chainEndsWith(buf, offset, offset + length, false)) {
            return Inference.RESPONSE;
        }
        return Inference.NO;
    }

    private static Inference inferOne(DirectBuffer buf, int offset, int length, boolean portHint) {
        byte type = buf.getByte(offset);
        int len = buf.getInt(offset + 1, ByteOrder.BIG_ENDIAN);
        if (len < 4 || len > MAX_MESSAGE_BYTES) {
            return Inference.NO;
        }
        boolean exact = len + 1 == length;
        boolean fits = len + 1 <= length;
        switch (type) {
            case 'Q':
                // a statement: NUL-terminated text
                return fits && (exact || portHint || nextTypeLooksValid(buf, offset + len + 1, offset + length))
                        && buf.getByte(offset + len) == 0 && len > 5 ? Inference.REQUEST : Inference.NO;
            case 'P':
                // Parse: name, statement text, then parameter type OIDs (so it need not end in NUL)
                return fits && (exact || portHint || nextTypeLooksValid(buf, offset + len + 1, offset + length))
                        && parseLooksValid(buf, offset + HEADER_BYTES, offset + len + 1) ? Inference.REQUEST
                        : Inference.NO;
            case 'R':
                return len >= 8 && len <= 64 && fits ? Inference.RESPONSE : Inference.NO;
            case 'B':
            case 'E':
                return portHint && fits ? Inference.REQUEST : Inference.NO;
            case '1':
            case 'T':
            case 'C':
            case 'Z':
                return portHint && fits ? Inference.RESPONSE : Inference.NO;
            default:
                return Inference.NO;
        }
    }

    /** Parse body: statement name NUL, query text NUL, Int16 n, then exactly n Int32 type OIDs. */
    private static boolean parseLooksValid(DirectBuffer buf, int body, int end) {
        int nameEnd = AsciiBytes.indexOf(buf, body, end, (byte) 0);
        if (nameEnd < 0) {
            return false;
        }
        int queryEnd = AsciiBytes.indexOf(buf, nameEnd + 1, end, (byte) 0);
        if (queryEnd <= nameEnd + 1 || queryEnd + 3 > end) {
            return false;
        }
        int types = buf.getShort(queryEnd + 1, ByteOrder.BIG_ENDIAN);
        return types >= 0 && queryEnd + 3 + 4L * types == end;
    }

    /**
     * Whether [pos, end) is exactly a chain of at least two well-formed messages of one side, the
     * client's ending in Sync or Flush, the server's in ReadyForQuery with a valid status byte.
     */
    private static boolean chainEndsWith(DirectBuffer buf, int pos, int end, boolean frontend) {
        int count = 0;
        byte last = 0;
        int lastLen = 0;
        int lastPos = pos;
        while (pos < end) {
            if (end - pos < HEADER_BYTES || count >= MAX_CHAIN_MESSAGES) {
                return false;
            }
            byte type = buf.getByte(pos);
            int len = buf.getInt(pos + 1, ByteOrder.BIG_ENDIAN);
            if (len < 4 || len + 1L > end - pos || !(frontend ? frontendType(type, len) : backendType(type, len))) {
                return false;
            }
            last = type;
            lastLen = len;
            lastPos = pos;
            pos += len + 1;
            count++;
        }
        if (count < 2) {
            return false;
        }
        if (frontend) {
            return (last == 'S' || last == 'H') && lastLen == 4;
        }
        byte status = buf.getByte(lastPos + HEADER_BYTES);
        return last == 'Z' && lastLen == 5 && (status == 'I' || status == 'T' || status == 'E');
    }

    /** Extended-query client messages and the least length each can have. */
    private static boolean frontendType(byte type, int len) {
        switch (type) {
            case 'S':
            case 'H':
                return len == 4;
            case 'P':
                return len >= 8;
            case 'B':
                // portal NUL, statement NUL, three Int16 counts
                return len >= 12;
            case 'E':
                // portal NUL, Int32 row limit
                return len >= 9;
            case 'D':
            case 'C':
                // 'S' or 'P', then a NUL-terminated name
                return len >= 6;
            default:
                return false;
        }
    }

    /** Server messages that answer queries, with their fixed lengths where they have one. */
    private static boolean backendType(byte type, int len) {
        switch (type) {
            case '1':
            case '2':
            case '3':
            case 'n':
            case 'I':
                return len == 4;
            case 'Z':
                return len == 5;
            case 's':
                return len == 4;
            case 'T':
            case 'D':
            case 't':
                return len >= 6;
            case 'C':
            case 'E':
            case 'N':
            case 'S':
                return len >= 5;
            default:
                return false;
        }
    }

    private static boolean nextTypeLooksValid(DirectBuffer buf, int pos, int end) {
        if (pos + HEADER_BYTES > end) {
            return false;
        }
        byte t = buf.getByte(pos);
        return t == 'B' || t == 'D' || t == 'E' || t == 'S' || t == 'H';
    }

    /** Per-connection state. */
    static final class State {
        final long[] skip = new long[2];
        boolean startupDone;
        boolean sslRequested;
        boolean tls;
        /** An extended-query batch is open (Parse/Bind/Execute seen, Sync not yet). */
        boolean batchOpen;
        RequestLog batch;
        final TextField database = new TextField(RequestLog.ATTRIBUTE_VALUE_BYTES);
        long requestBytes;
        long responseBytes;
        /** Named prepared statements seen in Parse, a few per connection, oldest replaced first. */
        final TextField[] statementNames = new TextField[STATEMENTS];
        final TextField[] statementMethods = new TextField[STATEMENTS];
        final TextField[] statementTexts = new TextField[STATEMENTS];
        int nextStatement;

        State() {
            for (int i = 0; i < STATEMENTS; i++) {
                statementNames[i] = new TextField(STATEMENT_NAME_BYTES);
                statementMethods[i] = new TextField(RequestLog.METHOD_BYTES);
                statementTexts[i] = new TextField(RequestLog.RESOURCE_BYTES);
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
        s.skip[requestSide ? 0 : 1] = 0;
        if (requestSide) {
            s.batchOpen = false;
            s.batch = null;
        }
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
        while (pos < end) {
            if (s.skip[d] > 0) {
                long n = Math.min(s.skip[d], end - pos);
                s.skip[d] -= n;
                pos += (int) n;
                continue;
            }
            if (!requestSide && s.sslRequested) {
                // the one-byte answer to SSLRequest
                s.sslRequested = false;
                s.tls = buf.getByte(pos) == 'S';
                pos++;
                continue;
            }
            if (requestSide && !s.startupDone && end - pos >= 8) {
                int len = buf.getInt(pos, ByteOrder.BIG_ENDIAN);
                int code = buf.getInt(pos + 4, ByteOrder.BIG_ENDIAN);
                if (len >= 8 && len <= MAX_STARTUP_BYTES && (code == PROTOCOL_3 || code == SSL_REQUEST
                        || code == GSS_REQUEST || code == CANCEL_REQUEST)) {
                    if (pos + len > end) {
                        return pos - offset;
                    }
                    if (code == PROTOCOL_3) {
                        s.startupDone = true;
                        startupDatabase(s, buf, pos + 8, pos + len);
                    } else {
                        s.sslRequested = code == SSL_REQUEST || code == GSS_REQUEST;
                    }
                    pos += len;
                    continue;
                }
            }
            if (end - pos < HEADER_BYTES) {
                return pos - offset;
            }
            byte type = buf.getByte(pos);
            int len = buf.getInt(pos + 1, ByteOrder.BIG_ENDIAN);
            if (len < 4 || len > MAX_MESSAGE_BYTES || !(type >= '1' && type <= 'z')) {
                conn.parseError();
                reset(s, requestSide);
                return length;
            }
            s.startupDone = true;
            long total = len + 1L;
            int body = pos + HEADER_BYTES;
            boolean needBody = requestSide ? type == 'Q' || type == 'P' : type == 'E' || type == 'C';
            if (needBody && pos + total > end && total <= conn.config().maxCarryBytes()) {
                return pos - offset;
            }
            int have = (int) Math.min(end, pos + total);
            if (requestSide) {
                frontend(conn, s, type, buf, pos, body, have, total);
            } else {
                backend(conn, s, type, buf, pos, body, have, total);
            }
            s.skip[d] = pos + total - have;
            pos = have;
        }
        return length;
    }

    private static void startupDatabase(State s, DirectBuffer buf, int pos, int end) {
        // NUL-terminated key/value pairs
        while (pos < end) {
            int keyEnd = AsciiBytes.indexOf(buf, pos, end, (byte) 0);
            if (keyEnd <= pos) {
                return;
            }
            int valEnd = AsciiBytes.indexOf(buf, keyEnd + 1, end, (byte) 0);
            if (valEnd < 0) {
                return;
            }
            if (AsciiBytes.equalsIgnoreCase(buf, pos, keyEnd - pos, DATABASE)) {
                s.database.set(buf, keyEnd + 1, valEnd - keyEnd - 1);
            }
            pos = valEnd + 1;
        }
    }

    private static void frontend(Connection conn, State s, byte type, DirectBuffer buf, int pos, int body, int have,
            long total) {
        switch (type) {
            case 'Q': {
                RequestLog log = open(conn, s, pos);
                sql(conn, log, buf, body, have);
                log.requestBytes(total);
                s.batchOpen = false;
                s.batch = null;
                break;
            }
            case 'P': {
                RequestLog log = batch(conn, s, pos);
                // Parse: statement name, then the query
                int nameEnd = AsciiBytes.indexOf(buf, body, have, (byte) 0);
                if (nameEnd >= 0 && log.resource().isEmpty()) {
                    sql(conn, log, buf, nameEnd + 1, have);
                    if (nameEnd > body) {
                        // a named statement (e.g. JDBC after prepareThreshold): later batches only Bind it
                        remember(s, buf, body, nameEnd - body, log);
                    }
                }
                log.requestBytes(log.requestBytes() + total);
                break;
            }
            case 'B': {
                RequestLog log = batch(conn, s, pos);
                // Bind: portal name, then the statement name
                int portalEnd = AsciiBytes.indexOf(buf, body, have, (byte) 0);
                int nameEnd = portalEnd < 0 ? -1 : AsciiBytes.indexOf(buf, portalEnd + 1, have, (byte) 0);
                if (nameEnd > portalEnd + 1 && log.method().isEmpty()) {
                    recall(s, buf, portalEnd + 1, nameEnd - portalEnd - 1, log);
                }
                if (log.method().isEmpty()) {
                    log.method().setAscii("EXECUTE");
                }
                log.requestBytes(log.requestBytes() + total);
                break;
            }
            case 'E':
            case 'D':
            case 'C': {
                RequestLog log = batch(conn, s, pos);
                if (log.method().isEmpty()) {
                    // a statement prepared earlier, run again: its text is not in this batch
                    log.method().setAscii("EXECUTE");
                }
                log.requestBytes(log.requestBytes() + total);
                break;
            }
            case 'S':
                if (s.batch != null && conn.isPending(s.batch)) {
                    s.batch.requestBytes(s.batch.requestBytes() + total);
                }
                s.batchOpen = false;
                s.batch = null;
                break;
            default:
                // Flush, Terminate, password, COPY data, ...: not requests of their own
                break;
        }
    }

    private static void remember(State s, DirectBuffer buf, int name, int nameLength, RequestLog log) {
        int slot = s.nextStatement;
        s.nextStatement = (slot + 1) % STATEMENTS;
        s.statementNames[slot].set(buf, name, nameLength);
        s.statementMethods[slot].copyFrom(log.method());
        s.statementTexts[slot].copyFrom(log.resource());
    }

    private static void recall(State s, DirectBuffer buf, int name, int nameLength, RequestLog log) {
        for (int i = 0; i < STATEMENTS; i++) {
            TextField n = s.statementNames[i];
            if (n.length() == nameLength && !n.truncated() && sameBytes(n, buf, name)) {
                log.method().copyFrom(s.statementMethods[i]);
                log.resource().copyFrom(s.statementTexts[i]);
                return;
            }
        }
    }

    private static boolean sameBytes(TextField f, DirectBuffer buf, int offset) {
        for (int i = 0; i < f.length(); i++) {
            if (f.byteAt(i) != buf.getByte(offset + i)) {
                return false;
            }
        }
        return true;
    }

    private static RequestLog open(Connection conn, State s, int pos) {
        RequestLog log = conn.openRequest(0, pos);
        log.version().setAscii("3.0");
        SqlRecord.database(log, s.database);
        return log;
    }

    private static RequestLog batch(Connection conn, State s, int pos) {
        if (!s.batchOpen || s.batch == null || !conn.isPending(s.batch)) {
            s.batch = open(conn, s, pos);
            s.batch.requestBytes(0);
            s.batchOpen = true;
        }
        return s.batch;
    }

    private static void sql(Connection conn, RequestLog log, DirectBuffer buf, int from, int to) {
        int nul = AsciiBytes.indexOf(buf, from, to, (byte) 0);
        int end = nul < 0 ? to : nul;
        SqlRecord.statement(conn, log, buf, from, end - from);
    }

    private static void backend(Connection conn, State s, byte type, DirectBuffer buf, int pos, int body, int have,
            long total) {
        RequestLog log = conn.pendingFirst();
        if (log == null) {
            return;
        }
        if (log.endNanos() == 0) {
            conn.respondFirst(pos);
            log.responseBytes(0);
            log.statusClass(StatusClass.OK);
        }
        log.responseBytes(log.responseBytes() + total);
        switch (type) {
            case 'C': {
                // "SELECT 5", "INSERT 0 1", "UPDATE 3": the last number is the row count
                int nul = AsciiBytes.indexOf(buf, body, have, (byte) 0);
                int end = nul < 0 ? have : nul;
                int sp = end;
                while (sp > body && buf.getByte(sp - 1) != ' ') {
                    sp--;
                }
                long rows = AsciiBytes.parseDecimal(buf, sp, end - sp);
                if (rows >= 0 && !conn.shallow()) {
                    TextField f = log.attribute(DB_ROWS);
                    if (f == null) {
                        f = log.addAttribute(DB_ROWS);
                    }
                    if (f != null) {
                        f.clear().appendDecimal(rows);
                    }
                }
                break;
            }
            case 'E':
                error(conn, log, buf, body, have);
                break;
            case 'Z':
                conn.complete(log);
                break;
            default:
                break;
        }
    }

    /** ErrorResponse: fields of one type byte and a NUL-terminated value; C is the SQLSTATE, M the message. */
    private static void error(Connection conn, RequestLog log, DirectBuffer buf, int pos, int end) {
        log.statusClass(StatusClass.CLIENT_ERROR);
        while (pos < end) {
            byte field = buf.getByte(pos);
            if (field == 0) {
                break;
            }
            int valEnd = AsciiBytes.indexOf(buf, pos + 1, end, (byte) 0);
            int stop = valEnd < 0 ? end : valEnd;
            if (field == 'C' && stop - pos - 1 == SQLSTATE_BYTES) {
                TextField f = log.addAttribute(DB_STATUS_CODE);
                if (f != null) {
                    f.set(buf, pos + 1, SQLSTATE_BYTES);
                }
                log.statusClass(serverSide(buf.getByte(pos + 1), buf.getByte(pos + 2))
                        ? StatusClass.SERVER_ERROR : StatusClass.CLIENT_ERROR);
            } else if (field == 'M') {
                log.errorMessage().set(buf, pos + 1, stop - pos - 1);
            }
            if (valEnd < 0) {
                break;
            }
            pos = valEnd + 1;
        }
    }

    /** SQLSTATE classes that are the server's trouble: 08 connection, 53 resources, 57/58 operator/system, XX. */
    private static boolean serverSide(byte c0, byte c1) {
        return (c0 == '0' && c1 == '8') || (c0 == '5' && (c1 == '3' || c1 == '7' || c1 == '8'))
                || (c0 == 'X' && c1 == 'X');
    }
}
