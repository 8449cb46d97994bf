package io.periscope.protocols;

import io.periscope.protocols.amqp.AmqpParser;
import io.periscope.protocols.dns.DnsParser;
import io.periscope.protocols.dubbo.DubboParser;
import io.periscope.protocols.http1.Http1Parser;
import io.periscope.protocols.http2.Http2Parser;
import io.periscope.protocols.kafka.KafkaParser;
import io.periscope.protocols.memcached.MemcachedParser;
import io.periscope.protocols.mongodb.MongoParser;
import io.periscope.protocols.mqtt.MqttParser;
import io.periscope.protocols.mysql.MysqlParser;
import io.periscope.protocols.nats.NatsParser;
import io.periscope.protocols.pgsql.PostgresParser;
import io.periscope.protocols.redis.RedisParser;
import io.periscope.protocols.tls.TlsParser;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;

/**
 * The entry point: captured bytes in, request logs out. Per connection it infers the protocol,
 * parses messages in place, pairs requests with responses and ends unanswered requests as
 * TIMEOUT. Every structure is bounded by {@link ProtocolConfig} and every drop is counted in
 * {@link #counters()}.
 *
 * <p>Single-threaded: one engine per shard, all calls from that shard's thread (shard by socket
 * id so a connection always meets the same engine). Steady state allocates nothing.
 */
public final class ProtocolEngine {
    /** The protocols this engine can parse (GRPC is reported for HTTP/2 with a gRPC content type). */
    public static final List<L7Protocol> SUPPORTED = List.of(
            L7Protocol.HTTP1, L7Protocol.HTTP2, L7Protocol.REDIS, L7Protocol.DNS, L7Protocol.POSTGRESQL,
            L7Protocol.MYSQL,
            L7Protocol.KAFKA, L7Protocol.MQTT, L7Protocol.MEMCACHED, L7Protocol.MONGODB,
            L7Protocol.AMQP, L7Protocol.NATS, L7Protocol.DUBBO, L7Protocol.TLS);

    private static final int UDP = 17;
    /**
     * A first message this short that no parser takes is kept and inferred again in front of the
     * next bytes of its direction: readers that take a length prefix alone (Kafka's 4 bytes,
     * DNS over TCP's 2) would otherwise show inference only a bare prefix and then a headless body.
     */
    static final int MAX_PREFIX_BYTES = 8;

    private final ProtocolConfig config;
    private final ProtocolCounters counters = new ProtocolCounters();
    private final EndpointRule endpointRule;
    private final EndpointProtocolCache endpointCache;
    private final ProtocolParser[] parsers;
    private final ProtocolParser[] byProtocol = new ProtocolParser[L7Protocol.values().length];
    private final Long2ObjectHashMap<Connection> connections = new Long2ObjectHashMap<>();
    private final ArrayDeque<Connection> freeConnections = new ArrayDeque<>();
    private final RequestLog[] freeLogs;
    private int freeLogCount;
    private int logsCreated;
    private final RequestLog scratch = new RequestLog();
    /** A kept prefix and the first bytes after it, for inference only. */
    private final UnsafeBuffer inferBuffer;
    /** The parser the last {@link #infer} call settled on. */
    private ProtocolParser inferred;
    /** The connection of the previous message: bursts on one connection skip the map lookup. */
    private Connection lastConnection;

