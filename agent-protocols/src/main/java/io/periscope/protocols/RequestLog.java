package io.periscope.protocols;

import org.agrona.UnsafeAccess;

/**
 * One request paired with its response (or its timeout): what a span and a request-log line are
 * made from.
 *
 * <p>Mutable and reusable: parsers fill a record in place and pipelines copy it between
 * pre-allocated slots with {@link #copyFrom(RequestLog)}, so steady state allocates nothing.
 * Numbers that are not known are -1 (codes, sizes) or 0 (timestamps, ids); text fields are empty.
 * The field names say what they hold for every protocol; which field carries what for a given
 * protocol (resource = URL path, SQL text, Redis key, DNS question...) is documented on each.
 */
public final class RequestLog {
    /** Capacities of the text fields, in bytes. */
    public static final int METHOD_BYTES = 32;
    public static final int VERSION_BYTES = 16;
    public static final int RESOURCE_BYTES = 1024;
    public static final int ENDPOINT_BYTES = 256;
    public static final int HOST_BYTES = 256;
    public static final int ERROR_BYTES = 256;
    public static final int USER_AGENT_BYTES = 256;
    public static final int REQUEST_ID_BYTES = 128;
    public static final int COMM_BYTES = 16;
    public static final int ATTRIBUTE_VALUE_BYTES = 256;
    private static final long BYTE_ARRAY_BASE = UnsafeAccess.UNSAFE.arrayBaseOffset(byte[].class);
    /** Protocol-specific attributes a record can carry beyond the common fields. */
    public static final int MAX_ATTRIBUTES = 8;

    // ---- connection: where the bytes were seen ----
    /** This record's own connection fields: what the setters write and copyFrom fills. */
    private final ConnectionInfo own = new ConnectionInfo();
    /** The fields read: {@link #own}, or the engine's object for the connection (shared, not copied). */
    private ConnectionInfo connection = own;
    /** The thread that made the request's syscall: per request, not per connection. */
    private int tid;
    private long syscallTraceIdRequest;
    private long syscallTraceIdResponse;
    private long tcpSeqRequest = -1;
    private long tcpSeqResponse = -1;

    // ---- the request and its response ----
    private L7Protocol protocol = L7Protocol.UNKNOWN;
    private final TextField version = new TextField(VERSION_BYTES);
    private final TextField method = new TextField(METHOD_BYTES);
    private final TextField resource = new TextField(RESOURCE_BYTES);
    private final TextField endpoint = new TextField(ENDPOINT_BYTES);
    private final TextField host = new TextField(HOST_BYTES);
    private int statusCode = -1;
    private StatusClass statusClass = StatusClass.UNKNOWN;
    private final TextField errorMessage = new TextField(ERROR_BYTES);
    private long requestBytes = -1;
    private long responseBytes = -1;
    private long startNanos;
    private long endNanos;

    // ---- trace context found in the request ----
    private final byte[] traceId = new byte[16];
    private final byte[] parentSpanId = new byte[8];
    private boolean hasTraceContext;
    private boolean sampled;
    /** Whether the id arrays may hold bytes (lent out or copied into) since they were last zeroed. */
    private boolean traceIdsTouched;
    private final TextField requestId = new TextField(REQUEST_ID_BYTES);
    private final TextField userAgent = new TextField(USER_AGENT_BYTES);

    // ---- protocol-specific attributes: key is an interned constant (OTel name), value reusable ----
    private final String[] attributeKeys = new String[MAX_ATTRIBUTES];
    private final TextField[] attributeValues = new TextField[MAX_ATTRIBUTES];
    private int attributeCount;
    private int attributesDropped;

    public RequestLog() {
        for (int i = 0; i < MAX_ATTRIBUTES; i++) {
            attributeValues[i] = new TextField(ATTRIBUTE_VALUE_BYTES);
        }
    }

    /** Resets every field to "unknown" for reuse. */
    public RequestLog clear() {
        own.clear();
        connection = own;
        tid = 0;
        syscallTraceIdRequest = 0;
        protocol = L7Protocol.UNKNOWN;
        startNanos = 0;
        return clearForRequest();
    }

