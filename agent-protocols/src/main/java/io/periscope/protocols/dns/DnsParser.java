package io.periscope.protocols.dns;

import io.periscope.protocols.Connection;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolParser;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * DNS over UDP (one message per datagram) and TCP (two-byte length prefix). The question name is
 * the resource, its type goes to {@code dns.question.type}, the response code to the status
 * (NXDOMAIN, FORMERR, REFUSED are client errors; SERVFAIL and the rest server errors) and the
 * answer count to {@code periscope.dns.answer_count}. Queries pair with answers by id.
 */
public final class DnsParser implements ProtocolParser {
    public static final String QUESTION_TYPE = "dns.question.type";
    public static final String ANSWER_COUNT = "periscope.dns.answer_count";

    private static final int HEADER_BYTES = 12;
    private static final int QR = 0x8000;
    private static final int MAX_LABELS = 128;
    private static final int MAX_QUESTIONS = 4;
    private static final int MAX_OPCODE = 6;
    private static final int CLASS_IN = 1;
    private static final int CLASS_ANY = 255;
    private static final String[] OPCODES = {"QUERY", "IQUERY", "STATUS", "3", "NOTIFY", "UPDATE", "DSO"};
    private static final String[] RCODES = {"NoError", "FormErr", "ServFail", "NXDomain", "NotImp", "Refused",
        "YXDomain", "YXRRSet", "NXRRSet", "NotAuth", "NotZone"};