    public ProtocolEngine(ProtocolConfig config) {
        this.config = config;
        endpointRule = new EndpointRule(config.endpointSegments(), config.endpointReplaceIds());
        endpointCache = new EndpointProtocolCache(config.endpointCacheEntries(), config.endpointCacheTtlNanos());
        ProtocolParser[] all = {new Http2Parser(), new Http1Parser(), new RedisParser(), new PostgresParser(),
            new MysqlParser(), new DnsParser(),
            new KafkaParser(), new MqttParser(), new MemcachedParser(), new MongoParser(),
            new AmqpParser(), new NatsParser(), new DubboParser(), new TlsParser()};
        int n = 0;
        for (ProtocolParser p : all) {
            if (config.enabled(p.protocol())) {
                n++;
            }
        }
        parsers = new ProtocolParser[n];
        n = 0;
        for (ProtocolParser p : all) {
            if (config.enabled(p.protocol())) {
                parsers[n++] = p;
                byProtocol[p.protocol().ordinal()] = p;
            }
        }
        freeLogs = new RequestLog[config.maxPendingTotal()];
        inferBuffer = new UnsafeBuffer(new byte[MAX_PREFIX_BYTES + config.maxCarryBytes()]);
    }

    public ProtocolConfig config() {
        return config;
    }

    public ProtocolCounters counters() {
        return counters;
    }

    /** Connections currently tracked. */
    public int connectionCount() {
        return connections.size();
    }

    /** Requests currently awaiting a response, over all connections. */
    public int pendingCount() {
        return logsCreated - freeLogCount;
    }

    /**
     * Parses one captured message; finished request logs go to {@code sink} before it returns.
     * The message is not kept.
     */
    public void onMessage(CapturedMessage msg, RequestLogSink sink) {
        counters.message();
        if (msg.buffer() == null) {
            return;
        }
        Connection conn = lastConnection;
        if (conn == null || conn.socketId != msg.socketId()) {
            conn = connections.get(msg.socketId());
        }
        if (conn == null) {
            if (connections.size() >= config.maxConnections()) {
                counters.connectionDrop();
                return;
            }
            conn = freeConnections.pollFirst();
            if (conn == null) {
                conn = new Connection(this, config, counters);
            }
            conn.reset(msg.socketId());
            connections.put(msg.socketId(), conn);
        }
        int ports = tcpPorts(msg);
        if (ports != conn.portPair && ports != 0) {
            if (conn.portPair != 0) {
                renew(conn, msg, sink);
            }
            conn.portPair = ports;
        }
        lastConnection = conn;
        conn.lastActivityNanos = msg.timestampNanos();
        if (conn.protocol == L7Protocol.UNKNOWN) {
            if (conn.givenUp || !identify(conn, msg)) {
                counters.unknownMessage();
                return;
            }
        }
        boolean request = msg.direction() == conn.requestDirection;
        parse(conn, msg, request, sink);
    }

    /**
     * Ends requests whose protocol's timeout has passed and forgets connections idle longer than
     * connectionIdleNanos. Call periodically (e.g. every 100 ms to 1 s) from the engine's thread:
     * it also publishes {@link #counters()} to readers on other threads.
     */
    public void onTimerTick(long nowNanos, RequestLogSink sink) {
        Iterator<Connection> it = connections.values().iterator();
        while (it.hasNext()) {
            Connection conn = it.next();
            boolean idle = nowNanos - conn.lastActivityNanos >= config.connectionIdleNanos();
            if (conn.pendingCount() > 0) {
                conn.expire(nowNanos, idle, sink, idle ? "connection idle" : null);
            }
            if (idle) {
                if (conn == lastConnection) {
                    lastConnection = null;
                }
                it.remove();
                freeConnections.addFirst(conn);
            }
        }
        // the counts' one ordered store per tick, for readers on other threads (metrics)
        counters.publish();
    }

    /**
     * Forgets a connection; its unanswered requests end now as TIMEOUT with the error message
     * "connection closed", since no response can come any more.
     */
    public void onConnectionClosed(long socketId, long nowNanos, RequestLogSink sink) {
        Connection conn = connections.remove(socketId);
        if (conn == null) {
            return;
        }
        if (conn == lastConnection) {
            lastConnection = null;
        }
        if (conn.pendingCount() > 0) {
            conn.expire(nowNanos, true, sink, "connection closed");
        }
        freeConnections.addFirst(conn);
    }