    /**
     * Resets what a request's parse fills, for a pooled record whose connection fields, protocol,
     * start time and request trace id are all set next ({@code Connection.openRequest}): the
     * per-request fixed cost, so it leaves out what is about to be overwritten anyway.
     */
    RequestLog clearForRequest() {
        syscallTraceIdResponse = 0;
        tcpSeqRequest = -1;
        tcpSeqResponse = -1;
        version.clear();
        method.clear();
        resource.clear();
        endpoint.clear();
        host.clear();
        statusCode = -1;
        statusClass = StatusClass.UNKNOWN;
        errorMessage.clear();
        requestBytes = -1;
        responseBytes = -1;
        endNanos = 0;
        clearTraceIds();
        hasTraceContext = false;
        sampled = false;
        requestId.clear();
        userAgent.clear();
        clearAttributes();
        return this;
    }

    private void clearTraceIds() {
        if (traceIdsTouched) {
            // three word stores: an arraycopy from a zero array, or fill, is a stub call each
            UnsafeAccess.UNSAFE.putLong(traceId, BYTE_ARRAY_BASE, 0L);
            UnsafeAccess.UNSAFE.putLong(traceId, BYTE_ARRAY_BASE + Long.BYTES, 0L);
            UnsafeAccess.UNSAFE.putLong(parentSpanId, BYTE_ARRAY_BASE, 0L);
            traceIdsTouched = false;
        }
    }

    private void clearAttributes() {
        for (int i = 0; i < attributeCount; i++) {
            attributeKeys[i] = null;
            attributeValues[i].clear();
        }
        attributeCount = 0;
        attributesDropped = 0;
    }

    /** Makes this record an exact copy of {@code other} without allocating. */
    public RequestLog copyFrom(RequestLog other) {
        // a copy is kept beyond the engine's call: it gets fields of its own, never the shared ones
        own.copyFrom(other.connection);
        connection = own;
        tid = other.tid;
        syscallTraceIdRequest = other.syscallTraceIdRequest;
        syscallTraceIdResponse = other.syscallTraceIdResponse;
        tcpSeqRequest = other.tcpSeqRequest;
        tcpSeqResponse = other.tcpSeqResponse;
        protocol = other.protocol;
        version.copyFrom(other.version);
        method.copyFrom(other.method);
        resource.copyFrom(other.resource);
        endpoint.copyFrom(other.endpoint);
        host.copyFrom(other.host);
        statusCode = other.statusCode;
        statusClass = other.statusClass;
        errorMessage.copyFrom(other.errorMessage);
        requestBytes = other.requestBytes;
        responseBytes = other.responseBytes;
        startNanos = other.startNanos;
        endNanos = other.endNanos;
        System.arraycopy(other.traceId, 0, traceId, 0, 16);
        System.arraycopy(other.parentSpanId, 0, parentSpanId, 0, 8);
        traceIdsTouched = true;
        hasTraceContext = other.hasTraceContext;
        sampled = other.sampled;
        requestId.copyFrom(other.requestId);
        userAgent.copyFrom(other.userAgent);
        for (int i = 0; i < attributeCount; i++) {
            attributeKeys[i] = null;
            attributeValues[i].clear();
        }
        attributeCount = other.attributeCount;
        for (int i = 0; i < attributeCount; i++) {
            attributeKeys[i] = other.attributeKeys[i];
            attributeValues[i].copyFrom(other.attributeValues[i]);
        }
        attributesDropped = other.attributesDropped;
        return this;
    }

    // ---- connection ----

    /**
     * The connection fields of this record, possibly shared with the other records of its
     * connection (see {@link ConnectionInfo}): read only. The accessors below read the same.
     */
    public ConnectionInfo connection() {
        return connection;
    }

    /** Refers to {@code info} instead of copying it: the engine's per-connection fields. */
    RequestLog connection(ConnectionInfo info) {
        connection = info;
        return this;
    }

    /** Whether this record refers to {@code info} (shares it rather than holding its own). */
    boolean sharesConnection(ConnectionInfo info) {
        return connection == info && info != own;
    }

    /** Gives this record a copy of the shared fields of its own, so that they may change. */
    ConnectionInfo ownConnection() {
        if (connection != own) {
            own.copyFrom(connection);
            connection = own;
        }
        return own;
    }

    public CaptureSource captureSource() {
        return connection.captureSource;
    }

