package io.periscope.protocols;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * The engine's state of one connection, lent to its parser: the requests awaiting responses (in
 * order), the bytes of an incomplete message per direction, and the parser's own state.
 *
 * <p>Pooled and reused by the {@link ProtocolEngine}; touched by the engine's thread only.
 */
public final class Connection {
    private final ProtocolEngine engine;
    private final ProtocolConfig config;
    private final ProtocolCounters counters;
    private final Object[] states = new Object[L7Protocol.values().length];

    long socketId;
    L7Protocol protocol = L7Protocol.UNKNOWN;
    ProtocolParser parser;
    /** Direction the requests travel in, once known; null before. */
    Direction requestDirection;
    int inferenceTries;
    boolean givenUp;
    long lastActivityNanos;
    long serverKey;
    /** The TCP port pair its messages carry (see ProtocolEngine.tcpPorts); 0 before one is known. */
    int portPair;
    /** The connection fields the pending records refer to (not copied per request). */
    private final ConnectionInfo info = new ConnectionInfo();

    // ---- pending requests, oldest first ----
    private final long[] pendingKeys;
    private final RequestLog[] pending;
    private int pendingCount;

    // ---- carry of an incomplete message, per direction (0 request, 1 response) ----
    final byte[][] carry = new byte[2][];
    final UnsafeBuffer[] carryBuffer = new UnsafeBuffer[2];
    final int[] carryLength = new int[2];
    final long[] carrySeq = new long[2];
    final long[] carryNanos = new long[2];

    // ---- a first message too short to infer from (a length prefix read alone), kept for the next ----
    final byte[] prefix = new byte[ProtocolEngine.MAX_PREFIX_BYTES];
    int prefixLength;
    Direction prefixDirection;
    long prefixSeq;
    long prefixNanos;

    // ---- the bytes being parsed right now ----
    private CapturedMessage message;
    private int baseOffset;
    private long baseSeq;
    private long baseNanos;
    private RequestLogSink sink;

    Connection(ProtocolEngine engine, ProtocolConfig config, ProtocolCounters counters) {
        this.engine = engine;
        this.config = config;
        this.counters = counters;
        pendingKeys = new long[config.maxPendingPerConnection()];
        pending = new RequestLog[config.maxPendingPerConnection()];
    }

    void reset(long id) {
        socketId = id;
        protocol = L7Protocol.UNKNOWN;
        parser = null;
        requestDirection = null;
        inferenceTries = 0;
        givenUp = false;
        serverKey = 0;
        portPair = 0;
        carryLength[0] = 0;
        carryLength[1] = 0;
        prefixLength = 0;
        detachPending();
        pendingCount = 0;
        info.invalidate();
    }

    void assign(ProtocolParser p) {
        protocol = p.protocol();
        parser = p;
        int i = protocol.ordinal();
        if (states[i] == null) {
            states[i] = p.newState();
        }
        p.reset(states[i], true);
        p.reset(states[i], false);
    }

    void beginParse(CapturedMessage msg, RequestLogSink s, int offset, long seq, long nanos) {
        message = msg;
        sink = s;
        baseOffset = offset;
        baseSeq = seq;
        baseNanos = nanos;
    }

    UnsafeBuffer carryBuffer(int dir) {
        if (carry[dir] == null) {
            carry[dir] = new byte[config.maxCarryBytes()];
            carryBuffer[dir] = new UnsafeBuffer(carry[dir]);
        }
        return carryBuffer[dir];
    }

    // ---- for parsers ----

    /** The parser's per-connection state (from {@link ProtocolParser#newState()}). */
    public Object state() {
        return states[protocol.ordinal()];
    }

    public L7Protocol protocol() {
        return protocol;
    }

    public ProtocolConfig config() {
        return config;
    }

    public boolean shallow() {
        return config.shallow(protocol);
    }

    public boolean obfuscate() {
        return config.obfuscate();
    }

    public EndpointRule endpointRule() {
        return engine.endpointRule();
    }

    /** Whether the connection is UDP (one message per datagram). */
    public boolean udp() {
        return message != null && message.l4Protocol() == 17;
    }

    /** Counts malformed input for this connection's protocol. */
    public void parseError() {
        counters.parseError(protocol);
    }

    /** Counts a response that found no request to pair with. */
    public void orphanResponse() {
        counters.orphanResponse(protocol);
    }

    public int pendingCount() {
        return pendingCount;
    }

    /**
     * Opens a request that starts at {@code bufferOffset} of the bytes being parsed and returns
     * its record to fill, with the connection fields and the start time already set. When the
     * pending bounds are reached the request is dropped (counted) and a scratch record is
     * returned, so the parser carries on the same way.
     *
     * @param key what the response will be matched by (stream id, transaction id); 0 for order
     */
    public RequestLog openRequest(long key, int bufferOffset) {
        RequestLog log = null;
        if (pendingCount < pending.length) {
            log = engine.acquire();
        }
        if (log == null) {
            counters.pendingDrop(protocol);
            return engine.scratch().clear();
        }
        log.protocol(protocol);
        log.connection(connectionInfo());
        log.tid(message.tid());
        log.startNanos(baseNanos);
        if (baseSeq >= 0) {
            log.tcpSeqRequest((baseSeq + (bufferOffset - baseOffset)) & 0xFFFF_FFFFL);
        }
        log.syscallTraceIdRequest(message.syscallTraceId());
        pendingKeys[pendingCount] = key;
        pending[pendingCount++] = log;
        return log;
    }