    /**
     * The message's TCP port pair as one int (local in the high half), 0 for UDP or when a port
     * is not known. A TCP socket keeps its ports for life, so another pair under the same socket
     * id is another socket.
     */
    private static int tcpPorts(CapturedMessage msg) {
        int local = msg.localPort();
        int remote = msg.remotePort();
        if (msg.l4Protocol() == UDP || local == 0 || remote == 0) {
            return 0;
        }
        return local << 16 | remote;
    }

    /**
     * The socket id names a new TCP socket (other ports). The socket tracer now gives every socket
     * its own id however the last one at its kernel address ended (it checks the socket's inode);
     * this is the engine's own guard for any source that does not (a recording from an older
     * tracer, a replay), since the engine cannot tell sources apart. Without it a reused id kept
     * the old connection's protocol (bench A: a PostgreSQL parser fed nginx's HTTP, the h2load to
     * nginx hop at 0.85-0.96 spans per transaction). The old connection ends as if closed and the
     * new one starts afresh.
     */
    private void renew(Connection conn, CapturedMessage msg, RequestLogSink sink) {
        counters.socketIdReuse();
        if (conn.pendingCount() > 0) {
            conn.expire(msg.timestampNanos(), true, sink, "connection closed");
        }
        conn.reset(msg.socketId());
    }

    // ---- inference ----

    private boolean identify(Connection conn, CapturedMessage msg) {
        Role role = msg.role();
        boolean udp = msg.l4Protocol() == UDP;
        long serverKey = 0;
        if (role != Role.UNKNOWN) {
            serverKey = role == Role.CLIENT
                    ? remoteKey(msg) : localKey(msg);
            if (serverKey != 0) {
                L7Protocol cached = cachedProtocol(serverKey, msg.timestampNanos());
                if (cached != null) {
                    bindCached(conn, cached, role == Role.CLIENT, serverKey);
                    return true;
                }
            }
        } else if (fromCacheWithoutRole(conn, msg)) {
            return true;
        }
        DirectBuffer buf = msg.buffer();
        int off = msg.offset();
        int len = msg.capturedLength();
        L7Protocol hinted = portHint(msg, role);
        ProtocolParser hintParser = hinted == null ? null : byProtocol[hinted.ordinal()];
        ProtocolParser.Inference found = ProtocolParser.Inference.NO;
        boolean withPrefix = false;
        if (conn.prefixLength > 0 && conn.prefixDirection == msg.direction()) {
            // the kept prefix and the first bytes after it, as one read would have had them
            int n = conn.prefixLength;
            inferBuffer.putBytes(0, conn.prefix, 0, n);
            int take = Math.min(len, inferBuffer.capacity() - n);
            inferBuffer.putBytes(n, buf, off, take);
            found = infer(inferBuffer, 0, n + take, hintParser, udp);
            withPrefix = found != ProtocolParser.Inference.NO && consistentWithRole(found, role, msg.direction());
        }
        if (!withPrefix) {
            found = infer(buf, off, len, hintParser, udp);
        }
        ProtocolParser match = inferred;
        if (found == ProtocolParser.Inference.NO || !consistentWithRole(found, role, msg.direction())) {
            keepPrefix(conn, msg, udp);
            if (++conn.inferenceTries >= config.maxInferenceAttempts()) {
                conn.givenUp = true;
                counters.inferenceGiveUp();
            }
            return false;
        }
        conn.assign(match);
        counters.inference(match.protocol());
        Direction other = msg.direction() == Direction.INGRESS ? Direction.EGRESS : Direction.INGRESS;
        conn.requestDirection = found == ProtocolParser.Inference.REQUEST ? msg.direction() : other;
        if (serverKey == 0) {
            // the server is the receiver of requests
            boolean localIsServer = conn.requestDirection == Direction.INGRESS;
            serverKey = localIsServer ? localKey(msg) : remoteKey(msg);
        }
        if (serverKey != 0) {
            endpointCache.put(serverKey, match.protocol(), msg.timestampNanos());
        }
        conn.serverKey = serverKey;
        if (withPrefix) {
            // the prefix is the start of the message: parse it as carried bytes in front of these
            int dir = msg.direction() == conn.requestDirection ? 0 : 1;
            conn.carryBuffer(dir).putBytes(0, conn.prefix, 0, conn.prefixLength);
            conn.carryLength[dir] = conn.prefixLength;
            conn.carrySeq[dir] = conn.prefixSeq;
            conn.carryNanos[dir] = conn.prefixNanos;
        }
        conn.prefixLength = 0;
        return true;
    }

