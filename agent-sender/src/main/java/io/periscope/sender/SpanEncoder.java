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

    private static final int KIND_INTERNAL = 1;
    private static final int KIND_SERVER = 2;
    private static final int KIND_CLIENT = 3;
    private static final int STATUS_CODE_ERROR = 2;
    /** W3C trace flags "sampled" bit, carried in Span.flags together with the has-remote-parent bits. */
    private static final int FLAG_SAMPLED = 0x01;
    private static final int FLAG_CONTEXT_HAS_IS_REMOTE = 0x100;
    private static final int FLAG_CONTEXT_IS_REMOTE = 0x200;
    private static final int SPAN_BUFFER_INITIAL_BYTES = 2048;

    public static final String SCOPE_NAME_VALUE = "io.periscope.sender";

    // Attribute keys pre-encoded as the KeyValue.key field (tag, length, bytes): copied, not encoded, per span.
    private static final byte[] K_CLIENT_ADDRESS = key("client.address");
    private static final byte[] K_CLIENT_PORT = key("client.port");
    private static final byte[] K_DB_COLLECTION_NAME = key("db.collection.name");
    private static final byte[] K_DB_NAMESPACE = key("db.namespace");
    private static final byte[] K_DB_OPERATION_NAME = key("db.operation.name");
    private static final byte[] K_DB_QUERY_TEXT = key("db.query.text");
    private static final byte[] K_DB_RESPONSE_STATUS_CODE = key("db.response.status_code");
    private static final byte[] K_DB_SYSTEM_NAME = key("db.system.name");
    private static final byte[] K_DNS_QUESTION_NAME = key("dns.question.name");
    private static final byte[] K_ERROR_TYPE = key("error.type");
    private static final byte[] K_HTTP_REQUEST_METHOD = key("http.request.method");
    private static final byte[] K_HTTP_RESPONSE_STATUS_CODE = key("http.response.status_code");
    private static final byte[] K_HTTP_ROUTE = key("http.route");
    private static final byte[] K_MESSAGING_DESTINATION_NAME = key("messaging.destination.name");
    private static final byte[] K_MESSAGING_OPERATION_NAME = key("messaging.operation.name");
    private static final byte[] K_MESSAGING_SYSTEM = key("messaging.system");
    private static final byte[] K_NETWORK_PEER_ADDRESS = key("network.peer.address");
    private static final byte[] K_NETWORK_PEER_PORT = key("network.peer.port");
    private static final byte[] K_NETWORK_PROTOCOL_NAME = key("network.protocol.name");
    private static final byte[] K_NETWORK_PROTOCOL_VERSION = key("network.protocol.version");
    private static final byte[] K_NETWORK_TRANSPORT = key("network.transport");
    private static final byte[] K_NETWORK_TYPE = key("network.type");
    private static final byte[] K_PERISCOPE_CAPTURE = key("periscope.capture");
    private static final byte[] K_PERISCOPE_COMM = key("periscope.comm");
    private static final byte[] K_PERISCOPE_L7_PROTOCOL = key("periscope.l7_protocol");
    private static final byte[] K_PERISCOPE_PID = key("periscope.pid");
    private static final byte[] K_PERISCOPE_REQUEST_BYTES = key("periscope.request.bytes");
    private static final byte[] K_PERISCOPE_REQUEST_ID = key("periscope.request_id");
    private static final byte[] K_PERISCOPE_RESPONSE_BYTES = key("periscope.response.bytes");
    private static final byte[] K_PERISCOPE_SOCKET_ID = key("periscope.socket_id");
    private static final byte[] K_PERISCOPE_STATUS_CODE = key("periscope.status_code");
    private static final byte[] K_PERISCOPE_SYSCALL_TRACE_ID_REQUEST = key("periscope.syscall_trace_id.request");
    private static final byte[] K_PERISCOPE_SYSCALL_TRACE_ID_RESPONSE = key("periscope.syscall_trace_id.response");
    private static final byte[] K_PERISCOPE_TCP_SEQ_REQUEST = key("periscope.tcp_seq.request");
    private static final byte[] K_PERISCOPE_TCP_SEQ_RESPONSE = key("periscope.tcp_seq.response");
    private static final byte[] K_PERISCOPE_TID = key("periscope.tid");
    private static final byte[] K_RPC_GRPC_STATUS_CODE = key("rpc.grpc.status_code");
    private static final byte[] K_RPC_METHOD = key("rpc.method");
    private static final byte[] K_RPC_SERVICE = key("rpc.service");
    private static final byte[] K_RPC_SYSTEM = key("rpc.system");
    private static final byte[] K_SERVER_ADDRESS = key("server.address");
    private static final byte[] K_SERVER_PORT = key("server.port");
    private static final byte[] K_URL_PATH = key("url.path");
    private static final byte[] K_URL_QUERY = key("url.query");
    private static final byte[] K_USER_AGENT_ORIGINAL = key("user_agent.original");

    private final ProtoWriter out;
    private final byte[] text = new byte[RequestLog.RESOURCE_BYTES * 3 + 64];
    private final SplittableRandom random;
    private final long syscallClockOffsetNanos;
    private final long packetClockOffsetNanos;
    private final int maxMessageBytes;
    private final byte[] scopeVersion;
    private final ResourceGroups grouping = new ResourceGroups();
    private final ConnectionAttributes connections = new ConnectionAttributes();
    private long invalidUtf8Fields;

    /**
     * @param syscallClockOffsetNanos added to syscall timestamps (CLOCK_MONOTONIC) to get Unix epoch ns
     * @param packetClockOffsetNanos added to packet timestamps (usually 0: capture time is epoch)
     * @param maxMessageBytes requests are split so that none is larger
     * @param seed seeds the span/trace id generator
     */
    public SpanEncoder(long syscallClockOffsetNanos, long packetClockOffsetNanos, int maxMessageBytes,
                       long seed) {
        this(syscallClockOffsetNanos, packetClockOffsetNanos, maxMessageBytes, seed,
                Math.min(maxMessageBytes, 1 << 20));
    }

    /**
     * An encoder for single spans ({@link #encodeSpan}) on a producer thread: its buffer starts at
     * one span's size and grows to the largest span it has seen, instead of a whole request's.
     */
    static SpanEncoder forSpans(long syscallClockOffsetNanos, long packetClockOffsetNanos, int maxMessageBytes,
                                long seed) {
        return new SpanEncoder(syscallClockOffsetNanos, packetClockOffsetNanos, maxMessageBytes, seed,
                SPAN_BUFFER_INITIAL_BYTES);
    }

    private SpanEncoder(long syscallClockOffsetNanos, long packetClockOffsetNanos, int maxMessageBytes,
                        long seed, int initialBufferBytes) {
        if (maxMessageBytes < 4 * ResourceGroups.HEADER_ALLOWANCE_BYTES) {
            throw new IllegalArgumentException("maxMessageBytes too small: " + maxMessageBytes);
        }
        this.syscallClockOffsetNanos = syscallClockOffsetNanos;
        this.packetClockOffsetNanos = packetClockOffsetNanos;
        this.maxMessageBytes = maxMessageBytes;
        this.random = new SplittableRandom(seed);
        this.out = new ProtoWriter(initialBufferBytes);
        String version = SpanEncoder.class.getPackage().getImplementationVersion();
        this.scopeVersion = (version == null ? "dev" : version).getBytes(StandardCharsets.UTF_8);
    }

    /** Text fields that were not valid UTF-8 and were sent with replacement characters. */
    public long invalidUtf8Fields() {
        return invalidUtf8Fields;
    }

    /** The per-connection attribute table (for tests). */
    ConnectionAttributes connectionAttributes() {
        return connections;
    }

    /**
     * Encodes {@code count} records, grouped by resource, into one or more requests handed to
     * {@code sink}; returns the number of requests.
     */
    public int encode(RequestLog[] records, ProcessResource[] resources, int count, RequestSink sink) {
        this.records = records;
        this.recordResources = resources;
        try {
            return grouping.encode(out, resources, count, maxMessageBytes, opener, recordWriter, sink);
        } finally {
            this.records = null;
            this.recordResources = null;
            this.spanResource = null;
        }
    }

    /**
     * Like {@link #encode} for spans already encoded by {@link #encodeSpan} (span {@code i} is
     * {@code spans[i][0, lengths[i])}): groups them by resource and length-prefixes them into
     * requests, split exactly as {@link #encode} splits, so the output is the same bytes
     * {@link #encode} writes for the records those spans came from.
     */
    public int encodeEncoded(byte[][] spans, int[] lengths, ProcessResource[] resources, int count,
                             RequestSink sink) {
        this.encodedSpans = spans;
        this.encodedLengths = lengths;
        try {
            return grouping.encode(out, resources, count, maxMessageBytes, opener, encodedWriter, sink);
        } finally {
            this.encodedSpans = null;
            this.encodedLengths = null;
        }
    }

    // The two span sources, held in fields so that a batch allocates nothing.
    private RequestLog[] records;
    private ProcessResource[] recordResources;
    /**
     * The resource the span being written will be grouped under (null: not known). When it
     * carries the span's pid as process.pid, the span does not repeat it as periscope.pid.
     */
    private ProcessResource spanResource;
    private byte[][] encodedSpans;
    private int[] encodedLengths;
    private final ResourceGroups.RecordWriter recordWriter = this::writeRecordSpan;
    private final ResourceGroups.RecordWriter encodedWriter = this::writeEncodedSpan;
    private final ResourceGroups.GroupOpener opener = this::openGroup;

    private void writeRecordSpan(int i) {
        int mark = out.beginMessage(SCOPE_SPANS_SPANS);
        spanResource = recordResources[i];
        writeSpan(records[i]);
        out.endMessage(mark);
    }

    private void writeEncodedSpan(int i) {
        out.writeBytes(SCOPE_SPANS_SPANS, encodedSpans[i], 0, encodedLengths[i]);
    }

    /** Groups {@code count} spans by resource into requests of at most maxMessageBytes each. */
    /**
     * Encodes {@code r} as a standalone {@code Span} message into this encoder's buffer and
     * returns its length; the bytes are {@link #spanBytes()}{@code [0, length)}, valid until the
     * next call. Allocates nothing once the buffer has grown to the largest span seen.
     */
    public int encodeSpan(RequestLog r) {
        return encodeSpan(r, null);
    }

    /**
     * Like {@link #encodeSpan(RequestLog)} for a span that will be exported under
     * {@code resource} (as {@link #encodeEncoded} groups it): when the resource carries the span's
     * pid as {@code process.pid}, where OpenTelemetry puts a process's identity, the span does not
     * repeat it as {@code periscope.pid}. {@code null} encodes as {@link #encodeSpan(RequestLog)}.
     */
    public int encodeSpan(RequestLog r, ProcessResource resource) {
        out.reset();
        spanResource = resource;
        try {
            writeSpan(r);
        } finally {
            spanResource = null;
        }
        return out.position();
    }

    /** The buffer {@link #encodeSpan} wrote into. */
    public byte[] spanBytes() {
        return out.array();
    }

    private long openGroup(ProcessResource resource) {
        int group = beginGroup(resource);
        int scope = out.beginMessage(RESOURCE_SPANS_SCOPE_SPANS);
        writeScope();
        return ResourceGroups.marks(group, scope);
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
        spanResource = null;
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
                attrAscii(K_RPC_SYSTEM, "apache_dubbo");
                attrText(K_RPC_SERVICE, r.resource());
                attrText(K_RPC_METHOD, r.method());
                break;
            case MYSQL:
            case POSTGRESQL:
            case MONGODB:
                attrAscii(K_DB_SYSTEM_NAME, dbSystem(p));
                attrText(K_DB_OPERATION_NAME, r.method());
                attrText(K_DB_COLLECTION_NAME, r.endpoint());
                attrText(K_DB_QUERY_TEXT, r.resource());
                attrText(K_DB_NAMESPACE, r.host());
                if (r.statusCode() >= 0 && r.statusClass() != StatusClass.OK) {
                    attrDecimalString(K_DB_RESPONSE_STATUS_CODE, r.statusCode());
                }
                break;
            case REDIS:
            case MEMCACHED:
                attrAscii(K_DB_SYSTEM_NAME, dbSystem(p));
                attrText(K_DB_OPERATION_NAME, r.method());
                if (!r.method().isEmpty()) {
                    int n = put(text, 0, r.method(), null);
                    if (!r.resource().isEmpty()) {
                        text[n++] = ' ';
                        n = put(text, n, r.resource(), null);
                    }
                    attrUtf8(K_DB_QUERY_TEXT, text, n);
                }
                break;
            case KAFKA:
            case MQTT:
            case AMQP:
            case NATS:
                attrAscii(K_MESSAGING_SYSTEM, messagingSystem(p));
                attrText(K_MESSAGING_OPERATION_NAME, r.method());
                attrText(K_MESSAGING_DESTINATION_NAME, r.resource());
                break;
            case DNS:
                attrText(K_DNS_QUESTION_NAME, r.resource());
                break;
            default:
                break;
        }
        if (p != L7Protocol.HTTP1 && p != L7Protocol.HTTP2 && p != L7Protocol.GRPC && r.statusCode() >= 0) {
            attrInt(K_PERISCOPE_STATUS_CODE, r.statusCode());
        }
        if (isError(r) || r.statusClass() == StatusClass.CLIENT_ERROR) {
            if (r.statusClass() == StatusClass.TIMEOUT) {
                attrAscii(K_ERROR_TYPE, "timeout");
            } else if (r.statusCode() >= 0) {
                attrDecimalString(K_ERROR_TYPE, r.statusCode());
            } else {
                attrAscii(K_ERROR_TYPE, "_OTHER");
            }
        }
        networkAttributes(r);
        for (int i = 0; i < r.attributeCount(); i++) {
            attrText(r.attributeKey(i), r.attributeValue(i));
        }
        periscopeAttributes(r);
    }

    private void httpAttributes(RequestLog r) {
        attrText(K_HTTP_REQUEST_METHOD, r.method());
        TextField res = r.resource();
        int q = indexOf(res, (byte) '?');
        if (res.length() > 0) {
            int pathLen = q < 0 ? res.length() : q;
            attrUtf8Range(K_URL_PATH, res.array(), 0, pathLen);
            if (q >= 0 && q + 1 < res.length()) {
                attrUtf8Range(K_URL_QUERY, res.array(), q + 1, res.length() - q - 1);
            }
        }
        attrText(K_HTTP_ROUTE, r.endpoint());
        if (r.statusCode() >= 0) {
            attrInt(K_HTTP_RESPONSE_STATUS_CODE, r.statusCode());
        }
        attrText(K_USER_AGENT_ORIGINAL, r.userAgent());
        attrAscii(K_NETWORK_PROTOCOL_NAME, "http");
        attrText(K_NETWORK_PROTOCOL_VERSION, r.version());
    }

    private void grpcAttributes(RequestLog r) {
        attrAscii(K_RPC_SYSTEM, "grpc");
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
            attrUtf8Range(K_RPC_SERVICE, a, start, slash - start);
            attrUtf8Range(K_RPC_METHOD, a, slash + 1, len - slash - 1);
        } else if (len > start) {
            attrUtf8Range(K_RPC_METHOD, a, start, len - start);
        }
        if (r.statusCode() >= 0) {
            attrInt(K_RPC_GRPC_STATUS_CODE, r.statusCode());
        }
        attrText(K_USER_AGENT_ORIGINAL, r.userAgent());
    }

    /**
     * The network attributes. server.address comes from the request's Host header when it has
     * one; the rest depends only on the connection and is copied from {@link #connections} when
     * this connection's block was encoded before.
     */
    private void networkAttributes(RequestLog r) {
        boolean http = r.protocol() == L7Protocol.HTTP1 || r.protocol() == L7Protocol.HTTP2
                || r.protocol() == L7Protocol.GRPC;
        boolean hostWritten = (r.role() == Role.SERVER || r.role() == Role.CLIENT) && writeHostHeader(r, http);
        boolean pidOnResource = pidOnResource(r);
        int shape = ConnectionAttributes.shape(r, !hostWritten, pidOnResource);
        ConnectionAttributes.Entry entry = connections.slot(r.socketId());
        if (entry.matches(r, shape)) {
            connections.hit();
            out.rawBytes(entry.bytes, 0, entry.length);
            invalidUtf8Fields += entry.invalidUtf8Fields;
            return;
        }
        connections.miss();
        int start = out.position();
        long invalidBefore = invalidUtf8Fields;
        connectionAttributes(r, !hostWritten, pidOnResource);
        entry.store(r, shape, out.array(), start, out.position(), (int) (invalidUtf8Fields - invalidBefore));
    }

    /** The attributes every span of a connection shares, in one contiguous run (see networkAttributes). */
    private void connectionAttributes(RequestLog r, boolean serverAddressFromSocket, boolean pidOnResource) {
        if (r.l4Protocol() == 6) {
            attrAscii(K_NETWORK_TRANSPORT, "tcp");
        } else if (r.l4Protocol() == 17) {
            attrAscii(K_NETWORK_TRANSPORT, "udp");
        }
        if (r.ipVersion() == 4) {
            attrAscii(K_NETWORK_TYPE, "ipv4");
        } else if (r.ipVersion() == 6) {
            attrAscii(K_NETWORK_TYPE, "ipv6");
        }
        int remoteLen = r.ipVersion() == 0 ? 0 : IpFormat.format(r.ipVersion(), r.remoteAddress(), text, 0);
        if (remoteLen > 0) {
            attrUtf8(K_NETWORK_PEER_ADDRESS, text, remoteLen);
        }
        if (r.remotePort() > 0) {
            attrInt(K_NETWORK_PEER_PORT, r.remotePort());
        }
        if (r.role() == Role.SERVER) {
            if (remoteLen > 0) {
                attrUtf8(K_CLIENT_ADDRESS, text, remoteLen);
            }
            if (r.remotePort() > 0) {
                attrInt(K_CLIENT_PORT, r.remotePort());
            }
            if (serverAddressFromSocket) {
                int localLen = r.ipVersion() == 0 ? 0 : IpFormat.format(r.ipVersion(), r.localAddress(), text, 0);
                if (localLen > 0) {
                    attrUtf8(K_SERVER_ADDRESS, text, localLen);
                }
            }
            if (r.localPort() > 0) {
                attrInt(K_SERVER_PORT, r.localPort());
            }
        } else if (r.role() == Role.CLIENT) {
            if (serverAddressFromSocket && remoteLen > 0) {
                attrUtf8(K_SERVER_ADDRESS, text, remoteLen);
            }
            if (r.remotePort() > 0) {
                attrInt(K_SERVER_PORT, r.remotePort());
            }
        }
        attrAscii(K_PERISCOPE_CAPTURE,
                r.captureSource() == io.periscope.protocols.CaptureSource.PACKET ? "packet" : "syscall");
        attrAscii(K_PERISCOPE_L7_PROTOCOL, protocolName(r.protocol()));
        if (r.pid() > 0 && !pidOnResource) {
            attrInt(K_PERISCOPE_PID, r.pid());
        }
        attrText(K_PERISCOPE_COMM, r.comm());
        if (r.socketId() != 0) {
            attrInt(K_PERISCOPE_SOCKET_ID, r.socketId());
        }
    }

    /** Whether the span's resource already says its pid (process.pid), so periscope.pid would repeat it. */
    private boolean pidOnResource(RequestLog r) {
        ProcessResource resource = spanResource;
        return resource != null && r.pid() > 0 && resource.pid() == r.pid();
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
                attrUtf8Range(K_SERVER_ADDRESS, a, 1, close - 1);
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
        attrUtf8Range(K_SERVER_ADDRESS, a, 0, end);
        return true;
    }

    /** The periscope.* attributes that vary per request (the connection's are in connectionAttributes). */
    private void periscopeAttributes(RequestLog r) {
        if (r.tid() > 0) {
            attrInt(K_PERISCOPE_TID, r.tid());
        }
        if (r.syscallTraceIdRequest() != 0) {
            attrInt(K_PERISCOPE_SYSCALL_TRACE_ID_REQUEST, r.syscallTraceIdRequest());
        }
        if (r.syscallTraceIdResponse() != 0) {
            attrInt(K_PERISCOPE_SYSCALL_TRACE_ID_RESPONSE, r.syscallTraceIdResponse());
        }
        if (r.tcpSeqRequest() >= 0) {
            attrInt(K_PERISCOPE_TCP_SEQ_REQUEST, r.tcpSeqRequest());
        }
        if (r.tcpSeqResponse() >= 0) {
            attrInt(K_PERISCOPE_TCP_SEQ_RESPONSE, r.tcpSeqResponse());
        }
        if (r.requestBytes() >= 0) {
            attrInt(K_PERISCOPE_REQUEST_BYTES, r.requestBytes());
        }
        if (r.responseBytes() >= 0) {
            attrInt(K_PERISCOPE_RESPONSE_BYTES, r.responseBytes());
        }
        attrText(K_PERISCOPE_REQUEST_ID, r.requestId());
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

    // ---- KeyValue writers (see KeyValues) ----

    private static final int KEY_VALUE_TAG = KeyValues.tag(SPAN_ATTRIBUTES);

    /** The KeyValue.key field for {@code key}: tag, length, ASCII bytes. */
    private static byte[] key(String key) {
        return KeyValues.key(key);
    }

    /** Record attribute keys are interned constants of the parsers: encoded once each. */
    private final IdentityHashMap<String, byte[]> recordKeys = new IdentityHashMap<>();

    private void attrText(String key, TextField value) {
        if (value.isEmpty()) {
            return;
        }
        byte[] k = recordKeys.get(key);
        if (k == null) {
            k = key(key);
            recordKeys.put(key, k);
        }
        attrUtf8Range(k, value.array(), 0, value.length());
    }

    private void attrText(byte[] key, TextField value) {
        if (value.isEmpty()) {
            return;
        }
        attrUtf8Range(key, value.array(), 0, value.length());
    }

    private void attrUtf8(byte[] key, byte[] value, int length) {
        attrUtf8Range(key, value, 0, length);
    }

    private void attrUtf8Range(byte[] key, byte[] value, int offset, int length) {
        if (!Utf8Check.isValid(value, offset, length)) {
            invalidUtf8Fields++;
            if (sanitized.length < length * 3) {
                sanitized = new byte[length * 3];
            }
            length = Utf8Check.sanitize(value, offset, length, sanitized);
            value = sanitized;
            offset = 0;
        }
        KeyValues.string(out, KEY_VALUE_TAG, key, value, offset, length);
    }

    private void attrAscii(byte[] key, String value) {
        KeyValues.ascii(out, KEY_VALUE_TAG, key, value);
    }

    private void attrInt(byte[] key, long value) {
        KeyValues.integer(out, KEY_VALUE_TAG, key, value);
    }

    private final byte[] decimal = new byte[24];

    private void attrDecimalString(byte[] key, long value) {
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