    /**
     * The connection fields of the message being parsed, as one object its records may share.
     * When the message brings other values than the object holds (a fork, exec, or a new socket
     * in a pooled connection), the pending records that refer to it get copies of their own
     * first: a record's fields are those of the message that opened it, as if copied.
     */
    private ConnectionInfo connectionInfo() {
        if (!info.matches(message)) {
            detachPending();
            info.set(message, requestDirection);
        }
        return info;
    }

    private void detachPending() {
        for (int i = 0; i < pendingCount; i++) {
            if (pending[i].sharesConnection(info)) {
                pending[i].ownConnection();
            }
        }
    }

    /** The oldest pending request, marked as answered now; null when none (counted orphan). */
    public RequestLog respondFirst(int bufferOffset) {
        if (pendingCount == 0) {
            counters.orphanResponse(protocol);
            return null;
        }
        return markResponse(pending[0], bufferOffset);
    }

    /** The pending request opened with {@code key}, marked answered; null when none (counted). */
    public RequestLog respondTo(long key, int bufferOffset) {
        for (int i = 0; i < pendingCount; i++) {
            if (pendingKeys[i] == key) {
                return markResponse(pending[i], bufferOffset);
            }
        }
        counters.orphanResponse(protocol);
        return null;
    }

    /** The pending request opened with {@code key}, unchanged; null when none. */
    public RequestLog pendingByKey(long key) {
        for (int i = 0; i < pendingCount; i++) {
            if (pendingKeys[i] == key) {
                return pending[i];
            }
        }
        return null;
    }

    /** Whether {@code log} is still awaiting its response on this connection. */
    public boolean isPending(RequestLog log) {
        return indexOf(log) >= 0;
    }

    /** A record to parse into and throw away (a response with no request to pair with). */
    public RequestLog scratchRecord() {
        return engine.scratch().clear();
    }

    /** The oldest pending request, unchanged; null when none. */
    public RequestLog pendingFirst() {
        return pendingCount == 0 ? null : pending[0];
    }

    private RequestLog markResponse(RequestLog log, int bufferOffset) {
        if (log.endNanos() == 0) {
            log.endNanos(baseNanos);
            if (baseSeq >= 0) {
                log.tcpSeqResponse((baseSeq + (bufferOffset - baseOffset)) & 0xFFFF_FFFFL);
            }
            log.syscallTraceIdResponse(message.syscallTraceId());
        }
        return log;
    }

    /** Hands a pending request, now answered, to the sink and forgets it. Scratch is ignored. */
    public void complete(RequestLog log) {
        int i = indexOf(log);
        if (i < 0) {
            return;
        }
        removeAt(i);
        engine.emit(log, sink);
    }

    /** Drops a pending request without reporting it (e.g. a request that turned out invalid). */
    public void discard(RequestLog log) {
        int i = indexOf(log);
        if (i >= 0) {
            removeAt(i);
            engine.release(log);
        }
    }

    private int indexOf(RequestLog log) {
        if (pendingCount > 0 && pending[0] == log) {
            // the usual case: in-order pairing answers the oldest
            return 0;
        }
        for (int i = 1; i < pendingCount; i++) {
            if (pending[i] == log) {
                return i;
            }
        }
        return -1;
    }

    private void removeAt(int i) {
        int tail = pendingCount - i - 1;
        if (tail > 0) {
            System.arraycopy(pending, i + 1, pending, i, tail);
            System.arraycopy(pendingKeys, i + 1, pendingKeys, i, tail);
        }
        pending[--pendingCount] = null;
    }

    /** Ends every pending request older than the timeout (all when {@code force}). */
    void expire(long nowNanos, boolean force, RequestLogSink s, String reason) {
        long timeout = config.timeoutNanos(protocol);
        int i = 0;
        while (i < pendingCount) {
            RequestLog log = pending[i];
            if (force || nowNanos - log.startNanos() >= timeout) {
                removeAt(i);
                if (log.endNanos() == 0) {
                    log.statusClass(StatusClass.TIMEOUT);
                    log.endNanos(Math.max(nowNanos, log.startNanos()));
                    log.responseBytes(-1);
                    if (reason != null) {
                        log.errorMessage().setAscii(reason);
                    }
                    counters.timeout(protocol);
                }
                // else: the response began but its end was never seen; report what was parsed
                engine.emit(log, s);
            } else {
                i++;
            }
        }
    }

    /** The socket id of the connection the bytes belong to. */
    public long socketId() {
        return socketId;
    }

    /** Time of the bytes being parsed (of the first byte of a carried message). */
    public long nowNanos() {
        return baseNanos;
    }

    @Override
    public String toString() {
        return "Connection{" + socketId + " " + protocol + " pending=" + pendingCount + "}";
    }
}