    /** Tries the hinted parser first, then the others; the match is left in {@link #inferred}. */
    private ProtocolParser.Inference infer(DirectBuffer buf, int off, int len, ProtocolParser hintParser,
            boolean udp) {
        ProtocolParser.Inference found = ProtocolParser.Inference.NO;
        ProtocolParser match = null;
        if (hintParser != null) {
            found = hintParser.infer(buf, off, len, true, udp);
            match = hintParser;
        }
        for (int i = 0; i < parsers.length && found == ProtocolParser.Inference.NO; i++) {
            if (parsers[i] != hintParser) {
                found = parsers[i].infer(buf, off, len, false, udp);
                match = parsers[i];
            }
        }
        inferred = match;
        return found;
    }

    /** Keeps a whole, short, uninferrable TCP message to infer again in front of the next bytes. */
    private void keepPrefix(Connection conn, CapturedMessage msg, boolean udp) {
        int len = msg.capturedLength();
        if (udp || len > MAX_PREFIX_BYTES || len > config.maxCarryBytes() || len == 0 || msg.trueLength() != len) {
            conn.prefixLength = 0;
            return;
        }
        msg.buffer().getBytes(msg.offset(), conn.prefix, 0, len);
        conn.prefixLength = len;
        conn.prefixDirection = msg.direction();
        conn.prefixSeq = msg.tcpSeq();
        conn.prefixNanos = msg.timestampNanos();
    }

    /** The cached protocol of a server endpoint, if this engine parses it; null otherwise. */
    private L7Protocol cachedProtocol(long key, long nowNanos) {
        L7Protocol cached = endpointCache.get(key, nowNanos);
        return cached != null && byProtocol[cached.ordinal()] != null ? cached : null;
    }

    private void bindCached(Connection conn, L7Protocol protocol, boolean localIsClient, long serverKey) {
        conn.assign(byProtocol[protocol.ordinal()]);
        conn.requestDirection = localIsClient ? Direction.EGRESS : Direction.INGRESS;
        conn.serverKey = serverKey;
    }

    /**
     * A connection whose role the capture does not know (e.g. opened before the tracer started)
     * still meets servers seen before: whichever of its two endpoints is a cached server endpoint
     * gives the protocol and the role. Should both be (a port reused by a listener, or a key
     * collision), the one whose port hints at its cached protocol wins, else the lower port
     * (listeners sit below the ephemeral range).
     */
    private boolean fromCacheWithoutRole(Connection conn, CapturedMessage msg) {
        long now = msg.timestampNanos();
        long remote = remoteKey(msg);
        long local = localKey(msg);
        L7Protocol remoteProtocol = remote == 0 ? null : cachedProtocol(remote, now);
        L7Protocol localProtocol = local == 0 ? null : cachedProtocol(local, now);
        if (remoteProtocol == null && localProtocol == null) {
            return false;
        }
        boolean remoteIsServer;
        if (localProtocol == null) {
            remoteIsServer = true;
        } else if (remoteProtocol == null) {
            remoteIsServer = false;
        } else {
            boolean remoteHinted = config.portHint(msg.remotePort()) == remoteProtocol;
            boolean localHinted = config.portHint(msg.localPort()) == localProtocol;
            remoteIsServer = remoteHinted != localHinted ? remoteHinted : msg.remotePort() <= msg.localPort();
        }
        if (remoteIsServer) {
            bindCached(conn, remoteProtocol, true, remote);
        } else {
            bindCached(conn, localProtocol, false, local);
        }
        return true;
    }

