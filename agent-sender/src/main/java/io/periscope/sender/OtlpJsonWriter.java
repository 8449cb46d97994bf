package io.periscope.sender;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Transcodes an encoded {@code Export*ServiceRequest} (protobuf wire format) straight into one
 * line of OTLP/JSON in a reused byte buffer: no generated message objects, no {@code JsonFormat},
 * no strings. What {@link OtlpJson#print} writes, field for field: lowerCamelCase keys, 64-bit
 * integers as decimal strings, enums as integers, trace/span ids as hex, other bytes as base64,
 * proto3 default values left out.
 *
 * <p>The walk is driven by tables built once from the generated descriptors, so traces, metrics
 * and logs share one code path. It streams: each field is written as it is read, which holds as
 * long as the encoder wrote each repeated field in one run and each singular field once (our
 * {@link SpanEncoder} and the generated {@code toByteArray} both do). Input that breaks this
 * (legal protobuf, merged on parse) goes through the generated parser and {@code JsonFormat}
 * instead, counted in {@link #fallbacks()}. Malformed UTF-8 in a string is written with
 * replacement characters (the generated parser would refuse the whole request).
 *
 * <p>Steady-state allocation: none for spans and logs; a double or float value (metrics) goes
 * through {@link Double#toString}. One instance per thread.
 */
public final class OtlpJsonWriter {
    private static final int MAX_DEPTH = 100;
    private static final int WIRE_VARINT = 0;
    private static final int WIRE_FIXED64 = 1;
    private static final int WIRE_LEN = 2;
    private static final int WIRE_FIXED32 = 5;

    // What a field's value becomes in JSON.
    private static final int K_INT32 = 1;
    private static final int K_INT64 = 2;
    private static final int K_UINT32 = 3;
    private static final int K_UINT64 = 4;
    private static final int K_SINT32 = 5;
    private static final int K_SINT64 = 6;
    private static final int K_FIXED32 = 7;
    private static final int K_FIXED64 = 8;
    private static final int K_SFIXED32 = 9;
    private static final int K_SFIXED64 = 10;
    private static final int K_BOOL = 11;
    private static final int K_ENUM = 12;
    private static final int K_FLOAT = 13;
    private static final int K_DOUBLE = 14;
    private static final int K_STRING = 15;
    private static final int K_BYTES = 16;
    private static final int K_HEX_ID = 17;
    private static final int K_MESSAGE = 18;

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);
    /** Per ASCII byte: 0 = copy as is, 'u' = \\u00XX, else the letter after a backslash. */
    private static final byte[] ESCAPE = new byte[128];

    /** Per byte value: whether it ends a run that can be copied as is. */
    private static final boolean[] NEEDS_ESCAPE = new boolean[256];

    static {
        for (int c = 0; c < 0x20; c++) {
            ESCAPE[c] = 'u';
            NEEDS_ESCAPE[c] = true;
        }
        NEEDS_ESCAPE['"'] = true;
        NEEDS_ESCAPE['\\'] = true;
        ESCAPE['\b'] = 'b';
        ESCAPE['\t'] = 't';
        ESCAPE['\n'] = 'n';
        ESCAPE['\f'] = 'f';
        ESCAPE['\r'] = 'r';
        ESCAPE['"'] = '"';
        ESCAPE['\\'] = '\\';
    }

    private static final Schema TRACES;
    private static final Schema METRICS;
    private static final Schema LOGS;

    static {
        Map<Descriptor, Schema> built = new HashMap<>();
        TRACES = Schema.of(ExportTraceServiceRequest.getDescriptor(), built);
        METRICS = Schema.of(ExportMetricsServiceRequest.getDescriptor(), built);
        LOGS = Schema.of(ExportLogsServiceRequest.getDescriptor(), built);
    }

    /** Thrown (preallocated, no stack) when the input is legal but cannot be streamed. */
    private static final class NotStreamable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotStreamable() {
            super("not streamable", null, false, false);
        }
    }

    private static final NotStreamable NOT_STREAMABLE = new NotStreamable();

    private byte[] buf;
    private int pos;
    /** Read position in the input during a write. */
    private int in;
    private byte[] sanitized = new byte[256];
    private final byte[] digits = new byte[20];
    private long fallbacks;

    public OtlpJsonWriter() {
        buf = new byte[64 * 1024];
    }

    /**
     * Writes {@code request[0, length)}, an encoded request of {@code signal}, as one JSON object
     * followed by {@code '\n'}; returns the number of bytes, found at the start of {@link #array()}.
     *
     * @throws InvalidProtocolBufferException when the bytes are not a valid encoded request
     */
    public int write(Signal signal, byte[] request, int length) throws InvalidProtocolBufferException {
        Schema schema = signal == Signal.TRACES ? TRACES : signal == Signal.METRICS ? METRICS : LOGS;
        pos = 0;
        try {
            in = 0;
            message(schema, request, length, 0);
        } catch (NotStreamable e) {
            fallbacks++;
            pos = 0;
            byte[] json = OtlpJson.print(parse(signal, request, length)).getBytes(StandardCharsets.UTF_8);
            ensure(json.length + 1);
            System.arraycopy(json, 0, buf, 0, json.length);
            pos = json.length;
        } catch (ArrayIndexOutOfBoundsException e) {
            throw new InvalidProtocolBufferException("truncated " + signal.label() + " request");
        }
        ensure(1);
        buf[pos++] = '\n';
        return pos;
    }

    /** The output buffer: bytes [0, n) after {@code n = write(...)}. Reused by the next write. */
    public byte[] array() {
        return buf;
    }

    /** Requests that had to go through the generated classes and JsonFormat. */
    public long fallbacks() {
        return fallbacks;
    }

    static Message parse(Signal signal, byte[] request, int length) throws InvalidProtocolBufferException {
        switch (signal) {
            case TRACES:
                return ExportTraceServiceRequest.parser().parseFrom(request, 0, length);
            case METRICS:
                return ExportMetricsServiceRequest.parser().parseFrom(request, 0, length);
            default:
                return ExportLogsServiceRequest.parser().parseFrom(request, 0, length);
        }
    }

    // ------------------------------------------------------------------------------------------

    private void message(Schema s, byte[] b, int end, int depth) throws InvalidProtocolBufferException {
        if (depth > MAX_DEPTH) {
            throw new InvalidProtocolBufferException("message nested deeper than " + MAX_DEPTH);
        }
        ensure(1);
        buf[pos++] = '{';
        boolean first = true;
        int openRepeated = -1;
        boolean firstElement = false;
        long seenFields = 0;
        long seenOneofs = 0;
        while (in < end) {
            int tag = readVarint32(b);
            int number = tag >>> 3;
            int wire = tag & 7;
            if (number == 0) {
                throw new InvalidProtocolBufferException("field number 0");
            }
            Field f = number < s.fields.length ? s.fields[number] : null;
            if (f == null || !(wire == f.wire || (f.repeated && f.packable && wire == WIRE_LEN))) {
                // An unknown field, or a known number with another wire type: the generated
                // parser keeps both as unknown fields, which JSON does not show.
                skip(b, wire, end);
                continue;
            }
            if (f.repeated) {
                boolean packed = wire == WIRE_LEN && f.packable;
                int packedEnd = 0;
                if (packed) {
                    int len = readLength(b, end);
                    packedEnd = in + len;
                    if (len == 0) {
                        continue;
                    }
                }
                if (openRepeated != number) {
                    if (openRepeated >= 0) {
                        closeArray();
                    }
                    if ((seenFields & (1L << number)) != 0) {
                        throw NOT_STREAMABLE;
                    }
                    seenFields |= 1L << number;
                    first = key(f, first);
                    ensure(1);
                    buf[pos++] = '[';
                    openRepeated = number;
                    firstElement = true;
                }
                if (packed) {
                    while (in < packedEnd) {
                        firstElement = element(firstElement);
                        scalar(f, b, readScalar(f, b));
                    }
                    if (in != packedEnd) {
                        throw new InvalidProtocolBufferException("packed field overruns its length");
                    }
                } else {
                    firstElement = element(firstElement);
                    value(f, b, end, depth);
                }
                continue;
            }
            if (openRepeated >= 0) {
                closeArray();
                openRepeated = -1;
            }
            if ((seenFields & (1L << number)) != 0) {
                throw NOT_STREAMABLE;
            }
            seenFields |= 1L << number;
            if (f.oneof >= 0) {
                if ((seenOneofs & (1L << f.oneof)) != 0) {
                    throw NOT_STREAMABLE;
                }
                seenOneofs |= 1L << f.oneof;
            }
            if (f.kind == K_MESSAGE) {
                first = key(f, first);
                value(f, b, end, depth);
            } else if (f.wire == WIRE_LEN) {
                int len = readLength(b, end);
                if (len == 0 && !f.presence) {
                    continue;
                }
                first = key(f, first);
                lengthDelimited(f, b, in, len);
                in += len;
            } else {
                long v = readScalar(f, b);
                if (v == 0 && !f.presence) {
                    continue;
                }
                first = key(f, first);
                scalar(f, b, v);
            }
        }
        if (in != end) {
            throw new InvalidProtocolBufferException("field overruns its message");
        }
        if (openRepeated >= 0) {
            closeArray();
        }
        ensure(1);
        buf[pos++] = '}';
    }

    private boolean key(Field f, boolean first) {
        ensure(f.key.length + 1);
        if (!first) {
            buf[pos++] = ',';
        }
        System.arraycopy(f.key, 0, buf, pos, f.key.length);
        pos += f.key.length;
        return false;
    }

    private boolean element(boolean firstElement) {
        if (!firstElement) {
            ensure(1);
            buf[pos++] = ',';
        }
        return false;
    }

    private void closeArray() {
        ensure(1);
        buf[pos++] = ']';
    }

    /** One value of a non-packed field (message, string/bytes, or scalar) at the read position. */
    private void value(Field f, byte[] b, int end, int depth) throws InvalidProtocolBufferException {
        if (f.wire == WIRE_LEN) {
            int len = readLength(b, end);
            if (f.kind == K_MESSAGE) {
                int messageEnd = in + len;
                message(f.message, b, messageEnd, depth + 1);
            } else {
                lengthDelimited(f, b, in, len);
                in += len;
            }
        } else {
            scalar(f, b, readScalar(f, b));
        }
    }

    /** Reads a varint, fixed32 or fixed64 value as its raw 64 bits. */
    private long readScalar(Field f, byte[] b) {
        switch (f.wire) {
            case WIRE_VARINT:
                return readVarint64(b);
            case WIRE_FIXED32: {
                int p = in;
                in = p + 4;
                return (b[p] & 0xFFL) | (b[p + 1] & 0xFFL) << 8 | (b[p + 2] & 0xFFL) << 16 | (b[p + 3] & 0xFFL) << 24;
            }
            default: {
                int p = in;
                in = p + 8;
                long v = 0;
                for (int i = 7; i >= 0; i--) {
                    v = v << 8 | (b[p + i] & 0xFFL);
                }
                return v;
            }
        }
    }

    private void scalar(Field f, byte[] b, long v) {
        ensure(32);
        switch (f.kind) {
            case K_INT32:
            case K_ENUM:
            case K_SFIXED32:
                writeLong((int) v);
                break;
            case K_UINT32:
            case K_FIXED32:
                writeLong(v & 0xFFFFFFFFL);
                break;
            case K_SINT32:
                writeLong((int) ((v >>> 1) ^ -(v & 1)));
                break;
            case K_INT64:
            case K_SFIXED64:
                quotedLong(v);
                break;
            case K_SINT64:
                quotedLong((v >>> 1) ^ -(v & 1));
                break;
            case K_UINT64:
            case K_FIXED64:
                buf[pos++] = '"';
                writeUnsigned(v);
                buf[pos++] = '"';
                break;
            case K_BOOL:
                byte[] t = v != 0 ? TRUE : FALSE;
                System.arraycopy(t, 0, buf, pos, t.length);
                pos += t.length;
                break;
            case K_FLOAT:
                floating(Float.intBitsToFloat((int) v));
                break;
            default:
                floating(Double.longBitsToDouble(v));
                break;
        }
    }

    /** JsonFormat's rendering: Double/Float.toString, non-finite values as quoted names. */
    private void floating(double d) {
        String s;
        if (Double.isNaN(d)) {
            s = "\"NaN\"";
        } else if (Double.isInfinite(d)) {
            s = d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        } else {
            s = Double.toString(d);
        }
        ascii(s);
    }

    private void floating(float f) {
        if (Float.isNaN(f) || Float.isInfinite(f)) {
            floating((double) f);
        } else {
            ascii(Float.toString(f));
        }
    }

    private void ascii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            buf[pos++] = (byte) s.charAt(i);
        }
    }

    private void lengthDelimited(Field f, byte[] b, int offset, int len) {
        switch (f.kind) {
            case K_STRING:
                string(b, offset, len);
                break;
            case K_HEX_ID:
                ensure(2 * len + 2);
                buf[pos++] = '"';
                for (int i = offset; i < offset + len; i++) {
                    buf[pos++] = HEX[(b[i] >> 4) & 0xF];
                    buf[pos++] = HEX[b[i] & 0xF];
                }
                buf[pos++] = '"';
                break;
            default:
                base64(b, offset, len);
                break;
        }
    }

    private void string(byte[] b, int offset, int len) {
        int start = pos;
        if (escaped(b, offset, len) && !Utf8Check.isValid(b, offset, len)) {
            // Rare: write it again from the repaired copy.
            if (sanitized.length < len * 3) {
                sanitized = new byte[len * 3];
            }
            int n = Utf8Check.sanitize(b, offset, len, sanitized);
            pos = start;
            escaped(sanitized, 0, n);
        }
    }

    /** Writes the quoted, escaped string; returns whether it held any non-ASCII byte. */
    private boolean escaped(byte[] b, int offset, int len) {
        // Worst case every byte is a control character: \\u00XX.
        ensure(6 * len + 2);
        byte[] o = buf;
        int p = pos;
        o[p++] = '"';
        int i = offset;
        int e = offset + len;
        int high = 0;
        while (i < e) {
            // Find the run that needs no escape (most strings are one run) and copy it in one go.
            int run = i;
            while (run < e) {
                byte c = b[run];
                if (NEEDS_ESCAPE[c & 0xFF]) {
                    break;
                }
                high |= c;
                run++;
            }
            if (run > i) {
                System.arraycopy(b, i, o, p, run - i);
                p += run - i;
                i = run;
                if (i == e) {
                    break;
                }
            }
            byte c = b[i++];
            byte esc = ESCAPE[c];
            o[p++] = '\\';
            o[p++] = esc;
            if (esc == 'u') {
                o[p++] = '0';
                o[p++] = '0';
                o[p++] = HEX[c >> 4];
                o[p++] = HEX[c & 0xF];
            }
        }
        o[p++] = '"';
        pos = p;
        return high < 0;
    }

    private void base64(byte[] b, int offset, int len) {
        ensure((len + 2) / 3 * 4 + 2);
        buf[pos++] = '"';
        int i = offset;
        int e = offset + len;
        for (; i + 2 < e; i += 3) {
            int v = (b[i] & 0xFF) << 16 | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF);
            buf[pos++] = BASE64[v >>> 18];
            buf[pos++] = BASE64[(v >>> 12) & 0x3F];
            buf[pos++] = BASE64[(v >>> 6) & 0x3F];
            buf[pos++] = BASE64[v & 0x3F];
        }
        if (i < e) {
            int v = (b[i] & 0xFF) << 16 | (i + 1 < e ? (b[i + 1] & 0xFF) << 8 : 0);
            buf[pos++] = BASE64[v >>> 18];
            buf[pos++] = BASE64[(v >>> 12) & 0x3F];
            buf[pos++] = i + 1 < e ? BASE64[(v >>> 6) & 0x3F] : (byte) '=';
            buf[pos++] = '=';
        }
        buf[pos++] = '"';
    }

    private void quotedLong(long v) {
        buf[pos++] = '"';
        writeLong(v);
        buf[pos++] = '"';
    }

    /** Decimal digits of a signed value (at most 20 bytes; the caller ensured room). */
    private void writeLong(long v) {
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                ascii("-9223372036854775808");
                return;
            }
            buf[pos++] = '-';
            v = -v;
        }
        writeUnsigned(v);
    }

    /** Decimal digits of {@code v} read as unsigned 64 bits (the caller ensured 20 bytes). */
    private void writeUnsigned(long v) {
        if (v >= 0 && v < 10) {
            buf[pos++] = (byte) ('0' + v);
            return;
        }
        if (v < 0) {
            // Above Long.MAX_VALUE: peel the last digit off with an unsigned division first.
            long q = (v >>> 1) / 5;
            int last = (int) (v - q * 10);
            writeUnsigned(q);
            buf[pos++] = (byte) ('0' + last);
            return;
        }
        // Digits from the right into scratch space, then one copy: a single pass of divisions.
        byte[] d = digits;
        int p = d.length;
        do {
            long q = v / 10;
            d[--p] = (byte) ('0' + (v - q * 10));
            v = q;
        } while (v > 0);
        int n = d.length - p;
        System.arraycopy(d, p, buf, pos, n);
        pos += n;
    }

    // ---- reading the wire format ----

    private int readVarint32(byte[] b) {
        return (int) readVarint64(b);
    }

    private long readVarint64(byte[] b) {
        int p = in;
        byte first = b[p];
        if (first >= 0) {
            // Tags, lengths and most values fit one byte.
            in = p + 1;
            return first;
        }
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte x = b[p++];
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                in = p;
                return v;
            }
        }
        // Ten bytes with the high bit set: not a varint. Read as truncated input by the caller.
        throw new ArrayIndexOutOfBoundsException("malformed varint");
    }

    private int readLength(byte[] b, int end) throws InvalidProtocolBufferException {
        long len = readVarint64(b);
        if (len < 0 || len > end - in) {
            throw new InvalidProtocolBufferException("length " + len + " overruns the message");
        }
        return (int) len;
    }

    private void skip(byte[] b, int wire, int end) throws InvalidProtocolBufferException {
        switch (wire) {
            case WIRE_VARINT:
                readVarint64(b);
                break;
            case WIRE_FIXED64:
                in += 8;
                break;
            case WIRE_LEN: {
                // Not "in += readLength(..)": that would add to the position before the length.
                int len = readLength(b, end);
                in += len;
                break;
            }
            case WIRE_FIXED32:
                in += 4;
                break;
            default:
                // Groups (deprecated, never in OTLP) are left to the generated parser.
                throw NOT_STREAMABLE;
        }
        if (in > end) {
            throw new InvalidProtocolBufferException("field overruns its message");
        }
    }

    private void ensure(int more) {
        if (pos + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
        }
    }

    // ---- the tables ----

    /** How to print one field of a message. */
    private static final class Field {
        final byte[] key;
        final int kind;
        final int wire;
        final boolean repeated;
        final boolean packable;
        final boolean presence;
        final int oneof;
        Schema message;

        Field(FieldDescriptor d) {
            key = ("\"" + d.getJsonName() + "\":").getBytes(StandardCharsets.UTF_8);
            kind = kindOf(d);
            wire = wireOf(kind);
            repeated = d.isRepeated();
            packable = repeated && d.isPackable();
            presence = d.hasPresence();
            oneof = d.getRealContainingOneof() == null ? -1 : d.getRealContainingOneof().getIndex();
        }

        private static int kindOf(FieldDescriptor d) {
            switch (d.getType()) {
                case INT32: return K_INT32;
                case INT64: return K_INT64;
                case UINT32: return K_UINT32;
                case UINT64: return K_UINT64;
                case SINT32: return K_SINT32;
                case SINT64: return K_SINT64;
                case FIXED32: return K_FIXED32;
                case FIXED64: return K_FIXED64;
                case SFIXED32: return K_SFIXED32;
                case SFIXED64: return K_SFIXED64;
                case BOOL: return K_BOOL;
                case ENUM: return K_ENUM;
                case FLOAT: return K_FLOAT;
                case DOUBLE: return K_DOUBLE;
                case STRING: return K_STRING;
                case BYTES: return isIdField(d.getName()) ? K_HEX_ID : K_BYTES;
                case MESSAGE: return K_MESSAGE;
                default:
                    throw new IllegalStateException("OTLP field of unsupported type: " + d.getFullName());
            }
        }

        /** The OTLP/JSON exception to the protobuf mapping: these ids are hex, not base64. */
        private static boolean isIdField(String name) {
            return name.equals("trace_id") || name.equals("span_id") || name.equals("parent_span_id");
        }

        private static int wireOf(int kind) {
            switch (kind) {
                case K_FIXED32:
                case K_SFIXED32:
                case K_FLOAT:
                    return WIRE_FIXED32;
                case K_FIXED64:
                case K_SFIXED64:
                case K_DOUBLE:
                    return WIRE_FIXED64;
                case K_STRING:
                case K_BYTES:
                case K_HEX_ID:
                case K_MESSAGE:
                    return WIRE_LEN;
                default:
                    return WIRE_VARINT;
            }
        }
    }

    /** The fields of one message type, indexed by field number. */
    private static final class Schema {
        Field[] fields;

        static Schema of(Descriptor d, Map<Descriptor, Schema> built) {
            Schema s = built.get(d);
            if (s != null) {
                return s;
            }
            s = new Schema();
            built.put(d, s);
            int max = 0;
            for (FieldDescriptor f : d.getFields()) {
                max = Math.max(max, f.getNumber());
            }
            if (max >= Long.SIZE || d.getRealOneofs().size() >= Long.SIZE) {
                // The per-message "seen" sets are one long each; OTLP numbers stay far below.
                throw new IllegalStateException(d.getFullName() + " has field numbers beyond 63");
            }
            s.fields = new Field[max + 1];
            for (FieldDescriptor f : d.getFields()) {
                if (f.isMapField()) {
                    throw new IllegalStateException("OTLP map field not supported: " + f.getFullName());
                }
                Field field = new Field(f);
                if (f.getType() == FieldDescriptor.Type.MESSAGE) {
                    field.message = of(f.getMessageType(), built);
                }
                s.fields[f.getNumber()] = field;
            }
            return s;
        }
    }
}