    public RequestLog captureSource(CaptureSource value) {
        ownConnection().captureSource = value;
        return this;
    }

    /** The interface a packet capture saw the bytes on; 0 for syscalls. */
    public int interfaceIndex() {
        return connection.interfaceIndex;
    }

    public RequestLog interfaceIndex(int value) {
        ownConnection().interfaceIndex = value;
        return this;
    }

    /** A socket id unique for the socket's lifetime (syscall source), or a flow id (packet source). */
    public long socketId() {
        return connection.socketId;
    }

    public RequestLog socketId(long value) {
        ownConnection().socketId = value;
        return this;
    }

    /** The process id (tgid) of the observed process; 0 when not known (packets). */
    public int pid() {
        return connection.pid;
    }

    public RequestLog pid(int value) {
        ownConnection().pid = value;
        return this;
    }

    /** The thread that made the request's syscall. */
    public int tid() {
        return tid;
    }

    public RequestLog tid(int value) {
        tid = value;
        return this;
    }

    public int fd() {
        return connection.fd;
    }

    public RequestLog fd(int value) {
        ownConnection().fd = value;
        return this;
    }

    /**
     * The process's command name (up to 16 bytes, as the kernel keeps it). Fill in place only on
     * a record of one's own (made with {@code new}, cleared or copied into), never on a lent one.
     */
    public TextField comm() {
        return connection.comm;
    }

    public Role role() {
        return connection.role;
    }

    public RequestLog role(Role value) {
        ownConnection().role = value;
        return this;
    }

    /** 4 or 6; 0 when unknown. */
    public int ipVersion() {
        return connection.ipVersion;
    }

    public RequestLog ipVersion(int value) {
        ownConnection().ipVersion = value;
        return this;
    }

    /**
     * The local address: 4 bytes used for IPv4, 16 for IPv6. Mutable in place on a record of
     * one's own (see {@link #comm()}).
     */
    public byte[] localAddress() {
        return connection.localAddress;
    }

    public int localPort() {
        return connection.localPort;
    }

    public RequestLog localPort(int value) {
        ownConnection().localPort = value;
        return this;
    }

    /** The peer address: 4 bytes used for IPv4, 16 for IPv6. Mutable in place as {@link #localAddress()}. */
    public byte[] remoteAddress() {
        return connection.remoteAddress;
    }

    public int remotePort() {
        return connection.remotePort;
    }

    public RequestLog remotePort(int value) {
        ownConnection().remotePort = value;
        return this;
    }

    /** IANA protocol number: 6 TCP, 17 UDP; 0 unknown. */
    public int l4Protocol() {
        return connection.l4Protocol;
    }

    public RequestLog l4Protocol(int value) {
        ownConnection().l4Protocol = value;
        return this;
    }

    /** The syscall trace id the request was read under (DeepFlow's syscall_trace_id); 0 none. */
    public long syscallTraceIdRequest() {
        return syscallTraceIdRequest;
    }

    public RequestLog syscallTraceIdRequest(long value) {
        syscallTraceIdRequest = value;
        return this;
    }

    public long syscallTraceIdResponse() {
        return syscallTraceIdResponse;
    }

    public RequestLog syscallTraceIdResponse(long value) {
        syscallTraceIdResponse = value;
        return this;
    }

    /** TCP sequence number of the request's first byte; -1 unknown. */
    public long tcpSeqRequest() {
        return tcpSeqRequest;
    }

    public RequestLog tcpSeqRequest(long value) {
        tcpSeqRequest = value;
        return this;
    }

    /** TCP sequence number of the response's first byte; -1 unknown. */
    public long tcpSeqResponse() {
        return tcpSeqResponse;
    }

    public RequestLog tcpSeqResponse(long value) {
        tcpSeqResponse = value;
        return this;
    }

    // ---- request / response ----

    public L7Protocol protocol() {
        return protocol;
    }

    public RequestLog protocol(L7Protocol value) {
        protocol = value;
        return this;
    }

    /** Protocol version as spoken: "1.1", "2", "RESP3", "10" (MySQL), ... */
    public TextField version() {
        return version;
    }

    /** HTTP method, Redis/SQL command, DNS opcode "QUERY", gRPC "POST", Kafka API name... */
    public TextField method() {
        return method;
    }

