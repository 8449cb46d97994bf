package io.periscope.sender;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import io.periscope.sender.internal.ProtoWriter;

import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.SplittableRandom;

/**
 * Turns request logs into OTLP {@code ExportTraceServiceRequest} bytes, written straight to the
 * wire format (no generated builders), grouped by resource and split so that no request exceeds
 * the maximum message size.
 *
 * <p>This is where the semantic conventions live: span name, kind, status and the attribute
 * names. The parser said what the bytes mean; this class decides what OpenTelemetry calls it.
 * One instance per thread: it keeps its buffers and its random generator.
 */
public final class SpanEncoder {
    /** Receives each finished request; the bytes are only valid during the call. */
    @FunctionalInterface
    public interface RequestSink {
        void accept(byte[] bytes, int length, int spanCount);
    }

    // ---- field numbers of opentelemetry/proto/trace/v1/trace.proto and common.proto ----
    private static final int REQUEST_RESOURCE_SPANS = 1;
    private static final int RESOURCE_SPANS_RESOURCE = 1;
    private static final int RESOURCE_SPANS_SCOPE_SPANS = 2;
    private static final int SCOPE_SPANS_SCOPE = 1;
    private static final int SCOPE_SPANS_SPANS = 2;
    private static final int SCOPE_NAME = 1;
    private static final int SCOPE_VERSION = 2;
    private static final int SPAN_TRACE_ID = 1;
    private static final int SPAN_SPAN_ID = 2;
    private static final int SPAN_PARENT_SPAN_ID = 4;
    private static final int SPAN_NAME = 5;
    private static final int SPAN_KIND = 6;
    private static final int SPAN_START = 7;
    private static final int SPAN_END = 8;
    private static final int SPAN_ATTRIBUTES = 9;
    private static final int SPAN_DROPPED_ATTRIBUTES = 10;
    private static final int SPAN_STATUS = 15;
    private static final int SPAN_FLAGS = 16;
    private static final int STATUS_MESSAGE = 2;
    private static final int STATUS_CODE = 3;
    private static final int KEY_VALUE_KEY = 1;
    private static final int KEY_VALUE_VALUE = 2;
    private static final int ANY_STRING = 1;
    private static final int ANY_INT = 3;

    private static final int KIND_INTERNAL = 1;
    private static final int KIND_SERVER = 2;
    private static final int KIND_CLIENT = 3;
    private static final int STATUS_CODE_ERROR = 2;
    /** W3C trace flags "sampled" bit, carried in Span.flags together with the has-remote-parent bits. */
    private static final int FLAG_SAMPLED = 0x01;
    private static final int FLAG_CONTEXT_HAS_IS_REMOTE = 0x100;
    private static final int FLAG_CONTEXT_IS_REMOTE = 0x200;
    /** Room left in a request for the group headers around the spans. */
    private static final int HEADER_ALLOWANCE_BYTES = 1024;

    public static final String SCOPE_NAME_VALUE = "io.periscope.sender";

    private final ProtoWriter out;
    private final byte[] text = new byte[RequestLog.RESOURCE_BYTES * 3 + 64];
    private final SplittableRandom random;
    private final long syscallClockOffsetNanos;
    private final long packetClockOffsetNanos;
    private final int maxMessageBytes;
    private final byte[] scopeVersion;
    private final IdentityHashMap<ProcessResource, Integer> groupOf = new IdentityHashMap<>();
    private ProcessResource[] groups = new ProcessResource[16];
    private int[] groupIndex = new int[512];
    private long invalidUtf8Fields;

    /**
     * @param syscallClockOffsetNanos added to syscall timestamps (CLOCK_MONOTONIC) to get Unix epoch ns
     * @param packetClockOffsetNanos added to packet timestamps (usually 0: capture time is epoch)
     * @param maxMessageBytes requests are split so that none is larger
     * @param seed seeds the span/trace id generator
     */
    public SpanEncoder(long syscallClockOffsetNanos, long packetClockOffsetNanos, int maxMessageBytes,
                       long seed) {
        if (maxMessageBytes < 4 * HEADER_ALLOWANCE_BYTES) {
            throw new IllegalArgumentException("maxMessageBytes too small: " + maxMessageBytes);
        }
        this.syscallClockOffsetNanos = syscallClockOffsetNanos;
        this.packetClockOffsetNanos = packetClockOffsetNanos;
        this.maxMessageBytes = maxMessageBytes;
        this.random = new SplittableRandom(seed);
        this.out = new ProtoWriter(Math.min(maxMessageBytes, 1 << 20));
        String version = SpanEncoder.class.getPackage().getImplementationVersion();
        this.scopeVersion = (version == null ? "dev" : version).getBytes(StandardCharsets.UTF_8);
    }

