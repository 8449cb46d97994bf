package io.periscope.protocols.testing;

import io.periscope.protocols.CapturedMessage;
import io.periscope.protocols.Direction;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Feeds byte strings to a {@link ProtocolEngine} as one connection and keeps copies of what it emits. */
public final class EngineHarness {
    private final ProtocolEngine engine;
    private final CapturedMessage msg = new CapturedMessage();
    private final List<RequestLog> logs = new ArrayList<>();
    private long socketId = 1;
    private Role role = Role.CLIENT;
    private int serverPort;
    private int localPort = 40000;
    private int l4 = 6;
    private long nowNanos = 1_000;

    public EngineHarness(ProtocolConfig config) {
        engine = new ProtocolEngine(config);
    }

    public EngineHarness() {
        this(ProtocolConfig.defaults());
    }

    public ProtocolEngine engine() {
        return engine;
    }

    public EngineHarness socket(long id) {
        socketId = id;
        return this;
    }

    public EngineHarness role(Role r) {
        role = r;
        return this;
    }

    public EngineHarness serverPort(int port) {
        serverPort = port;
        return this;
    }

    /** The observed socket's own port (40000 unless set); {@link #serverPort} is the peer's. */
    public EngineHarness localPort(int port) {
        localPort = port;
        return this;
    }

    public EngineHarness udp() {
        l4 = 17;
        return this;
    }

    public long now() {
        return nowNanos;
    }

    public EngineHarness advance(long nanos) {
        nowNanos += nanos;
        return this;
    }

    /** The observed client sends {@code text} (a request). */
    public EngineHarness request(String text) {
        return send(Direction.EGRESS, text.getBytes(StandardCharsets.ISO_8859_1), -1);
    }

    /** The observed client receives {@code text} (a response). */
    public EngineHarness response(String text) {
        return send(Direction.INGRESS, text.getBytes(StandardCharsets.ISO_8859_1), -1);
    }

    /** Sends bytes in the direction relative to a client-side observer. */
    public EngineHarness send(Direction dir, byte[] bytes, long trueLength) {
        return send(dir, bytes, 0, bytes.length, trueLength);
    }

    public EngineHarness send(Direction dir, byte[] bytes, int off, int len, long trueLength) {
        msg.clear();
        msg.socketId(socketId).direction(dir).role(role).timestampNanos(nowNanos).l4Protocol(l4);
        msg.ipVersion(4).localPort(localPort).remotePort(serverPort);
        msg.localAddress()[0] = 127;
        msg.remoteAddress()[0] = 127;
        msg.localAddress()[3] = 1;
        msg.remoteAddress()[3] = 1;
        msg.payload(new UnsafeBuffer(bytes), off, len, trueLength < 0 ? len : trueLength);
        engine.onMessage(msg, log -> logs.add(new RequestLog().copyFrom(log)));
        nowNanos += 1_000;
        return this;
    }

    public EngineHarness tick() {
        engine.onTimerTick(nowNanos, log -> logs.add(new RequestLog().copyFrom(log)));
        return this;
    }

    public EngineHarness close() {
        engine.onConnectionClosed(socketId, nowNanos, log -> logs.add(new RequestLog().copyFrom(log)));
        return this;
    }

    public List<RequestLog> logs() {
        return logs;
    }

    public RequestLog only() {
        if (logs.size() != 1) {
            throw new AssertionError("expected one request log, got " + logs);
        }
        return logs.get(0);
    }
}