    /** URL path (query string kept), obfuscated SQL text, Redis key, DNS question name, topic... */
    public TextField resource() {
        return resource;
    }

    /** The resource reduced to a route-like, low-cardinality form (e.g. {@code /users/{id}}). */
    public TextField endpoint() {
        return endpoint;
    }

    /** HTTP Host / :authority, DNS domain, database name where the protocol says it. */
    public TextField host() {
        return host;
    }

    /** Protocol status: HTTP status, DNS rcode, gRPC status, SQL error code...; -1 unknown. */
    public int statusCode() {
        return statusCode;
    }

    public RequestLog statusCode(int value) {
        statusCode = value;
        return this;
    }

    public StatusClass statusClass() {
        return statusClass;
    }

    public RequestLog statusClass(StatusClass value) {
        statusClass = value;
        return this;
    }

    /** Error text from the response (Redis -ERR, SQL error message, gRPC grpc-message...). */
    public TextField errorMessage() {
        return errorMessage;
    }

    /** True size of the request on the wire (not the captured size); -1 unknown. */
    public long requestBytes() {
        return requestBytes;
    }

    public RequestLog requestBytes(long value) {
        requestBytes = value;
        return this;
    }

    /** True size of the response on the wire; -1 unknown (or timeout). */
    public long responseBytes() {
        return responseBytes;
    }

    public RequestLog responseBytes(long value) {
        responseBytes = value;
        return this;
    }

    /** When the request was seen, CLOCK_MONOTONIC or capture ns. */
    public long startNanos() {
        return startNanos;
    }

    public RequestLog startNanos(long value) {
        startNanos = value;
        return this;
    }

    /** When the response (or the timeout) was seen, same clock as {@link #startNanos()}. */
    public long endNanos() {
        return endNanos;
    }

    public RequestLog endNanos(long value) {
        endNanos = value;
        return this;
    }

    public long durationNanos() {
        return endNanos - startNanos;
    }

    // ---- trace context ----

    /** Trace id from traceparent/b3/uber-trace-id/sw8 (16 bytes); valid if {@link #hasTraceContext()}. */
    public byte[] traceId() {
        // lent out, maybe written: zero it on the next clear
        traceIdsTouched = true;
        return traceId;
    }

    /** The caller's span id from the same header (8 bytes). */
    public byte[] parentSpanId() {
        traceIdsTouched = true;
        return parentSpanId;
    }

    public boolean hasTraceContext() {
        return hasTraceContext;
    }

    public RequestLog hasTraceContext(boolean value) {
        hasTraceContext = value;
        return this;
    }

    public boolean sampled() {
        return sampled;
    }

    public RequestLog sampled(boolean value) {
        sampled = value;
        return this;
    }

    /** X-Request-ID (or similar correlation header) value. */
    public TextField requestId() {
        return requestId;
    }

    public TextField userAgent() {
        return userAgent;
    }

    // ---- protocol-specific attributes ----

    /**
     * Adds a protocol-specific attribute and returns its value field to fill, or null when the
     * record already holds {@link #MAX_ATTRIBUTES} (counted in {@link #attributesDropped()}).
     *
     * @param key an OTel attribute name constant, e.g. {@code "dns.question.type"}; must be a
     *            constant (kept by reference, never copied)
     */
    public TextField addAttribute(String key) {
        if (attributeCount == MAX_ATTRIBUTES) {
            attributesDropped++;
            return null;
        }
        attributeKeys[attributeCount] = key;
        return attributeValues[attributeCount++].clear();
    }

    public int attributeCount() {
        return attributeCount;
    }

    public String attributeKey(int index) {
        return attributeKeys[index];
    }

    public TextField attributeValue(int index) {
        return attributeValues[index];
    }

    /** The value of attribute {@code key}, or null. */
    public TextField attribute(String key) {
        for (int i = 0; i < attributeCount; i++) {
            if (attributeKeys[i].equals(key)) {
                return attributeValues[i];
            }
        }
        return null;
    }

    public int attributesDropped() {
        return attributesDropped;
    }

    @Override
    public String toString() {
        return protocol + " " + method + " " + resource + " -> " + statusCode + " " + statusClass
                + " (" + durationNanos() + " ns)";
    }
}