    /** Text fields that were not valid UTF-8 and were sent with replacement characters. */
    public long invalidUtf8Fields() {
        return invalidUtf8Fields;
    }

    /**
     * Encodes {@code count} records, grouped by resource, into one or more requests handed to
     * {@code sink}; returns the number of requests.
     */
    public int encode(RequestLog[] records, ProcessResource[] resources, int count, RequestSink sink) {
        if (count == 0) {
            return 0;
        }
        int groupCount = assignGroups(resources, count);
        int requests = 0;
        int spansInRequest = 0;
        out.reset();
        for (int g = 0; g < groupCount; g++) {
            ProcessResource resource = groups[g];
            int rsMark = beginGroup(resource);
            int ssMark = out.beginMessage(RESOURCE_SPANS_SCOPE_SPANS);
            writeScope();
            int spansInGroup = 0;
            for (int i = 0; i < count; i++) {
                if (groupIndex[i] != g) {
                    continue;
                }
                int before = out.position();
                int mark = out.beginMessage(SCOPE_SPANS_SPANS);
                writeSpan(records[i]);
                out.endMessage(mark);
                if (out.position() + HEADER_ALLOWANCE_BYTES > maxMessageBytes && spansInRequest > 0) {
                    // This span does not fit: send what came before it, then start again with it.
                    out.truncate(before);
                    if (spansInGroup > 0) {
                        out.endMessage(ssMark);
                        out.endMessage(rsMark);
                    } else {
                        out.truncate(rsMark - 1);
                    }
                    sink.accept(out.array(), out.position(), spansInRequest);
                    requests++;
                    spansInRequest = 0;
                    spansInGroup = 0;
                    out.reset();
                    rsMark = beginGroup(resource);
                    ssMark = out.beginMessage(RESOURCE_SPANS_SCOPE_SPANS);
                    writeScope();
                    mark = out.beginMessage(SCOPE_SPANS_SPANS);
                    writeSpan(records[i]);
                    out.endMessage(mark);
                }
                spansInGroup++;
                spansInRequest++;
            }
            out.endMessage(ssMark);
            out.endMessage(rsMark);
        }
        if (spansInRequest > 0) {
            sink.accept(out.array(), out.position(), spansInRequest);
            requests++;
        }
        return requests;
    }

    private int assignGroups(ProcessResource[] resources, int count) {
        if (groupIndex.length < count) {
            groupIndex = new int[count];
        }
        groupOf.clear();
        int groupCount = 0;
        ProcessResource last = null;
        int lastGroup = -1;
        for (int i = 0; i < count; i++) {
            ProcessResource r = resources[i];
            if (r != last) {
                Integer g = groupOf.get(r);
                if (g == null) {
                    if (groupCount == groups.length) {
                        groups = java.util.Arrays.copyOf(groups, groupCount * 2);
                    }
                    groups[groupCount] = r;
                    g = groupCount++;
                    groupOf.put(r, g);
                }
                last = r;
                lastGroup = g;
            }
            groupIndex[i] = lastGroup;
        }
        return groupCount;
    }

    private int beginGroup(ProcessResource resource) {
        int rsMark = out.beginMessage(REQUEST_RESOURCE_SPANS);
        byte[] body = resource.encodedBody();
        out.writeBytes(RESOURCE_SPANS_RESOURCE, body, 0, body.length);
        return rsMark;
    }

    private void writeScope() {
        int mark = out.beginMessage(SCOPE_SPANS_SCOPE);
        out.writeAscii(SCOPE_NAME, SCOPE_NAME_VALUE);
        out.writeBytes(SCOPE_VERSION, scopeVersion, 0, scopeVersion.length);
        out.endMessage(mark);
    }

    /** Encodes a single span as a standalone {@code Span} message (for tests and benchmarks). */
    public byte[] encodeSpanMessage(RequestLog r) {
        out.reset();
        writeSpan(r);
        return out.toByteArray();
    }

    // ------------------------------------------------------------------------------------------
    // The span itself.

