package io.periscope.protocols.memcached;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.Connection;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolParser;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import org.agrona.DirectBuffer;

/**
 * Memcached text protocol, classic and meta commands. Method is the command as sent ({@code get},
 * {@code set}, {@code mg}...), resource the key or keys. Replies come in order, so each ends the
 * oldest pending command; how a reply is framed (one line, VALUE blocks up to END, STAT lines)
 * follows from that command. Retrievals report hits in an attribute; a miss is not an error.
 * {@code ERROR} and {@code CLIENT_ERROR} are client errors, {@code SERVER_ERROR} a server error;
 * the text after the keyword is the error message. {@code noreply} commands and {@code quit} are
 * reported at once with zero duration. Data blocks of any size are skipped by counting.
 */
public final class MemcachedParser implements ProtocolParser {
    /** Attribute: how many of the requested keys a retrieval found (0 = miss). */
    public static final String HITS = "periscope.memcached.hits";

    private static final int MAX_LINE_BYTES = 2048;
    private static final long MAX_DATA_BYTES = 1L << 30;

    // command kinds: how the reply is framed
    static final int UNKNOWN = 0;
    static final int RETRIEVAL = 1;
    static final int STORAGE = 2;
    static final int SINGLE_LINE = 3;
    static final int MULTI_LINE = 4;
    static final int NO_REPLY = 5;
    static final int META_GET = 6;
    static final int META_SET = 7;

    private static final byte[][] COMMANDS = bytes("get", "gets", "gat", "gats", "set", "add", "replace", "append",
            "prepend", "cas", "delete", "incr", "decr", "touch", "stats", "version", "flush_all", "verbosity", "quit",
            "mg", "ms", "md", "ma", "mn", "me", "cache_memlimit", "shutdown", "lru_crawler", "slabs", "watch");
    private static final int[] KINDS = {
        RETRIEVAL, RETRIEVAL, RETRIEVAL, RETRIEVAL, STORAGE, STORAGE, STORAGE, STORAGE, STORAGE, STORAGE,
        SINGLE_LINE, SINGLE_LINE, SINGLE_LINE, SINGLE_LINE, MULTI_LINE, SINGLE_LINE, SINGLE_LINE, SINGLE_LINE,
        NO_REPLY, META_GET, META_SET, SINGLE_LINE, META_GET, SINGLE_LINE, SINGLE_LINE, SINGLE_LINE, NO_REPLY,
        SINGLE_LINE, SINGLE_LINE, SINGLE_LINE,
    };
    /** Arguments before the key: {@code gat}/{@code gats} put the expiry first. */
    private static final int[] KEY_INDEX = {
        1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0,
    };
    private static final byte[] NOREPLY = "noreply".getBytes();
    private static final byte[] END = "END".getBytes();
    private static final byte[] VALUE = "VALUE ".getBytes();
    private static final byte[] ERROR = "ERROR".getBytes();
    private static final byte[] CLIENT_ERROR = "CLIENT_ERROR".getBytes();
    private static final byte[] SERVER_ERROR = "SERVER_ERROR".getBytes();
    private static final byte[] META_VALUE = "VA ".getBytes();
    private static final byte[] META_MISS = "EN".getBytes();

