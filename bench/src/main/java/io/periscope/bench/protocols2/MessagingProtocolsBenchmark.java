package io.periscope.bench.protocols2;

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
import java.util.concurrent.TimeUnit;

/**
 * Cost of one request + its response through {@link ProtocolEngine} for Kafka, MQTT, Memcached,
 * MongoDB, AMQP 0-9-1, NATS, Dubbo and TLS: the connection is bound in setup, so this is the
 * steady state of a long-lived connection (frame, parse, pair, emit).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class MessagingProtocolsBenchmark {
    @Param({"KAFKA", "MQTT", "MEMCACHED", "MONGODB", "AMQP", "NATS", "DUBBO", "TLS"})
    public String protocol;

    private ProtocolEngine engine;
    private final CapturedMessage request = new CapturedMessage();
    private final CapturedMessage response = new CapturedMessage();
    private Blackhole blackhole;
    private final RequestLogSink sink = this::consume;
    private long now;

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    /** Kafka Produce v9 (flexible) of one 100-byte record batch to "orders". */
    static byte[] kafkaProduce() {
        ByteBuffer b = ByteBuffer.allocate(4 + 2 + 2 + 4 + 2 + 10 + 1 + 1 + 2 + 4 + 1 + 7 + 1 + 4 + 100);
        b.putInt(b.capacity() - 4).putShort((short) 0).putShort((short) 9).putInt(42).putShort((short) 10)
                .put(ascii("producer-1")).put((byte) 0).put((byte) 0).putShort((short) -1).putInt(30_000)
                .put((byte) 2).put((byte) 7).put(ascii("orders")).put((byte) 2).putInt(0).put(new byte[100]);
        return b.array();
    }

    static byte[] kafkaProduceResponse() {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 1 + 1 + 7 + 1 + 4 + 2 + 8 + 8 + 8 + 3);
        b.putInt(b.capacity() - 4).putInt(42).put((byte) 0).put((byte) 2).put((byte) 7).put(ascii("orders"))
                .put((byte) 2).putInt(0).putShort((short) 0).putLong(17).putLong(-1).putLong(0).put(new byte[3]);
        return b.array();
    }

    static byte[] mongoMsg(int id, int responseTo, byte[] doc) {
        return ByteBuffer.allocate(21 + doc.length).order(ByteOrder.LITTLE_ENDIAN).putInt(21 + doc.length).putInt(id)
                .putInt(responseTo).putInt(2013).putInt(0).put((byte) 0).put(doc).array();
    }

    static byte[] bson(Object... kv) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            o.write(v instanceof String ? 2 : 1);
            o.writeBytes(ascii(kv[i] + "\0"));
            if (v instanceof String s) {
                o.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(s.length() + 1).array());
                o.writeBytes(ascii(s + "\0"));
            } else {
                o.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble((Double) v).array());
            }
        }
        byte[] body = o.toByteArray();
        return ByteBuffer.allocate(body.length + 5).order(ByteOrder.LITTLE_ENDIAN).putInt(body.length + 5).put(body)
                .put((byte) 0).array();
    }

    static byte[] amqp(int channel, int cls, int method, String... shortstrs) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.writeBytes(new byte[] {(byte) (cls >> 8), (byte) cls, (byte) (method >> 8), (byte) method, 0, 0});
        for (String s : shortstrs) {
            p.write(s.length());
            p.writeBytes(ascii(s));
        }
        byte[] payload = p.toByteArray();
        return ByteBuffer.allocate(8 + payload.length).put((byte) 1).putShort((short) channel).putInt(payload.length)
                .put(payload).put((byte) 0xCE).array();
    }

    static byte[] dubbo(int flag, int status, byte[] body) {
        return ByteBuffer.allocate(16 + body.length).putShort((short) 0xdabb).put((byte) flag).put((byte) status)
                .putLong(77).putInt(body.length).put(body).array();
    }

    static byte[] clientHello() throws Exception {
        SSLEngine client = SSLContext.getDefault().createSSLEngine("api.example.com", 443);
        client.setUseClientMode(true);
        SSLParameters p = client.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName("api.example.com")));
        p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
        client.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        client.wrap(ByteBuffer.allocate(0), out);
        return Arrays.copyOf(out.array(), out.position());
    }

    static byte[] serverHello() {
        byte[] ext = {0, 43, 0, 2, 3, 4, 0, 16, 0, 5, 0, 3, 2, 'h', '2'};
        ByteBuffer b = ByteBuffer.allocate(5 + 4 + 2 + 32 + 1 + 2 + 1 + 2 + ext.length);
        b.put((byte) 22).putShort((short) 0x0303).putShort((short) (b.capacity() - 5)).put((byte) 2).put((byte) 0)
                .putShort((short) (b.capacity() - 9)).putShort((short) 0x0303).put(new byte[32]).put((byte) 0)
                .putShort((short) 0x1301).put((byte) 0).putShort((short) ext.length).put(ext);
        return b.array();
    }

    @Setup(Level.Trial)
    public void setUp(Blackhole bh) throws Exception {
        blackhole = bh;
        engine = new ProtocolEngine(ProtocolConfig.defaults());
        byte[] req;
        byte[] resp;
        switch (L7Protocol.valueOf(protocol)) {
            case KAFKA -> {
                req = kafkaProduce();
                resp = kafkaProduceResponse();
            }
            case MQTT -> {
                send(Direction.EGRESS, ascii("\u0010\u0010\0\u0004MQTT\u0004\u0002\0\u003c\0\u0004sens"));
                send(Direction.INGRESS, ascii("\u0020\u0002\0\0"));
                req = ascii("\u0032\u001a\0\u000csensors/temp\0\u0007{\"t\":21.5}");
                resp = ascii("\u0040\u0002\0\u0007");
            }
            case MEMCACHED -> {
                req = ascii("get user:1234\r\n");
                resp = ascii("VALUE user:1234 0 5\r\nalice\r\nEND\r\n");
            }
            case MONGODB -> {
                req = mongoMsg(9, 0, bson("find", "users", "limit", 1.0, "$db", "shop"));
                resp = mongoMsg(10, 9, bson("n", 1.0, "ok", 1.0));
            }
            case AMQP -> {
                send(Direction.EGRESS, ascii("AMQP\0\0\u0009\u0001"));
                req = amqp(1, 50, 10, "jobs");
                resp = amqp(1, 50, 11, "jobs");
            }
            case NATS -> {
                send(Direction.INGRESS, ascii("INFO {\"server_id\":\"x\",\"version\":\"2.10.7\"}\r\n"));
                send(Direction.EGRESS, ascii("CONNECT {\"verbose\":true,\"pedantic\":false}\r\n"));
                send(Direction.INGRESS, ascii("+OK\r\n"));
                req = ascii("PUB orders.created 11\r\nhello world\r\n");
                resp = ascii("+OK\r\n");
            }
            case DUBBO -> {
                req = dubbo(0xC2, 0, ascii("\u00052.0.2\u001ccom.example.api.OrderService\u00051.0.0\u0008findById"
                        + "\u0001J\u00e0\u0048\u0000"));
                resp = dubbo(0x02, 20, new byte[] {(byte) 0x91, 'N'});
            }
            case TLS -> {
                req = clientHello();
                resp = serverHello();
            }
            default -> throw new IllegalArgumentException(protocol);
        }
        fill(request, Direction.EGRESS, req);
        fill(response, Direction.INGRESS, resp);
        pair();
        if (engine.counters().requestLogs(L7Protocol.valueOf(protocol)) == 0) {
            throw new IllegalStateException(protocol + ": the sample exchange made no request log");
        }
    }

    private void send(Direction dir, byte[] bytes) {
        CapturedMessage m = new CapturedMessage();
        fill(m, dir, bytes);
        engine.onMessage(m, sink);
    }

    private static void fill(CapturedMessage m, Direction dir, byte[] bytes) {
        m.clear().socketId(7).direction(dir).role(Role.CLIENT).ipVersion(4).localPort(40000).remotePort(18599);
        UnsafeBuffer buf = new UnsafeBuffer(new byte[bytes.length]);
        buf.putBytes(0, bytes);
        m.payload(buf, 0, bytes.length, bytes.length);
    }

    private void consume(RequestLog log) {
        blackhole.consume(log.statusClass());
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