    private static long localKey(CapturedMessage msg) {
        return EndpointProtocolCache.key(msg.localAddress(), msg.ipVersion(), msg.localPort(), msg.l4Protocol());
    }

    private static long remoteKey(CapturedMessage msg) {
        return EndpointProtocolCache.key(msg.remoteAddress(), msg.ipVersion(), msg.remotePort(), msg.l4Protocol());
    }

    private static boolean consistentWithRole(ProtocolParser.Inference found, Role role, Direction dir) {
        if (role == Role.UNKNOWN) {
            return true;
        }
        boolean requestDir = (role == Role.CLIENT) == (dir == Direction.EGRESS);
        return (found == ProtocolParser.Inference.REQUEST) == requestDir;
    }

    private L7Protocol portHint(CapturedMessage msg, Role role) {
        L7Protocol p = null;
        if (role != Role.SERVER) {
            p = config.portHint(msg.remotePort());
        }
        if (p == null && role != Role.CLIENT) {
            p = config.portHint(msg.localPort());
        }
        return p;
    }

    // ---- parsing with carry-over of incomplete messages ----

    private void parse(Connection conn, CapturedMessage msg, boolean request, RequestLogSink sink) {
        int dir = request ? 0 : 1;
        ProtocolParser parser = conn.parser;
        DirectBuffer buf = msg.buffer();
        int off = msg.offset();
        int len = msg.capturedLength();
        int pos = 0;
        if (conn.carryLength[dir] > 0) {
            pos = completeCarry(conn, msg, request, sink);
            if (pos < 0) {
                // the whole message went into the carry (kept, or used up there)
                afterParse(conn, msg, request);
                return;
            }
        }
        conn.beginParse(msg, sink, off, msg.tcpSeq(), msg.timestampNanos());
        int rest = parseOnce(conn, parser, request, buf, off + pos, len - pos);
        if (rest == 0 || conn.udp()) {
            conn.carryLength[dir] = 0;
        } else if (rest > config.maxCarryBytes() || msg.trueLength() > msg.capturedLength()) {
            // an incomplete message that is too big, or followed by bytes we never saw
            counters.carryOverflow(conn.protocol);
            conn.carryLength[dir] = 0;
            parser.reset(conn.state(), request);
        } else {
            UnsafeBuffer cb = conn.carryBuffer(dir);
            cb.putBytes(0, buf, off + len - rest, rest);
            conn.carryLength[dir] = rest;
            long seq = msg.tcpSeq();
            conn.carrySeq[dir] = seq < 0 ? -1 : (seq + len - rest) & 0xFFFF_FFFFL;
            conn.carryNanos[dir] = msg.timestampNanos();
        }
        afterParse(conn, msg, request);
    }