    @Override
    public L7Protocol protocol() {
        return L7Protocol.DNS;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        int pos = offset;
        int end = offset + length;
        if (!udp) {
            if (length < 2 + HEADER_BYTES) {
                return Inference.NO;
            }
            int len = buf.getShort(pos, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            if (len < HEADER_BYTES || len > length - 2 + 65_535 || (!portHint && len != length - 2)) {
                return Inference.NO;
            }
            pos += 2;
            end = Math.min(end, pos + len);
        }
        if (end - pos < HEADER_BYTES) {
            return Inference.NO;
        }
        int flags = buf.getShort(pos + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int qd = buf.getShort(pos + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int an = buf.getShort(pos + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int opcode = (flags >> 11) & 0xF;
        boolean response = (flags & QR) != 0;
        if (qd == 0 || qd > MAX_QUESTIONS || opcode > MAX_OPCODE || (!response && an > 0 && !portHint)
                || (flags & 0x0040) != 0) {
            return Inference.NO;
        }
        int q = skipName(buf, pos + HEADER_BYTES, end);
        if (q < 0 || q + 4 > end) {
            // the question may just be cut (a TCP segment boundary): the port decides
            return portHint && !udp ? (response ? Inference.RESPONSE : Inference.REQUEST) : Inference.NO;
        }
        int qclass = buf.getShort(q + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (qclass != CLASS_IN && qclass != CLASS_ANY && !portHint) {
            return Inference.NO;
        }
        return response ? Inference.RESPONSE : Inference.REQUEST;
    }

    /** TCP state: bytes of the current message still to skip, per direction. */
    static final class State {
        final long[] skip = new long[2];
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    public void reset(Object state, boolean requestSide) {
        ((State) state).skip[requestSide ? 0 : 1] = 0;
    }

    @Override
    public void skip(Connection conn, boolean requestSide, long missingBytes) {
        State s = (State) conn.state();
        int d = requestSide ? 0 : 1;
        s.skip[d] = Math.max(0, s.skip[d] - missingBytes);
    }

    @Override
    public int parse(Connection conn, boolean requestSide, DirectBuffer buf, int offset, int length) {
        if (conn.udp()) {
            if (!message(conn, buf, offset, offset + length, length)) {
                conn.parseError();
            }
            return length;
        }
        State s = (State) conn.state();
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
            if (end - pos < 2 + HEADER_BYTES) {
                return pos - offset;
            }
            int len = buf.getShort(pos, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            int msgEnd = pos + 2 + len;
            int have = Math.min(end, msgEnd);
            int q = msgEnd > end ? skipName(buf, pos + 2 + HEADER_BYTES, have) : 0;
            if (q < 0 || q + 4 > have) {
                // the question is not all here yet
                return pos - offset;
            }
            if (len < HEADER_BYTES || !message(conn, buf, pos + 2, have, len + 2)) {
                conn.parseError();
                return length;
            }
            s.skip[d] = msgEnd - have;
            pos = have;
        }
        return length;
    }

    /** Handles one message in {@code [pos, end)}; false when malformed. */
    private static boolean message(Connection conn, DirectBuffer buf, int pos, int end, long trueBytes) {
        if (end - pos < HEADER_BYTES) {
            return false;
        }
        int id = buf.getShort(pos, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int flags = buf.getShort(pos + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int qd = buf.getShort(pos + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int an = buf.getShort(pos + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int q = pos + HEADER_BYTES;
        int qEnd = qd > 0 ? skipName(buf, q, end) : -1;
        if ((flags & QR) == 0) {
            if (qd == 0 || qEnd < 0 || qEnd + 4 > end) {
                return false;
            }
            RequestLog log = conn.openRequest(id, pos);
            int opcode = (flags >> 11) & 0xF;
            log.method().setAscii(opcode < OPCODES.length ? OPCODES[opcode] : "OPCODE");
            log.requestBytes(trueBytes);
            readName(buf, q, end, log.resource());
            log.host().copyFrom(log.resource());
            questionType(log, buf.getShort(qEnd, ByteOrder.BIG_ENDIAN) & 0xFFFF);
            return true;
        }
        RequestLog log = conn.respondTo(id, pos);
        if (log == null) {
            return true;
        }
        int rcode = flags & 0xF;
        log.statusCode(rcode);
        log.responseBytes(trueBytes);
        if (rcode == 0) {
            log.statusClass(StatusClass.OK);
        } else {
            boolean client = rcode == 1 || rcode == 3 || rcode == 5;
            log.statusClass(client ? StatusClass.CLIENT_ERROR : StatusClass.SERVER_ERROR);
            log.errorMessage().setAscii(rcode < RCODES.length ? RCODES[rcode] : "RCode");
        }
        TextField count = log.addAttribute(ANSWER_COUNT);
        if (count != null) {
            count.appendDecimal(an);
        }
        conn.complete(log);
        return true;
    }

    /** The offset after the name at {@code pos}; -1 when malformed or cut. */
    static int skipName(DirectBuffer buf, int pos, int end) {
        for (int labels = 0; labels < MAX_LABELS && pos < end; labels++) {
            int len = buf.getByte(pos) & 0xFF;
            if (len == 0) {
                return pos + 1;
            }
            if ((len & 0xC0) == 0xC0) {
                return pos + 2 <= end ? pos + 2 : -1;
            }
            if ((len & 0xC0) != 0) {
                return -1;
            }
            pos += 1 + len;
        }
        return -1;
    }

    /** Writes the dotted name at {@code pos} (following compression pointers, bounded) into {@code out}. */
    static void readName(DirectBuffer buf, int pos, int end, TextField out) {
        out.clear();
        int jumps = 0;
        int start = pos - HEADER_BYTES;
        for (int labels = 0; labels < MAX_LABELS && pos < end && pos >= 0; labels++) {
            int len = buf.getByte(pos) & 0xFF;
            if (len == 0) {
                return;
            }
            if ((len & 0xC0) == 0xC0) {
                if (pos + 1 >= end || ++jumps > MAX_LABELS) {
                    return;
                }
                pos = start + (((len & 0x3F) << 8) | (buf.getByte(pos + 1) & 0xFF));
                continue;
            }
            if (pos + 1 + len > end) {
                return;
            }
            if (!out.isEmpty()) {
                out.append((byte) '.');
            }
            out.append(buf, pos + 1, len);
            pos += 1 + len;
        }
    }

    private static void questionType(RequestLog log, int type) {
        TextField f = log.addAttribute(QUESTION_TYPE);
        if (f == null) {
            return;
        }
        String name = typeName(type);
        if (name != null) {
            f.setAscii(name);
        } else {
            f.appendDecimal(type);
        }
    }

    static String typeName(int type) {
        switch (type) {
            case 1: return "A";
            case 2: return "NS";
            case 5: return "CNAME";
            case 6: return "SOA";
            case 12: return "PTR";
            case 15: return "MX";
            case 16: return "TXT";
            case 28: return "AAAA";
            case 33: return "SRV";
            case 35: return "NAPTR";
            case 41: return "OPT";
            case 43: return "DS";
            case 46: return "RRSIG";
            case 48: return "DNSKEY";
            case 64: return "SVCB";
            case 65: return "HTTPS";
            case 255: return "ANY";
            case 257: return "CAA";
            default: return null;
        }
    }
}
