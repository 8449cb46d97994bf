package io.periscope.protocols.http1;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.TextField;
import org.agrona.DirectBuffer;

/** Reads trace context header values into a {@link RequestLog}, in place. */
public final class TraceContext {
    private TraceContext() {
    }

    /** W3C {@code traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>}. */
    public static boolean traceparent(RequestLog log, DirectBuffer buf, int v, int len) {
        if (len < 55 || !AsciiBytes.fits(buf, v, v + 55)) {
            return false;
        }
        // the 55 bytes lie in the buffer: unchecked reads
        if (AsciiBytes.byteAt(buf, v + 2) != '-' || AsciiBytes.byteAt(buf, v + 35) != '-'
                || AsciiBytes.byteAt(buf, v + 52) != '-') {
            return false;
        }
        if (!AsciiBytes.decodeTraceparentIds(buf, v + 3, log.traceId(), log.parentSpanId())) {
            return false;
        }
        int flags = AsciiBytes.hexDigit(AsciiBytes.byteAt(buf, v + 54));
        log.sampled(AsciiBytes.hexDigit(AsciiBytes.byteAt(buf, v + 53)) >= 0 && flags >= 0 && (flags & 1) == 1);
        log.hasTraceContext(true);
        return true;
    }

    /** B3 single header {@code b3: <trace id>-<span id>[-<sampled>[-<parent span id>]]}, or just a sampling flag. */
    public static boolean b3Single(RequestLog log, DirectBuffer buf, int v, int len) {
        int end = v + len;
        int d1 = AsciiBytes.indexOf(buf, v, end, (byte) '-');
        if (d1 < 0) {
            return false;
        }
        int d2 = AsciiBytes.indexOf(buf, d1 + 1, end, (byte) '-');
        int spanEnd = d2 < 0 ? end : d2;
        if (!AsciiBytes.decodeHexId(buf, v, d1 - v, log.traceId())
                || !AsciiBytes.decodeHexId(buf, d1 + 1, spanEnd - d1 - 1, log.parentSpanId())) {
            return false;
        }
        log.sampled(d2 >= 0 && d2 + 1 < end && (buf.getByte(d2 + 1) == '1' || buf.getByte(d2 + 1) == 'd'));
        log.hasTraceContext(true);
        return true;
    }

    /** Jaeger {@code uber-trace-id: <trace id>:<span id>:<parent span id>:<flags>}. */
    public static boolean uber(RequestLog log, DirectBuffer buf, int v, int len) {
        int end = v + len;
        int c1 = AsciiBytes.indexOf(buf, v, end, (byte) ':');
        if (c1 < 0) {
            return false;
        }
        int c2 = AsciiBytes.indexOf(buf, c1 + 1, end, (byte) ':');
        if (c2 < 0) {
            return false;
        }
        if (!AsciiBytes.decodeHexId(buf, v, c1 - v, log.traceId())
                || !AsciiBytes.decodeHexId(buf, c1 + 1, c2 - c1 - 1, log.parentSpanId())) {
            return false;
        }
        int c3 = AsciiBytes.indexOf(buf, c2 + 1, end, (byte) ':');
        long flags = c3 < 0 ? -1 : AsciiBytes.parseHex(buf, c3 + 1, end - c3 - 1);
        log.sampled(flags >= 0 && (flags & 1) == 1);
        log.hasTraceContext(true);
        return true;
    }

    /**
     * SkyWalking {@code sw8: <sample>-<base64 trace id>-<base64 segment id>-<span id>-...}: its
     * trace id is free text, not 16 bytes, so it goes to the attribute {@code key} decoded.
     */
    public static boolean sw8(RequestLog log, DirectBuffer buf, int v, int len, String key) {
        int end = v + len;
        int d1 = AsciiBytes.indexOf(buf, v, end, (byte) '-');
        if (d1 < 0) {
            return false;
        }
        int d2 = AsciiBytes.indexOf(buf, d1 + 1, end, (byte) '-');
        if (d2 < 0) {
            return false;
        }
        TextField out = log.attribute(key);
        if (out == null) {
            out = log.addAttribute(key);
            if (out == null) {
                return false;
            }
        }
        out.clear();
        if (!base64(buf, d1 + 1, d2 - d1 - 1, out)) {
            out.clear();
            return false;
        }
        return true;
    }

    /** Decodes standard base64 (padding optional) into {@code out}; false on a bad character. */
    static boolean base64(DirectBuffer buf, int offset, int length, TextField out) {
        int acc = 0;
        int bits = 0;
        for (int i = 0; i < length; i++) {
            byte c = buf.getByte(offset + i);
            int val;
            if (c >= 'A' && c <= 'Z') {
                val = c - 'A';
            } else if (c >= 'a' && c <= 'z') {
                val = c - 'a' + 26;
            } else if (c >= '0' && c <= '9') {
                val = c - '0' + 52;
            } else if (c == '+' || c == '-') {
                val = 62;
            } else if (c == '/' || c == '_') {
                val = 63;
            } else if (c == '=') {
                break;
            } else {
                return false;
            }
            acc = (acc << 6) | val;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out.append((byte) (acc >> bits));
                acc &= (1 << bits) - 1;
            }
        }
        return true;
    }
}