    private void writeSpan(RequestLog r) {
        ProtoWriter w = out;
        byte[] ids = text;
        if (r.hasTraceContext()) {
            w.writeBytes(SPAN_TRACE_ID, r.traceId(), 0, 16);
        } else {
            randomId(ids, 0, 16);
            w.writeBytes(SPAN_TRACE_ID, ids, 0, 16);
        }
        randomId(ids, 0, 8);
        w.writeBytes(SPAN_SPAN_ID, ids, 0, 8);
        if (r.hasTraceContext() && !allZero(r.parentSpanId())) {
            w.writeBytes(SPAN_PARENT_SPAN_ID, r.parentSpanId(), 0, 8);
        }
        writeName(r);
        w.writeEnum(SPAN_KIND, kind(r.role()));
        long offset = r.captureSource() == io.periscope.protocols.CaptureSource.PACKET
                ? packetClockOffsetNanos : syscallClockOffsetNanos;
        w.writeFixed64(SPAN_START, r.startNanos() + offset);
        w.writeFixed64(SPAN_END, Math.max(r.endNanos(), r.startNanos()) + offset);
        writeAttributes(r);
        if (r.attributesDropped() > 0) {
            w.writeUInt64(SPAN_DROPPED_ATTRIBUTES, r.attributesDropped());
        }
        if (isError(r)) {
            int mark = w.beginMessage(SPAN_STATUS);
            if (!r.errorMessage().isEmpty()) {
                writeText(w, STATUS_MESSAGE, r.errorMessage());
            } else if (r.statusClass() == StatusClass.TIMEOUT) {
                w.writeAscii(STATUS_MESSAGE, "timeout");
            }
            w.writeEnum(STATUS_CODE, STATUS_CODE_ERROR);
            w.endMessage(mark);
        }
        if (r.hasTraceContext()) {
            w.writeFixed32(SPAN_FLAGS, (r.sampled() ? FLAG_SAMPLED : 0)
                    | FLAG_CONTEXT_HAS_IS_REMOTE | FLAG_CONTEXT_IS_REMOTE);
        }
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private void randomId(byte[] dst, int offset, int length) {
        long a = random.nextLong();
        long b = random.nextLong();
        if (a == 0 && b == 0) {
            a = 1; // an all-zero id is invalid in OTLP
        }
        for (int i = 0; i < length; i++) {
            long v = i < 8 ? a : b;
            dst[offset + i] = (byte) (v >>> (8 * (i & 7)));
        }
    }

    static int kind(Role role) {
        switch (role) {
            case SERVER:
                return KIND_SERVER;
            case CLIENT:
                return KIND_CLIENT;
            default:
                return KIND_INTERNAL;
        }
    }

    /**
     * Server spans are errors for server errors and timeouts; client spans also for client errors
     * (the semantic conventions' rule for HTTP clients, applied to every protocol).
     */
    static boolean isError(RequestLog r) {
        StatusClass c = r.statusClass();
        return c == StatusClass.SERVER_ERROR || c == StatusClass.TIMEOUT
                || (c == StatusClass.CLIENT_ERROR && r.role() == Role.CLIENT);
    }

    // ---- the name ----

    private void writeName(RequestLog r) {
        int n = 0;
        byte[] t = text;
        L7Protocol p = r.protocol();
        switch (p) {
            case HTTP1:
            case HTTP2:
                n = put(t, n, r.method().isEmpty() ? null : r.method(), "HTTP");
                if (!r.endpoint().isEmpty()) {
                    t[n++] = ' ';
                    n = put(t, n, r.endpoint(), null);
                }
                break;
            case GRPC: {
                TextField path = r.endpoint().isEmpty() ? r.resource() : r.endpoint();
                int start = path.length() > 0 && path.array()[0] == '/' ? 1 : 0;
                if (path.length() > start) {
                    n = copy(t, n, path.array(), start, path.length() - start);
                } else {
                    n = ascii(t, n, "grpc");
                }
                break;
            }
            case REDIS:
            case MEMCACHED:
                n = ascii(t, n, dbSystem(p));
                if (!r.method().isEmpty()) {
                    t[n++] = ' ';
                    n = put(t, n, r.method(), null);
                }
                break;
            case MYSQL:
            case POSTGRESQL:
            case MONGODB:
                n = methodAndTarget(t, r.method(), r.endpoint(), dbSystem(p));
                break;
            case KAFKA:
            case MQTT:
            case AMQP:
            case NATS:
                n = methodAndTarget(t, r.method(), r.resource(), messagingSystem(p));
                break;
            case DNS:
                n = methodAndTarget(t, r.method(), r.resource(), "DNS");
                break;
            case DUBBO:
                n = r.endpoint().isEmpty() ? methodAndTarget(t, r.method(), r.resource(), "dubbo")
                        : put(t, 0, r.endpoint(), null);
                break;
            case TLS:
                n = ascii(t, n, "tls");
                if (!r.method().isEmpty()) {
                    t[n++] = ' ';
                    n = put(t, n, r.method(), null);
                }
                break;
            default:
                n = ascii(t, n, "unknown");
                break;
        }
        writeUtf8(out, SPAN_NAME, t, 0, n);
    }

    private static int methodAndTarget(byte[] t, TextField method, TextField target, String fallback) {
        int n = 0;
        if (method.isEmpty()) {
            n = ascii(t, n, fallback);
        } else {
            n = put(t, n, method, null);
        }
        if (!target.isEmpty()) {
            t[n++] = ' ';
            n = put(t, n, target, null);
        }
        return n;
    }

    private static int put(byte[] t, int n, TextField f, String fallback) {
        if (f == null || f.isEmpty()) {
            return fallback == null ? n : ascii(t, n, fallback);
        }
        return copy(t, n, f.array(), 0, f.length());
    }

    private static int copy(byte[] t, int n, byte[] src, int off, int len) {
        System.arraycopy(src, off, t, n, len);
        return n + len;
    }

    private static int ascii(byte[] t, int n, String s) {
        for (int i = 0; i < s.length(); i++) {
            t[n++] = (byte) s.charAt(i);
        }
        return n;
    }

    static String dbSystem(L7Protocol p) {
        switch (p) {
            case MYSQL:
                return "mysql";
            case POSTGRESQL:
                return "postgresql";
            case MONGODB:
                return "mongodb";
            case REDIS:
                return "redis";
            case MEMCACHED:
                return "memcached";
            default:
                return null;
        }
    }

    static String messagingSystem(L7Protocol p) {
        switch (p) {
            case KAFKA:
                return "kafka";
            case MQTT:
                return "mqtt";
            case AMQP:
                return "rabbitmq";
            case NATS:
                return "nats";
            default:
                return null;
        }
    }

    // ---- attributes ----

    private void writeAttributes(RequestLog r) {
        L7Protocol p = r.protocol();
        switch (p) {
            case HTTP1:
            case HTTP2:
                httpAttributes(r);
                break;
            case GRPC:
                grpcAttributes(r);
                break;
            case DUBBO:
                attrAscii("rpc.system", "apache_dubbo");
                attrText("rpc.service", r.resource());
                attrText("rpc.method", r.method());
                break;
            case MYSQL:
            case POSTGRESQL:
            case MONGODB:
                attrAscii("db.system.name", dbSystem(p));
                attrText("db.operation.name", r.method());
                attrText("db.collection.name", r.endpoint());
                attrText("db.query.text", r.resource());
                attrText("db.namespace", r.host());
                if (r.statusCode() >= 0 && r.statusClass() != StatusClass.OK) {
                    attrDecimalString("db.response.status_code", r.statusCode());
                }
                break;
            case REDIS:
            case MEMCACHED:
                attrAscii("db.system.name", dbSystem(p));
                attrText("db.operation.name", r.method());
                if (!r.method().isEmpty()) {
                    int n = put(text, 0, r.method(), null);
                    if (!r.resource().isEmpty()) {
                        text[n++] = ' ';
                        n = put(text, n, r.resource(), null);
                    }
                    attrUtf8("db.query.text", text, n);
                }
                break;
            case KAFKA:
            case MQTT:
            case AMQP:
            case NATS:
                attrAscii("messaging.system", messagingSystem(p));
                attrText("messaging.operation.name", r.method());
                attrText("messaging.destination.name", r.resource());
                break;
            case DNS:
                attrText("dns.question.name", r.resource());
                break;
            default:
                break;
        }
        if (p != L7Protocol.HTTP1 && p != L7Protocol.HTTP2 && p != L7Protocol.GRPC && r.statusCode() >= 0) {
            attrInt("periscope.status_code", r.statusCode());
        }
        if (isError(r) || r.statusClass() == StatusClass.CLIENT_ERROR) {
            if (r.statusClass() == StatusClass.TIMEOUT) {
                attrAscii("error.type", "timeout");
            } else if (r.statusCode() >= 0) {
                attrDecimalString("error.type", r.statusCode());
            } else {
                attrAscii("error.type", "_OTHER");
            }
        }
        networkAttributes(r);
        for (int i = 0; i < r.attributeCount(); i++) {
            attrText(r.attributeKey(i), r.attributeValue(i));
        }
        periscopeAttributes(r);
    }

    private void httpAttributes(RequestLog r) {
        attrText("http.request.method", r.method());
        TextField res = r.resource();
        int q = indexOf(res, (byte) '?');
        if (res.length() > 0) {
            int pathLen = q < 0 ? res.length() : q;
            attrUtf8Range("url.path", res.array(), 0, pathLen);
            if (q >= 0 && q + 1 < res.length()) {
                attrUtf8Range("url.query", res.array(), q + 1, res.length() - q - 1);
            }
        }
        attrText("http.route", r.endpoint());
        if (r.statusCode() >= 0) {
            attrInt("http.response.status_code", r.statusCode());
        }
        attrText("user_agent.original", r.userAgent());
        attrAscii("network.protocol.name", "http");
        attrText("network.protocol.version", r.version());
    }

    private void grpcAttributes(RequestLog r) {
        attrAscii("rpc.system", "grpc");
        TextField path = r.endpoint().isEmpty() ? r.resource() : r.endpoint();
        byte[] a = path.array();
        int len = path.length();
        int start = len > 0 && a[0] == '/' ? 1 : 0;
        int slash = -1;
        for (int i = len - 1; i >= start; i--) {
            if (a[i] == '/') {
                slash = i;
                break;
            }
        }
        if (slash > start) {
            attrUtf8Range("rpc.service", a, start, slash - start);
            attrUtf8Range("rpc.method", a, slash + 1, len - slash - 1);
        } else if (len > start) {
            attrUtf8Range("rpc.method", a, start, len - start);
        }
        if (r.statusCode() >= 0) {
            attrInt("rpc.grpc.status_code", r.statusCode());
        }
        attrText("user_agent.original", r.userAgent());
    }

    private void networkAttributes(RequestLog r) {
        if (r.l4Protocol() == 6) {
            attrAscii("network.transport", "tcp");
        } else if (r.l4Protocol() == 17) {
            attrAscii("network.transport", "udp");
        }
        if (r.ipVersion() == 4) {
            attrAscii("network.type", "ipv4");
        } else if (r.ipVersion() == 6) {
            attrAscii("network.type", "ipv6");
        }
        boolean http = r.protocol() == L7Protocol.HTTP1 || r.protocol() == L7Protocol.HTTP2
                || r.protocol() == L7Protocol.GRPC;
        int remoteLen = r.ipVersion() == 0 ? 0 : IpFormat.format(r.ipVersion(), r.remoteAddress(), text, 0);
        if (remoteLen > 0) {
            attrUtf8("network.peer.address", text, remoteLen);
        }
        if (r.remotePort() > 0) {
            attrInt("network.peer.port", r.remotePort());
        }
        if (r.role() == Role.SERVER) {
            if (remoteLen > 0) {
                attrUtf8("client.address", text, remoteLen);
            }
            if (r.remotePort() > 0) {
                attrInt("client.port", r.remotePort());
            }
            if (!writeHostHeader(r, http)) {
                int localLen = r.ipVersion() == 0 ? 0 : IpFormat.format(r.ipVersion(), r.localAddress(), text, 0);
                if (localLen > 0) {
                    attrUtf8("server.address", text, localLen);
                }
            }
            if (r.localPort() > 0) {
                attrInt("server.port", r.localPort());
            }
        } else if (r.role() == Role.CLIENT) {
            if (!writeHostHeader(r, http) && remoteLen > 0) {
                attrUtf8("server.address", text, remoteLen);
            }
            if (r.remotePort() > 0) {
                attrInt("server.port", r.remotePort());
            }
        }
    }

    /** server.address from the HTTP Host/:authority without its port; false when absent. */
    private boolean writeHostHeader(RequestLog r, boolean http) {
        TextField host = r.host();
        if (!http || host.isEmpty()) {
            return false;
        }
        byte[] a = host.array();
        int len = host.length();
        int end = len;
        if (a[0] == '[') {
            int close = indexOf(host, (byte) ']');
            if (close > 0) {
                attrUtf8Range("server.address", a, 1, close - 1);
                return true;
            }
        } else {
            int colon = indexOf(host, (byte) ':');
            if (colon >= 0) {
                end = colon;
            }
        }
        if (end == 0) {
            return false;
        }
        attrUtf8Range("server.address", a, 0, end);
        return true;
    }

    private void periscopeAttributes(RequestLog r) {
        attrAscii("periscope.capture",
                r.captureSource() == io.periscope.protocols.CaptureSource.PACKET ? "packet" : "syscall");
        attrAscii("periscope.l7_protocol", protocolName(r.protocol()));
        if (r.pid() > 0) {
            attrInt("periscope.pid", r.pid());
        }
        if (r.tid() > 0) {
            attrInt("periscope.tid", r.tid());
        }
        attrText("periscope.comm", r.comm());
        if (r.syscallTraceIdRequest() != 0) {
            attrInt("periscope.syscall_trace_id.request", r.syscallTraceIdRequest());
        }
        if (r.syscallTraceIdResponse() != 0) {
            attrInt("periscope.syscall_trace_id.response", r.syscallTraceIdResponse());
        }
        if (r.tcpSeqRequest() >= 0) {
            attrInt("periscope.tcp_seq.request", r.tcpSeqRequest());
        }
        if (r.tcpSeqResponse() >= 0) {
            attrInt("periscope.tcp_seq.response", r.tcpSeqResponse());
        }
        if (r.requestBytes() >= 0) {
            attrInt("periscope.request.bytes", r.requestBytes());
        }
        if (r.responseBytes() >= 0) {
            attrInt("periscope.response.bytes", r.responseBytes());
        }
        attrText("periscope.request_id", r.requestId());
        if (r.socketId() != 0) {
            attrInt("periscope.socket_id", r.socketId());
        }
    }

    private static final String[] PROTOCOL_NAMES = new String[L7Protocol.values().length];

    static {
        for (L7Protocol p : L7Protocol.values()) {
            PROTOCOL_NAMES[p.ordinal()] = p.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static String protocolName(L7Protocol p) {
        return PROTOCOL_NAMES[p.ordinal()];
    }

    private static int indexOf(TextField f, byte b) {
        byte[] a = f.array();
        for (int i = 0; i < f.length(); i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    // ---- KeyValue writers ----

    private void attrText(String key, TextField value) {
        if (value.isEmpty()) {
            return;
        }
        attrUtf8Range(key, value.array(), 0, value.length());
    }

    private void attrUtf8(String key, byte[] value, int length) {
        attrUtf8Range(key, value, 0, length);
    }

    private void attrUtf8Range(String key, byte[] value, int offset, int length) {
        int kv = out.beginMessage(SPAN_ATTRIBUTES);
        out.writeAscii(KEY_VALUE_KEY, key);
        int any = out.beginMessage(KEY_VALUE_VALUE);
        writeUtf8(out, ANY_STRING, value, offset, length);
        out.endMessage(any);
        out.endMessage(kv);
    }

    private void attrAscii(String key, String value) {
        int kv = out.beginMessage(SPAN_ATTRIBUTES);
        out.writeAscii(KEY_VALUE_KEY, key);
        int any = out.beginMessage(KEY_VALUE_VALUE);
        out.writeAscii(ANY_STRING, value);
        out.endMessage(any);
        out.endMessage(kv);
    }

    private void attrInt(String key, long value) {
        int kv = out.beginMessage(SPAN_ATTRIBUTES);
        out.writeAscii(KEY_VALUE_KEY, key);
        int any = out.beginMessage(KEY_VALUE_VALUE);
        out.writeInt64(ANY_INT, value);
        out.endMessage(any);
        out.endMessage(kv);
    }

    private final byte[] decimal = new byte[24];

    private void attrDecimalString(String key, long value) {
        int n = decimal.length;
        long v = Math.abs(value);
        do {
            decimal[--n] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v > 0);
        if (value < 0) {
            decimal[--n] = '-';
        }
        attrUtf8Range(key, decimal, n, decimal.length - n);
    }

    private void writeText(ProtoWriter w, int field, TextField f) {
        writeUtf8(w, field, f.array(), 0, f.length());
    }

    /** Writes a string field, replacing malformed UTF-8 so that no receiver rejects the request. */
    private void writeUtf8(ProtoWriter w, int field, byte[] src, int offset, int length) {
        if (Utf8Check.isValid(src, offset, length)) {
            w.writeBytes(field, src, offset, length);
            return;
        }
        invalidUtf8Fields++;
        if (sanitized.length < length * 3) {
            sanitized = new byte[length * 3];
        }
        int n = Utf8Check.sanitize(src, offset, length, sanitized);
        w.writeBytes(field, sanitized, 0, n);
    }

    /** Each malformed byte becomes the 3-byte U+FFFD, so 3x the input always fits. */
    private byte[] sanitized = new byte[256];
}
