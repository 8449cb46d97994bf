package io.periscope.protocols.tls;

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
 * The clear-text part of TLS 1.0 to 1.3: the handshake as one record whose duration is the
 * handshake latency from ClientHello to ServerHello (or to the alert that refused it). Method is
 * {@code handshake}; resource and host the SNI server name; version the version the server chose
 * (from supported_versions for TLS 1.3); the cipher suite and the ALPN protocol (the server's
 * choice, else the client's first offer) are attributes. A plaintext alert answering a ClientHello
 * fails it with the alert description as status code. Every later record (application data,
 * encrypted handshake) is skipped by its length: decrypting is the TLS uprobes' job.
 */
public final class TlsParser extends FramedParser<TlsParser.State> {
    /** Attribute: the negotiated cipher suite, IANA name when known, else 0x-hex. */
    public static final String CIPHER = "tls.cipher";
    /** Attribute: the ALPN protocol. */
    public static final String NEXT_PROTOCOL = "tls.next_protocol";

    /** Bytes of a handshake record waited for: a ClientHello with post-quantum key shares is ~1.8 KB. */
    static final int HEAD_BYTES = 4000;
    private static final int RECORD_HEADER_BYTES = 5;
    private static final int MAX_RECORD_BYTES = 16_384 + 2_048;
    private static final int HANDSHAKE = 22;
    private static final int ALERT = 21;
    private static final int CLIENT_HELLO = 1;
    private static final int SERVER_HELLO = 2;
    private static final int EXT_SNI = 0;
    private static final int EXT_ALPN = 16;
    private static final int EXT_SUPPORTED_VERSIONS = 43;
    private static final int INTERNAL_ERROR = 80;

    private static final int[] CIPHER_IDS = {
        0x1301, 0x1302, 0x1303, 0xC02B, 0xC02C, 0xC02F, 0xC030, 0xCCA8, 0xCCA9, 0x009C, 0x009D, 0xC013, 0xC014,
        0x002F, 0x0035,
    };
    private static final String[] CIPHER_NAMES = {
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
    };
    private static final String[] VERSIONS = {"SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};
    private static final String[] HEX = {
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F",
    };

    @Override
    public L7Protocol protocol() {
        return L7Protocol.TLS;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < RECORD_HEADER_BYTES + 4 || buf.getByte(offset) != HANDSHAKE
                || buf.getByte(offset + 1) != 3 || buf.getByte(offset + 2) > 4) {
            return Inference.NO;
        }
        int len = buf.getShort(offset + 3, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int type = buf.getByte(offset + 5);
        int hsLen = u24(buf, offset + 6);
        if (len < 4 || len > MAX_RECORD_BYTES || hsLen < 38) {
            return Inference.NO;
        }
        return type == CLIENT_HELLO ? Inference.REQUEST : type == SERVER_HELLO ? Inference.RESPONSE : Inference.NO;
    }

    /** Per-connection state: record bytes still to skip per direction. */
    static final class State extends FrameSkip {
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    protected int frame(Connection conn, State s, boolean requestSide, DirectBuffer buf, int pos, int end) {
        if (end - pos < RECORD_HEADER_BYTES) {
            return WAIT;
        }
        int type = buf.getByte(pos) & 0xFF;
        int len = buf.getShort(pos + 3, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (type < 20 || type > 24 || buf.getByte(pos + 1) != 3 || len > MAX_RECORD_BYTES) {
            return MALFORMED;
        }
        int total = RECORD_HEADER_BYTES + len;
        // only a handshake record is waited for: the others are skipped unread
        int head = head(total, pos, end, type == HANDSHAKE ? HEAD_BYTES : 0);
        if (head < 0) {
            return WAIT;
        }
        int body = pos + RECORD_HEADER_BYTES;
        int lim = pos + head;
        if (type == HANDSHAKE && lim - body >= 4) {
            int hs = buf.getByte(body) & 0xFF;
            if (hs == CLIENT_HELLO && requestSide) {
                clientHello(conn, buf, pos, body + 4, lim);
            } else if (hs == SERVER_HELLO && !requestSide) {
                serverHello(conn, buf, pos, body + 4, lim, total);
            }
        } else if (type == ALERT && len == 2 && lim - body == 2) {
            alert(conn, buf, pos, body, total);
        }
        // The head is read; the rest of the message is passed over.
        s.add(requestSide, total - head);
        return head;
    }

    private static void clientHello(Connection conn, DirectBuffer buf, int pos, int at, int lim) {
        RequestLog log = conn.openRequest(0, pos);
        log.method().setAscii("handshake");
        log.requestBytes(RECORD_HEADER_BYTES + (buf.getShort(pos + 3, ByteOrder.BIG_ENDIAN) & 0xFFFF));
        if (at + 34 > lim) {
            return;
        }
        version(log.version(), buf.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF);
        at += 2 + 32;
        at = skip8(buf, at, lim);
        at = skip16(buf, at, lim);
        at = skip8(buf, at, lim);
        if (at + 2 > lim) {
            return;
        }
        int extEnd = Math.min(lim, at + 2 + (buf.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF));
        at += 2;
        while (at + 4 <= extEnd) {
            // type and length in one read: a browser or JDK ClientHello has 15-20 extensions
            int header = buf.getInt(at, ByteOrder.BIG_ENDIAN);
            int type = header >>> 16;
            int len = header & 0xFFFF;
            int data = at + 4;
            if (data + len > extEnd) {
                return;
            }
            if (type == EXT_SNI && len >= 5 && buf.getByte(data + 2) == 0) {
                int n = buf.getShort(data + 3, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                int have = Math.min(n, data + len - data - 5);
                log.resource().set(buf, data + 5, have);
                log.host().set(buf, data + 5, have);
                log.endpoint().set(buf, data + 5, have);
            } else if (type == EXT_ALPN && len >= 3) {
                int n = buf.getByte(data + 2) & 0xFF;
                TextField alpn = log.addAttribute(NEXT_PROTOCOL);
                if (alpn != null && data + 3 + n <= data + len) {
                    alpn.set(buf, data + 3, n);
                }
            }
            at = data + len;
        }
    }

    private static void serverHello(Connection conn, DirectBuffer buf, int pos, int at, int lim, int total) {
        RequestLog log = conn.respondFirst(pos);
        if (log == null || at + 35 > lim) {
            return;
        }
        version(log.version(), buf.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF);
        at += 2 + 32;
        at = skip8(buf, at, lim);
        if (at + 3 > lim) {
            return;
        }
        cipher(log, buf.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF);
        at += 3;
        if (at + 2 <= lim) {
            int extEnd = Math.min(lim, at + 2 + (buf.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF));
            at += 2;
            while (at + 4 <= extEnd) {
                int header = buf.getInt(at, ByteOrder.BIG_ENDIAN);
                int type = header >>> 16;
                int len = header & 0xFFFF;
                int data = at + 4;
                if (data + len > extEnd) {
                    break;
                }
                if (type == EXT_SUPPORTED_VERSIONS && len == 2) {
                    version(log.version(), buf.getShort(data, ByteOrder.BIG_ENDIAN) & 0xFFFF);
                } else if (type == EXT_ALPN && len >= 3) {
                    TextField alpn = log.attribute(NEXT_PROTOCOL);
                    if (alpn == null) {
                        alpn = log.addAttribute(NEXT_PROTOCOL);
                    }
                    int n = buf.getByte(data + 2) & 0xFF;
                    if (alpn != null && data + 3 + n <= data + len) {
                        alpn.set(buf, data + 3, n);
                    }
                }
                at = data + len;
            }
        }
        log.statusClass(StatusClass.OK).statusCode(0);
        log.responseBytes(total);
        conn.complete(log);
    }

    private static void alert(Connection conn, DirectBuffer buf, int pos, int body, int total) {
        RequestLog log = conn.pendingFirst();
        if (log == null) {
            return;
        }
        conn.respondFirst(pos);
        int level = buf.getByte(body) & 0xFF;
        int description = buf.getByte(body + 1) & 0xFF;
        if (level != 2 && description == 0) {
            return; // close_notify before the answer: not a refusal
        }
        log.statusCode(description);
        log.statusClass(description == INTERNAL_ERROR ? StatusClass.SERVER_ERROR : StatusClass.CLIENT_ERROR);
        log.errorMessage().setAscii(alertName(description));
        log.responseBytes(total);
        conn.complete(log);
    }

    static String alertName(int d) {
        switch (d) {
            case 10: return "unexpected_message";
            case 20: return "bad_record_mac";
            case 40: return "handshake_failure";
            case 42: return "bad_certificate";
            case 43: return "unsupported_certificate";
            case 44: return "certificate_revoked";
            case 45: return "certificate_expired";
            case 46: return "certificate_unknown";
            case 47: return "illegal_parameter";
            case 48: return "unknown_ca";
            case 49: return "access_denied";
            case 50: return "decode_error";
            case 51: return "decrypt_error";
            case 70: return "protocol_version";
            case 71: return "insufficient_security";
            case 80: return "internal_error";
            case 86: return "inappropriate_fallback";
            case 90: return "user_canceled";
            case 109: return "missing_extension";
            case 110: return "unsupported_extension";
            case 112: return "unrecognized_name";
            case 116: return "certificate_required";
            case 120: return "no_application_protocol";
            default: return "alert";
        }
    }

    private static void version(TextField out, int v) {
        if (v >= 0x0300 && v <= 0x0304) {
            out.setAscii(VERSIONS[v - 0x0300]);
        }
    }

    private static void cipher(RequestLog log, int id) {
        TextField out = log.addAttribute(CIPHER);
        if (out == null) {
            return;
        }
        for (int i = 0; i < CIPHER_IDS.length; i++) {
            if (CIPHER_IDS[i] == id) {
                out.setAscii(CIPHER_NAMES[i]);
                return;
            }
        }
        out.setAscii("0x").appendAscii(HEX[(id >> 12) & 0xF]).appendAscii(HEX[(id >> 8) & 0xF])
                .appendAscii(HEX[(id >> 4) & 0xF]).appendAscii(HEX[id & 0xF]);
    }

    private static int skip8(DirectBuffer buf, int at, int lim) {
        return at < lim ? at + 1 + (buf.getByte(at) & 0xFF) : lim;
    }

    private static int skip16(DirectBuffer buf, int at, int lim) {
        return at + 2 <= lim ? at + 2 + (buf.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF) : lim;
    }

    private static int u24(DirectBuffer buf, int at) {
        return ((buf.getByte(at) & 0xFF) << 16) | ((buf.getByte(at + 1) & 0xFF) << 8) | (buf.getByte(at + 2) & 0xFF);
    }
}
