package io.periscope.protocols.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.periscope.protocols.CapturedMessage;
import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile bytes for every parser. Each run first speaks a valid exchange so the connection is
 * bound to the protocol, then feeds malformed, truncated, oversized and random messages in both
 * directions. Nothing may escape (the engine counts a parser exception; it must stay 0), nothing
 * may loop, and state stays within its bounds.
 *
 * <p>{@link #fuzz} is a Jazzer harness (regression mode under {@code mvn test}; run it with
 * {@code JAZZER_FUZZ=1} to fuzz for real); {@link #shouldSurviveMutatedTraffic} is a bounded,
 * seeded mutation run that always executes.
 */
class ParserFuzzTest {
    private static final int ITERATIONS = 3000;
    private static final int MAX_PENDING = 64;

    /** A valid request and response per protocol, and the server port that hints at it. */
    enum Seed {
        HTTP1(80, "GET /a/1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        REDIS(6379, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "*2\r\n$1\r\na\r\n%1\r\n+x\r\n:1\r\n"),
        POSTGRESQL(5432, "Q\0\0\0\rSELECT 1\0", "C\0\0\0\rSELECT 1\0Z\0\0\0\5I"),
        MYSQL(3306, "\u0009\0\0\0\u0003SELECT 1", "\u0007\0\0\u0001\0\0\0\u0002\0\0\0"),
        DNS(53, "\0\u001d\u0012\u0034\u0001\0\0\u0001\0\0\0\0\0\0\u0001a\u0007example\0\0\u0001\0\u0001",
                "\0\u001d\u0012\u0034\u0081\u0083\0\u0001\0\0\0\0\0\0\u0001a\u0007example\0\0\u0001\0\u0001"),
        HTTP2(50051, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\u0005\u0001\u0005\0\0\0\u0001\u0083\u0086\u0084\u0041\u0000",
                "\0\0\u0001\u0001\u0005\0\0\0\u0001\u0088");

        final int port;
        final byte[] request;
        final byte[] response;

        Seed(int port, String request, String response) {
            this.port = port;
            this.request = request.getBytes(StandardCharsets.ISO_8859_1);
            this.response = response.getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    private final ProtocolEngine engine = new ProtocolEngine(ProtocolConfig.builder()
            .maxPendingTotal(MAX_PENDING).maxPendingPerConnection(16).maxCarryBytes(512).build());
    private final CapturedMessage msg = new CapturedMessage();
    private long now = 1;
    private long emitted;

    private void send(Seed seed, Direction dir, byte[] bytes, int len, long trueLength) {
        msg.clear().socketId(seed.ordinal() + 1).direction(dir).role(Role.CLIENT).ipVersion(4).localPort(40000)
                .remotePort(seed.port).timestampNanos(now++);
        msg.payload(new UnsafeBuffer(bytes), 0, len, trueLength);
        engine.onMessage(msg, this::consume);
    }

    private void consume(RequestLog log) {
        emitted++;
        assertThat(log.statusClass()).isNotNull();
    }

    private void assertSane() {
        for (L7Protocol p : L7Protocol.values()) {
            assertThat(engine.counters().parserExceptions(p)).as("parser exceptions of %s", p).isZero();
        }
        assertThat(engine.pendingCount()).isBetween(0, MAX_PENDING);
        assertThat(engine.connectionCount()).isLessThanOrEqualTo(Seed.values().length);
    }

    @ParameterizedTest
    @EnumSource(Seed.class)
    void shouldSurviveMutatedTraffic(Seed seed) {
        Random random = new Random(seed.ordinal() * 7919L + 1);
        send(seed, Direction.EGRESS, seed.request, seed.request.length, seed.request.length);
        send(seed, Direction.INGRESS, seed.response, seed.response.length, seed.response.length);
        assertThat(engine.counters().inferred(seed == Seed.HTTP2 ? L7Protocol.HTTP2 : L7Protocol.valueOf(seed.name())))
                .isEqualTo(1);
        for (int i = 0; i < ITERATIONS; i++) {
            boolean request = random.nextBoolean();
            byte[] base = request ? seed.request : seed.response;
            byte[] bytes = mutate(random, base);
            long trueLength = random.nextInt(10) == 0 ? bytes.length + random.nextInt(100_000) : bytes.length;
            send(seed, request ? Direction.EGRESS : Direction.INGRESS, bytes, bytes.length, trueLength);
            if (i % 500 == 0) {
                engine.onTimerTick(now + 60_000_000_000L, this::consume);
            }
        }
        engine.onConnectionClosed(seed.ordinal() + 1, now, this::consume);
        assertSane();
        assertThat(engine.pendingCount()).isZero();
    }

    private static byte[] mutate(Random random, byte[] base) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (random.nextInt(6)) {
            case 0 -> {
                byte[] b = new byte[random.nextInt(64)];
                random.nextBytes(b);
                out.writeBytes(b);
            }
            case 1 -> out.write(base, 0, random.nextInt(base.length + 1));
            case 2 -> {
                out.writeBytes(base);
                out.writeBytes(base);
                out.writeBytes(base);
            }
            default -> {
                byte[] b = base.clone();
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    int at = random.nextInt(b.length);
                    b[at] = random.nextInt(3) == 0 ? (byte) random.nextInt(256)
                            : (byte) (b[at] ^ (1 << random.nextInt(8)));
                }
                out.writeBytes(b);
            }
        }
        return out.toByteArray();
    }

    @FuzzTest(maxDuration = "10s")
    void fuzz(FuzzedDataProvider data) {
        Seed seed = Seed.values()[data.consumeInt(0, Seed.values().length - 1)];
        send(seed, Direction.EGRESS, seed.request, seed.request.length, seed.request.length);
        while (data.remainingBytes() > 0) {
            boolean request = data.consumeBoolean();
            byte[] bytes = data.consumeBytes(data.consumeInt(0, 2048));
            send(seed, request ? Direction.EGRESS : Direction.INGRESS, bytes, bytes.length,
                    bytes.length + data.consumeInt(0, 1 << 20));
        }
        engine.onTimerTick(now + 60_000_000_000L, this::consume);
        assertSane();
    }
}
