package io.periscope.bench.protocols;

import io.periscope.protocols.CapturedMessage;
import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.RequestLogSink;
import io.periscope.protocols.Role;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Cost of one request + its response through {@link ProtocolEngine}: inference is done once in
 * setup, so this is the steady state of a keep-alive connection (parse, pair, emit).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class ProtocolEngineBenchmark {
    /** A browser-like request with a trace header, and a typical small JSON response. */
    static final byte[] HTTP_REQUEST = ("GET /api/v1/users/12345/orders?limit=10 HTTP/1.1\r\n"
            + "Host: shop.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) curl/8.1\r\n"
            + "Accept: application/json\r\n"
            + "Accept-Encoding: gzip, deflate\r\n"
            + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
            + "X-Request-ID: 9f2b7c1e-42\r\n"
            + "Connection: keep-alive\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    static final byte[] HTTP_RESPONSE = ("HTTP/1.1 200 OK\r\n"
            + "Server: nginx/1.22.1\r\n"
            + "Date: Sun, 22 Nov 2026 08:00:00 GMT\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: 27\r\n"
            + "Connection: keep-alive\r\n\r\n"
            + "{\"orders\":[],\"total\":0000}").getBytes(StandardCharsets.US_ASCII);
    static final byte[] REDIS_REQUEST =
            "*2\r\n$3\r\nGET\r\n$13\r\nuser:1234:cfg\r\n".getBytes(StandardCharsets.US_ASCII);
    static final byte[] REDIS_REPLY = "$16\r\n{\"theme\":\"dark\"}\r\n".getBytes(StandardCharsets.US_ASCII);

    @Param({"HTTP1_FULL", "HTTP1_SHALLOW", "REDIS"})
    public String scenario;

    private ProtocolEngine engine;
    private final CapturedMessage request = new CapturedMessage();
    private final CapturedMessage response = new CapturedMessage();
    private Blackhole blackhole;
    private final RequestLogSink sink = this::consume;
    private long now;

    @Setup(Level.Trial)
    public void setUp(Blackhole bh) {
        blackhole = bh;
        boolean shallow = scenario.equals("HTTP1_SHALLOW");
        engine = new ProtocolEngine(ProtocolConfig.builder().shallow(L7Protocol.HTTP1, shallow).build());
        byte[] req = scenario.equals("REDIS") ? REDIS_REQUEST : HTTP_REQUEST;
        byte[] resp = scenario.equals("REDIS") ? REDIS_REPLY : HTTP_RESPONSE;
        fill(request, Direction.EGRESS, req);
        fill(response, Direction.INGRESS, resp);
        pair();
    }

    private static void fill(CapturedMessage m, Direction dir, byte[] bytes) {
        m.clear().socketId(7).direction(dir).role(Role.CLIENT).ipVersion(4).localPort(40000).remotePort(8080);
        UnsafeBuffer buf = new UnsafeBuffer(new byte[bytes.length]);
        buf.putBytes(0, bytes);
        m.payload(buf, 0, bytes.length, bytes.length);
    }

    private void consume(RequestLog log) {
        blackhole.consume(log.statusCode());
    }

    /** One request and its response: the unit the targets are stated in. */
    @Benchmark
    public void pair() {
        now += 1000;
        request.timestampNanos(now);
        engine.onMessage(request, sink);
        response.timestampNanos(now + 500);
        engine.onMessage(response, sink);
    }
}