    /**
     * Completes the carried head of a message from the start of the new bytes, whatever their
     * size: the carry is topped up with as many of the new bytes as it has room for and parsed;
     * parsing then goes on in the new bytes themselves from where the carry's parse ended.
     *
     * @return how many of the new bytes are used up (parsing goes on from there), or -1 when all
     *         of them went into the carry (parsed there, or kept as the still incomplete head)
     */
    private int completeCarry(Connection conn, CapturedMessage msg, boolean request, RequestLogSink sink) {
        int dir = request ? 0 : 1;
        int max = config.maxCarryBytes();
        UnsafeBuffer cb = conn.carryBuffer(dir);
        DirectBuffer buf = msg.buffer();
        int off = msg.offset();
        int len = msg.capturedLength();
        int pos = 0;
        // each round either uses carried bytes or ends: at most max rounds, in practice one or two
        while (true) {
            int carried = conn.carryLength[dir];
            int take = Math.min(max - carried, len - pos);
            cb.putBytes(carried, buf, off + pos, take);
            int total = carried + take;
            long carrySeq = conn.carrySeq[dir];
            conn.beginParse(msg, sink, 0, carrySeq, conn.carryNanos[dir]);
            int rest = parseOnce(conn, conn.parser, request, cb, 0, total);
            int used = total - rest;
            if (pos + take == len) {
                // every new byte is in the carry: what is left of it stays carried
                if (rest == 0 || conn.udp()) {
                    conn.carryLength[dir] = 0;
                } else if (msg.trueLength() > msg.capturedLength()) {
                    counters.carryOverflow(conn.protocol);
                    conn.carryLength[dir] = 0;
                    conn.parser.reset(conn.state(), request);
                } else {
                    shiftCarry(conn, dir, used, total);
                    if (used >= carried) {
                        conn.carryNanos[dir] = msg.timestampNanos();
                    }
                }
                return -1;
            }
            if (used >= carried) {
                // the carried head is done; go on in the new bytes, past what the carry used of them
                conn.carryLength[dir] = 0;
                return pos + used - carried;
            }
            if (used == 0) {
                // a head longer than the carry: lost (counted); resynchronise on the new bytes
                counters.carryOverflow(conn.protocol);
                conn.carryLength[dir] = 0;
                conn.parser.reset(conn.state(), request);
                return pos;
            }
            // whole messages were parsed from the carry and the next one starts in it: again
            shiftCarry(conn, dir, used, carried);
        }
    }

    /** Keeps the carry's bytes [from, to) as the new carry, moved to its start. */
    private static void shiftCarry(Connection conn, int dir, int from, int to) {
        int n = to - from;
        if (from > 0 && n > 0) {
            byte[] bytes = conn.carry[dir];
            System.arraycopy(bytes, from, bytes, 0, n);
        }
        conn.carryLength[dir] = n;
        long seq = conn.carrySeq[dir];
        conn.carrySeq[dir] = seq < 0 ? -1 : (seq + from) & 0xFFFF_FFFFL;
    }

    /** Runs the parser once; returns the bytes it left (an incomplete head). Never throws. */
    private int parseOnce(Connection conn, ProtocolParser parser, boolean request, DirectBuffer buf, int off,
            int len) {
        int used;
        try {
            used = parser.parse(conn, request, buf, off, len);
        } catch (RuntimeException e) {
            // a parser bug must not take the agent down: count it and resynchronise
            counters.parserException(conn.protocol);
            parser.reset(conn.state(), request);
            used = len;
        }
        return len - Math.max(0, Math.min(used, len));
    }

    private void afterParse(Connection conn, CapturedMessage msg, boolean request) {
        if (msg.trueLength() > msg.capturedLength()) {
            counters.truncated(conn.protocol);
            conn.parser.skip(conn, request, msg.trueLength() - msg.capturedLength());
        }
    }

    // ---- record pool, shared by all connections of this engine ----

    /**
     * A record for a request being opened; the caller fills the connection fields, protocol,
     * start time and request trace id right away ({@link RequestLog#clearForRequest()}).
     */
    RequestLog acquire() {
        if (freeLogCount > 0) {
            RequestLog log = freeLogs[--freeLogCount];
            freeLogs[freeLogCount] = null;
            return log.clearForRequest();
        }
        if (logsCreated < freeLogs.length) {
            logsCreated++;
            return new RequestLog();
        }
        return null;
    }

    void release(RequestLog log) {
        freeLogs[freeLogCount++] = log;
    }

    RequestLog scratch() {
        return scratch;
    }

    EndpointRule endpointRule() {
        return endpointRule;
    }

    void emit(RequestLog log, RequestLogSink sink) {
        counters.requestLog(log.protocol());
        try {
            sink.onRequestLog(log);
        } finally {
            release(log);
        }
    }
}
