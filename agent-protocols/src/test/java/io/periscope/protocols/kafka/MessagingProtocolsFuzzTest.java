package io.periscope.protocols.kafka;

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

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile bytes for the parsers of Kafka, MQTT, Memcached, MongoDB, AMQP, NATS, Dubbo and TLS:
 * after a valid exchange binds the connection, malformed, cut, repeated, oversized-claim and
 * random messages go both ways. No parser exception may reach the engine (it counts them), no
 * loop may hang (the run is bounded), pending state stays within its bounds and ends at zero.
 * {@link #fuzz} is the Jazzer harness (regression mode under {@code mvn test}).
 */
class MessagingProtocolsFuzzTest {
    private static final int ITERATIONS = 3000;
    private static final int MAX_PENDING = 64;

    /** A valid request stream and response stream per protocol. */
    enum Seed {
        KAFKA(L7Protocol.KAFKA, KafkaParserTest.concat(KafkaParserTest.heartbeatV4(1, "group"),
                KafkaParserTest.produceV9(2, "topic", 40), KafkaParserTest.metadataV12(3),
                KafkaParserTest.fetchV13(4, 0x0f0e_0d0c_0b0a_0908L, 7)),
                KafkaParserTest.concat(KafkaParserTest.heartbeatV4Response(1, 0),
                        KafkaParserTest.produceV9Response(2, 0),
                        KafkaParserTest.metadataTopic(KafkaParserTest.metadataV12ResponseHead(3, 1), 0, "topic",
                                0x0f0e_0d0c_0b0a_0908L, 7).i8(0).frame(),
                        KafkaParserTest.fetchV13Response(4, 0))),
        MQTT(L7Protocol.MQTT, latin1("\u0010\u000e\0\u0004MQTT\u0004\u0002\0\u003c\0\u0002id"
                + "\u0032\u0007\0\u0001t\0\u0005hi"
                + "\u0082\u0006\0\u0007\0\u0001a\u0001\u00c0\0"),
                latin1("\u0020\u0002\0\0\u0040\u0002\0\u0005\u0090\u0003\0\u0007\u0001\u00d0\0")),
        MEMCACHED(L7Protocol.MEMCACHED, latin1("get a b\r\nset b 0 0 1\r\nx\r\nmg c v\r\nincr n 1\r\n"),
                latin1("VALUE a 0 1\r\ny\r\nEND\r\nSTORED\r\nVA 1\r\nz\r\nCLIENT_ERROR bad\r\n")),
        MONGODB(L7Protocol.MONGODB, opMsg(1, 0, "find", "coll"), opMsg(2, 1, "ok", null)),
        AMQP(L7Protocol.AMQP, concat(latin1("AMQP\0\0\u0009\u0001"), amqpMethod(0, 10, 11, "PLAIN"),
                amqpMethod(1, 50, 10, "", "q"), amqpMethod(1, 60, 40, "", "ex", "rk")),
                concat(amqpMethod(0, 10, 10, "", "x"), amqpMethod(1, 50, 11, "q"), amqpMethod(1, 60, 60, "t", "ex"))),
        NATS(L7Protocol.NATS, latin1("CONNECT {\"verbose\":true}\r\nPUB a 2\r\nhi\r\n"
                + "HPUB b 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n"),
                latin1("+OK\r\n+OK\r\n-ERR 'x'\r\nPONG\r\nMSG a 1 2\r\nhi\r\n")),
        DUBBO(L7Protocol.DUBBO, dubbo(0xC2, 0, 5, latin1("\u00052.0.2\u0003svc\u00031.0\u0001m\u0000")),
                dubbo(0x02, 20, 5, new byte[] {(byte) 0x91, 'N'})),
        TLS(L7Protocol.TLS, clientHello(), latin1("\u0016\u0003\u0003\0\u002a\u0002\0\0\u0026\u0003\u0003"
                + "\0".repeat(32) + "\0\u0013\u0001\0\u0015\u0003\u0003\0\u0002\u0002\u0028"));

        final L7Protocol protocol;
        final byte[] request;
        final byte[] response;

        Seed(L7Protocol protocol, byte[] request, byte[] response) {
            this.protocol = protocol;
            this.request = request;
            this.response = response;
        }
    }

    static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] concat(byte[]... parts) {
        return KafkaParserTest.concat(parts);
    }

    static byte[] opMsg(int id, int responseTo, String key, String value) {
        ByteArrayOutputStream doc = new ByteArrayOutputStream();
        if (value != null) {
            doc.write(2);
            doc.writeBytes(latin1(key + "\0"));
            doc.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value.length() + 1).array());
            doc.writeBytes(latin1(value + "\0"));
        } else {
            doc.write(1);
            doc.writeBytes(latin1(key + "\0"));
            doc.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(1).array());
        }
        byte[] d = doc.toByteArray();
        return ByteBuffer.allocate(16 + 5 + 4 + d.length + 1).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(16 + 5 + 4 + d.length + 1).putInt(id).putInt(responseTo).putInt(2013).putInt(0).put((byte) 0)
                .putInt(4 + d.length + 1).put(d).put((byte) 0).array();
    }

    static byte[] amqpMethod(int channel, int cls, int method, String... shortstrs) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(cls >> 8);
        p.write(cls);
        p.write(method >> 8);
        p.write(method);
        p.write(0);
        p.write(0);
        for (String s : shortstrs) {
            p.write(s.length());
            p.writeBytes(latin1(s));
        }
        byte[] payload = p.toByteArray();
        return ByteBuffer.allocate(8 + payload.length).put((byte) 1).putShort((short) channel)
                .putInt(payload.length).put(payload).put((byte) 0xCE).array();
    }

    static byte[] dubbo(int flag, int status, long id, byte[] body) {
        return ByteBuffer.allocate(16 + body.length).putShort((short) 0xdabb).put((byte) flag).put((byte) status)
                .putLong(id).putInt(body.length).put(body).array();
    }

    static byte[] clientHello() {
        try {
            SSLEngine client = SSLContext.getDefault().createSSLEngine("fuzz.example", 443);
            client.setUseClientMode(true);
            SSLParameters p = client.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName("fuzz.example")));
            p.setApplicationProtocols(new String[] {"h2"});
            client.setSSLParameters(p);
            ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
            client.wrap(ByteBuffer.allocate(0), out);
            return Arrays.copyOf(out.array(), out.position());
        } catch (Exception e) {
            throw new IllegalStateException("the JDK could not make a ClientHello", e);
        }
    }

    private final ProtocolEngine engine = new ProtocolEngine(ProtocolConfig.builder()
            .maxPendingTotal(MAX_PENDING).maxPendingPerConnection(16).maxCarryBytes(512).build());
    private final CapturedMessage msg = new CapturedMessage();
    private long now = 1;

    private void send(Seed seed, Direction dir, byte[] bytes, int len, long trueLength) {
        msg.clear().socketId(seed.ordinal() + 100).direction(dir).role(Role.CLIENT).ipVersion(4).localPort(40000)
                .remotePort(18500).timestampNanos(now++);
        msg.payload(new UnsafeBuffer(bytes), 0, len, trueLength);
        engine.onMessage(msg, this::consume);
    }

    private void consume(RequestLog log) {
        assertThat(log.statusClass()).isNotNull();
        assertThat(log.protocol()).isNotEqualTo(L7Protocol.UNKNOWN);
    }

    private void assertSane() {
        for (L7Protocol p : L7Protocol.values()) {
            assertThat(engine.counters().parserExceptions(p)).as("parser exceptions of %s", p).isZero();
        }
        assertThat(engine.pendingCount()).isBetween(0, MAX_PENDING);
    }

    @ParameterizedTest
    @EnumSource(Seed.class)
    void shouldSurviveMutatedTraffic(Seed seed) {
        Random random = new Random(seed.ordinal() * 104_729L + 3);
        send(seed, Direction.EGRESS, seed.request, seed.request.length, seed.request.length);
        send(seed, Direction.INGRESS, seed.response, seed.response.length, seed.response.length);
        assertThat(engine.counters().inferred(seed.protocol)).as("seed binds the connection").isEqualTo(1);
        assertThat(engine.counters().requestLogs(seed.protocol)).as("seed is understood").isPositive();
        for (int i = 0; i < ITERATIONS; i++) {
            boolean request = random.nextBoolean();
            byte[] bytes = mutate(random, request ? seed.request : seed.response);
            long trueLength = random.nextInt(10) == 0 ? bytes.length + random.nextInt(100_000) : bytes.length;
            send(seed, request ? Direction.EGRESS : Direction.INGRESS, bytes, bytes.length, trueLength);
            if (i % 500 == 0) {
                engine.onTimerTick(now + 60_000_000_000L, this::consume);
            }
        }
        engine.onConnectionClosed(seed.ordinal() + 100, now, this::consume);
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
