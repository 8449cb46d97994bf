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
            + "{\"orders\":[],\"total\":00000}").getBytes(StandardCharsets.US_ASCII);
    /**
     * The same start lines with only what framing needs: what an HTTP/1 pair costs without its
     * other header bytes (the scenarios HTTP1_FULL_BARE and HTTP1_SHALLOW_BARE; HTTP1_SHALLOW_BARE_REQUEST
     * has the bare request and the whole response), measured by {@link PairCpuTime}, not in the JMH list.
     */
    static final byte[] HTTP_REQUEST_BARE = "GET /api/v1/users/12345/orders?limit=10 HTTP/1.1\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    static final byte[] HTTP_RESPONSE_BARE = ("HTTP/1.1 200 OK\r\n"
            + "Content-Length: 27\r\n\r\n"
            + "{\"orders\":[],\"total\":00000}").getBytes(StandardCharsets.US_ASCII);
    static final byte[] REDIS_REQUEST =
            "*2\r\n$3\r\nGET\r\n$13\r\nuser:1234:cfg\r\n".getBytes(StandardCharsets.US_ASCII);
    static final byte[] REDIS_REPLY = "$16\r\n{\"theme\":\"dark\"}\r\n".getBytes(StandardCharsets.US_ASCII);

    static final byte[] DNS_QUERY = hex("12340100000100000000000003777777076578616d706c6503636f6d0000010001");
    static final byte[] DNS_ANSWER = hex("12348180000100010000000003777777076578616d706c6503636f6d0000010001"
            + "c00c000100010000003c00045db8d822");
    static final byte[] PG_QUERY = pg('Q',
            "SELECT name FROM users WHERE id = 42\0".getBytes(StandardCharsets.US_ASCII));
    static final byte[] PG_RESULT = cat(
            pg('T', hex("00016e616d650000004000000200000019ffffffffffff0000")),
            pg('D', hex("00010000000a616c6963652d73696d73")),
            pg('C', "SELECT 1\0".getBytes(StandardCharsets.US_ASCII)),
            pg('Z', new byte[] {'I'}));
    static final byte[] MYSQL_QUERY = cat(new byte[] {37, 0, 0, 0, 3},
            "SELECT name FROM users WHERE id = 42".getBytes(StandardCharsets.US_ASCII));
    static final byte[] MYSQL_OK = hex("0700000100000002000000");
    /** HEADERS (END_STREAM|END_HEADERS), stream 1: POST, http, :path and :authority literals. */
    static final byte[] H2_REQUEST = h2Headers(cat(hex("83864417"),
            "/helloworld.Greeter/Say".getBytes(StandardCharsets.US_ASCII), hex("4109"),
            "localhost".getBytes(StandardCharsets.US_ASCII)));
    /** HEADERS (END_STREAM|END_HEADERS), stream 1: :status 200. */
    static final byte[] H2_RESPONSE = h2Headers(hex("88"));

    @Param({"HTTP1_FULL", "HTTP1_SHALLOW", "REDIS", "DNS_UDP", "POSTGRESQL", "MYSQL", "HTTP2"})
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
        boolean shallow = scenario.startsWith("HTTP1_SHALLOW");
        engine = new ProtocolEngine(ProtocolConfig.builder().shallow(L7Protocol.HTTP1, shallow).build());
        byte[] req;
        byte[] resp;
        int port = 8080;
        switch (scenario) {
            case "REDIS" -> {
                req = REDIS_REQUEST;
                resp = REDIS_REPLY;
            }
            case "DNS_UDP" -> {
                req = DNS_QUERY;
                resp = DNS_ANSWER;
                port = 53;
            }
            case "POSTGRESQL" -> {
                req = PG_QUERY;
                resp = PG_RESULT;
                port = 5432;
            }
            case "MYSQL" -> {
                req = MYSQL_QUERY;
                resp = MYSQL_OK;
                port = 3306;
            }
            case "HTTP2" -> {
                req = H2_REQUEST;
                resp = H2_RESPONSE;
                port = 50051;
            }
            case "HTTP1_FULL_BARE", "HTTP1_SHALLOW_BARE" -> {
                req = HTTP_REQUEST_BARE;
                resp = HTTP_RESPONSE_BARE;
            }
            case "HTTP1_SHALLOW_BARE_REQUEST" -> {
                req = HTTP_REQUEST_BARE;
                resp = HTTP_RESPONSE;
            }
            default -> {
                req = HTTP_REQUEST;
                resp = HTTP_RESPONSE;
            }
        }
        fill(request, Direction.EGRESS, req, port);
        fill(response, Direction.INGRESS, resp, port);
        if (scenario.equals("DNS_UDP")) {
            request.l4Protocol(17);
            response.l4Protocol(17);
        }
        pair();
        if (engine.counters().requestLogs(L7Protocol.valueOf(scenario.equals("DNS_UDP") ? "DNS"
                : scenario.startsWith("HTTP1") ? "HTTP1" : scenario)) != 1) {
            throw new IllegalStateException(scenario + ": the sample exchange did not make a request log");
        }
        for (int i = 0; i < 100; i++) {
            pair();
        }
        for (L7Protocol p : L7Protocol.values()) {
            if (engine.counters().parseErrors(p) + engine.counters().orphanResponses(p) != 0) {
                throw new IllegalStateException(scenario + ": the sample exchange does not parse cleanly (" + p + ")");
            }
        }
    }

    private static byte[] pg(char type, byte[] body) {
        int len = body.length + 4;
        return cat(new byte[] {(byte) type, (byte) (len >> 24), (byte) (len >> 16), (byte) (len >> 8), (byte) len},
                body);
    }

    private static byte[] h2Headers(byte[] block) {
        int len = block.length;
        return cat(new byte[] {(byte) (len >> 16), (byte) (len >> 8), (byte) len, 1, 5, 0, 0, 0, 1}, block);
    }

    private static byte[] hex(String h) {
        return java.util.HexFormat.of().parseHex(h);
    }

    private static byte[] cat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static void fill(CapturedMessage m, Direction dir, byte[] bytes, int port) {
        m.clear().socketId(7).direction(dir).role(Role.CLIENT).ipVersion(4).localPort(40000).remotePort(port);
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