    private static byte[][] bytes(String... s) {
        byte[][] out = new byte[s.length][];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i].getBytes();
        }
        return out;
    }

    @Override
    public L7Protocol protocol() {
        return L7Protocol.MEMCACHED;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < 5) {
            return Inference.NO;
        }
        int end = offset + Math.min(length, MAX_LINE_BYTES);
        int lf = AsciiBytes.indexOfLf(buf, offset, end);
        if (lf < offset + 2 || buf.getByte(lf - 1) != '\r') {
            return Inference.NO;
        }
        int lineEnd = lf - 1;
        int sp = AsciiBytes.indexOf(buf, offset, lineEnd, (byte) ' ');
        int cmd = command(buf, offset, (sp < 0 ? lineEnd : sp) - offset);
        if (cmd < 0) {
            return Inference.NO;
        }
        int kind = KINDS[cmd];
        if (KEY_INDEX[cmd] > 0 && sp < 0) {
            return Inference.NO;
        }
        for (int i = offset; i < lineEnd; i++) {
            byte b = buf.getByte(i);
            if (b <= ' ' && b != ' ') {
                return Inference.NO;
            }
        }
        if (kind == STORAGE) {
            // set <key> <flags> <exptime> <bytes>: the numbers must be numbers
            long n = token(buf, sp + 1, lineEnd, 3);
            return n >= 0 ? Inference.REQUEST : Inference.NO;
        }
        return Inference.REQUEST;
    }

    private static int command(DirectBuffer buf, int offset, int len) {
        for (int i = 0; i < COMMANDS.length; i++) {
            byte[] c = COMMANDS[i];
            if (c.length == len && AsciiBytes.startsWith(buf, offset, len, c)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The numeric token {@code index} (0-based, counting from {@code from}) of a line, or -1; the
     * tokens before it are checked to exist only.
     */
    private static long token(DirectBuffer buf, int from, int end, int index) {
        int pos = from;
        for (int t = 0; t <= index; t++) {
            while (pos < end && buf.getByte(pos) == ' ') {
                pos++;
            }
            int sp = AsciiBytes.indexOf(buf, pos, end, (byte) ' ');
            int tokEnd = sp < 0 ? end : sp;
            if (tokEnd == pos) {
                return -1;
            }
            if (t == index) {
                return AsciiBytes.parseDecimal(buf, pos, tokEnd - pos);
            }
            if (t > 0 && AsciiBytes.parseDecimal(buf, pos, tokEnd - pos) < 0) {
                return -1;
            }
            pos = tokEnd;
        }
        return -1;
    }

    /** Per-connection state: data bytes still to skip per direction, the reply in progress. */
    static final class State {
        long reqSkip;
        long respSkip;
        RequestLog reqLog;
        boolean inReply;
        int hits;
        long respBytes;
        /**
         * The request opened last on this connection and its command kind: a reply looks its
         * request's kind up several times. Valid while that record is pending here (a pooled
         * record is opened again, and this overwritten, before it can be pending again).
         */
        RequestLog kindLog;
        int kind;
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    public void reset(Object state, boolean requestSide) {
        State s = (State) state;
        if (requestSide) {
            s.reqSkip = 0;
            s.reqLog = null;
        } else {
            s.respSkip = 0;
            s.inReply = false;
            s.hits = 0;
            s.respBytes = 0;
        }
    }

    @Override
    public void skip(Connection conn, boolean requestSide, long missingBytes) {
        State s = (State) conn.state();
        if (requestSide && s.reqSkip >= missingBytes) {
            s.reqSkip -= missingBytes;
        } else if (!requestSide && s.respSkip >= missingBytes) {
            s.respSkip -= missingBytes;
            s.respBytes += missingBytes;
        } else {
            reset(s, requestSide);
        }
    }

    @Override
    public int parse(Connection conn, boolean requestSide, DirectBuffer buf, int offset, int length) {
        State s = (State) conn.state();
        int pos = requestSide ? requests(conn, s, buf, offset, offset + length)
                : replies(conn, s, buf, offset, offset + length);
        if (pos < 0) {
            conn.parseError();
            reset(s, requestSide);
            return length;
        }
        return pos - offset;
    }

    private static int requests(Connection conn, State s, DirectBuffer buf, int pos, int end) {
        while (pos < end) {
            if (s.reqSkip > 0) {
                int n = (int) Math.min(s.reqSkip, end - pos);
                s.reqSkip -= n;
                pos += n;
                continue;
            }
            int lf = AsciiBytes.indexOfLf(buf, pos, end);
            if (lf < 0) {
                return end - pos > MAX_LINE_BYTES ? -1 : pos;
            }
            int lineEnd = lf > pos && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            if (lineEnd == pos) {
                pos = lf + 1;
                continue;
            }
            int sp = AsciiBytes.indexOf(buf, pos, lineEnd, (byte) ' ');
            int cmdEnd = sp < 0 ? lineEnd : sp;
            int cmd = command(buf, pos, cmdEnd - pos);
            RequestLog log = conn.openRequest(0, pos);
            log.method().set(buf, pos, Math.min(cmdEnd - pos, RequestLog.METHOD_BYTES));
            long total = lf + 1 - pos;
            int kind = cmd < 0 ? UNKNOWN : KINDS[cmd];
            s.kindLog = log;
            s.kind = kind;
            if (cmd >= 0 && KEY_INDEX[cmd] > 0) {
                keys(log.resource(), buf, cmdEnd, lineEnd, KEY_INDEX[cmd], kind == RETRIEVAL);
            }
            if (kind == STORAGE) {
                long n = token(buf, cmdEnd, lineEnd, 3);
                if (n < 0 || n > MAX_DATA_BYTES) {
                    conn.discard(log);
                    return -1;
                }
                s.reqSkip = n + 2;
                total += n + 2;
            } else if (kind == META_SET) {
                long n = token(buf, cmdEnd, lineEnd, 1);
                if (n >= 0 && n <= MAX_DATA_BYTES) {
                    s.reqSkip = n + 2;
                    total += n + 2;
                }
            }
            log.requestBytes(total);
            if (kind == NO_REPLY || endsWith(buf, pos, lineEnd, NOREPLY)) {
                log.endNanos(log.startNanos()).statusClass(StatusClass.OK).responseBytes(0);
                conn.complete(log);
            }
            pos = lf + 1;
        }
        return pos;
    }

    /** Copies the key (or, for retrievals, every key) that follows {@code index - 1} arguments. */
    private static void keys(TextField out, DirectBuffer buf, int from, int end, int index, boolean all) {
        int pos = from;
        int t = 0;
        while (pos < end) {
            while (pos < end && buf.getByte(pos) == ' ') {
                pos++;
            }
            int sp = AsciiBytes.indexOf(buf, pos, end, (byte) ' ');
            int tokEnd = sp < 0 ? end : sp;
            if (tokEnd == pos) {
                return;
            }
            if (++t >= index) {
                if (!out.isEmpty()) {
                    out.append((byte) ' ');
                }
                out.append(buf, pos, tokEnd - pos);
                if (!all) {
                    return;
                }
            }
            pos = tokEnd;
        }
    }

    private static boolean endsWith(DirectBuffer buf, int from, int end, byte[] word) {
        int at = end - word.length;
        return at > from && buf.getByte(at - 1) == ' ' && AsciiBytes.startsWith(buf, at, word.length, word);
    }

    private static int kindOf(State s, RequestLog log) {
        if (log == s.kindLog) {
            return s.kind;
        }
        TextField m = log.method();
        for (int i = 0; i < COMMANDS.length; i++) {
            byte[] c = COMMANDS[i];
            if (c.length == m.length() && java.util.Arrays.equals(c, 0, c.length, m.array(), 0, c.length)) {
                return KINDS[i];
            }
        }
        return UNKNOWN;
    }

    private static int replies(Connection conn, State s, DirectBuffer buf, int pos, int end) {
        while (pos < end) {
            if (s.respSkip > 0) {
                int n = (int) Math.min(s.respSkip, end - pos);
                s.respSkip -= n;
                s.respBytes += n;
                pos += n;
                if (s.respSkip == 0 && !s.inReply) {
                    done(conn, s, StatusClass.OK);
                }
                continue;
            }
            int lf = AsciiBytes.indexOfLf(buf, pos, end);
            if (lf < 0) {
                return end - pos > MAX_LINE_BYTES ? -1 : pos;
            }
            int lineEnd = lf > pos && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            int lineLen = lineEnd - pos;
            RequestLog log = conn.pendingFirst();
            if (log == null) {
                conn.orphanResponse();
                pos = lf + 1;
                continue;
            }
            int kind = kindOf(s, log);
            if (!s.inReply) {
                s.inReply = true;
                s.hits = 0;
                s.respBytes = 0;
                conn.respondFirst(pos);
            }
            s.respBytes += lf + 1 - pos;
            int next = lf + 1;
            if (AsciiBytes.startsWith(buf, pos, lineLen, SERVER_ERROR)) {
                error(log, buf, pos, lineEnd, SERVER_ERROR.length);
                done(conn, s, StatusClass.SERVER_ERROR);
            } else if (AsciiBytes.startsWith(buf, pos, lineLen, CLIENT_ERROR)) {
                error(log, buf, pos, lineEnd, CLIENT_ERROR.length);
                done(conn, s, StatusClass.CLIENT_ERROR);
            } else if (lineLen == ERROR.length && AsciiBytes.startsWith(buf, pos, lineLen, ERROR)) {
                log.errorMessage().setAscii("ERROR");
                done(conn, s, StatusClass.CLIENT_ERROR);
            } else if (kind == RETRIEVAL || kind == MULTI_LINE) {
                if (lineLen == END.length && AsciiBytes.startsWith(buf, pos, lineLen, END)) {
                    done(conn, s, StatusClass.OK);
                } else if (AsciiBytes.startsWith(buf, pos, lineLen, VALUE)) {
                    long n = token(buf, pos + VALUE.length, lineEnd, 2);
                    if (n < 0 || n > MAX_DATA_BYTES) {
                        return -1;
                    }
                    s.hits++;
                    s.respSkip = n + 2;
                }
                // STAT lines and others of a multi-line reply: keep reading to END
            } else if (kind == META_GET && AsciiBytes.startsWith(buf, pos, lineLen, META_VALUE)) {
                long n = token(buf, pos + META_VALUE.length, lineEnd, 0);
                if (n < 0 || n > MAX_DATA_BYTES) {
                    return -1;
                }
                s.hits = 1;
                s.inReply = false;
                s.respSkip = n + 2;
            } else {
                boolean miss = kind == META_GET && AsciiBytes.startsWith(buf, pos, lineLen, META_MISS);
                s.hits = kind == META_GET && !miss ? 1 : 0;
                done(conn, s, StatusClass.OK);
            }
            pos = next;
        }
        return pos;
    }

    private static void error(RequestLog log, DirectBuffer buf, int pos, int lineEnd, int keyword) {
        int from = Math.min(lineEnd, pos + keyword + 1);
        log.errorMessage().set(buf, from, lineEnd - from);
    }

    private static void done(Connection conn, State s, StatusClass cls) {
        s.inReply = false;
        RequestLog log = conn.pendingFirst();
        if (log == null) {
            return;
        }
        log.statusClass(cls);
        log.responseBytes(s.respBytes);
        int kind = kindOf(s, log);
        if (cls == StatusClass.OK && (kind == RETRIEVAL || kind == META_GET)) {
            TextField h = log.addAttribute(HITS);
            if (h != null) {
                h.appendDecimal(s.hits);
            }
        }
        conn.complete(log);
    }
}
