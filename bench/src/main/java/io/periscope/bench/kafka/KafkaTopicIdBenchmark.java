package io.periscope.bench.kafka;

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

import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * Kafka exchanges that go through the process-wide topic id table, as kafka-clients 3.9.2 sent
 * them to a 3.9.2 broker: a Fetch v17 named by topic id (lookup) and a Metadata v12 answer
 * (learning an id the table already holds). One request + its response per operation, on a
 * bound connection; meant to show 0 B/op with {@code -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class KafkaTopicIdBenchmark {
    private static final String METADATA_V12 = "000000390003000c0000000500127065726973636f70652d636f6e73756d6572"
            + "000200000000000000000000000000000000076f726465727300010000";
    private static final String METADATA_V12_RESPONSE = "0000007500000005000000000002000000010a3132372e302e302e31"
            + "0000486c00001774616b6d5942455454376951495978636152692d564100000001020000076f7264657273b7260d4a2a"
            + "c243a5997cd632783cf3f600020000000000000000000100000000020000000102000000010100800000000000";
    private static final String FETCH_V17 = "00000069000100110000000d00127065726973636f70652d636f6e73756d6572"
            + "00000001f4000000010320000000000000000000000002b7260d4a2ac243a5997cd632783cf3f602000000000000000000"
            + "00000000000000ffffffffffffffffffffffff001000000000010100";
    private static final String FETCH_V17_RESPONSE = "000001750000000d000000000000000e7a4dd902b7260d4a2ac243a599"
            + "7cd632783cf3f60200000000000000000000000000030000000000000003000000000000000000ffffffffad02"
            + "0000000000000000000000410000000002bd383580000000000000000001a202fc86c5000001a202fc86c5ffffffffffffff"
            + "ffffffffffffff000000011e000000046b310e6f726465722031000000000000000001000000860000000002b1f43c3500"
            + "0000000000000001a202fc8705000001a202fc8705ffffffffffffffffffffffffffff00000001a601000000046b320e6f"
            + "72646572203202167472616365706172656e746e30302d34626639326633353737623334646136613363653932396430"
            + "653065343733362d303066303637616130626139303262372d30310000000000000002000000410000000002fdd40dd500"
            + "0000000000000001a202fc8717000001a202fc8717ffffffffffffffffffffffffffff000000011e000000046b340e6f72"
            + "646572203300000000";

    @Param({"FETCH_BY_ID", "METADATA"})
    public String exchange;

    private ProtocolEngine engine;
    private final CapturedMessage request = new CapturedMessage();
    private final CapturedMessage response = new CapturedMessage();
    private Blackhole blackhole;
    private final RequestLogSink sink = this::consume;
    private long now;
    private int lastResourceLength;

    @Setup(Level.Trial)
    public void setUp(Blackhole bh) {
        blackhole = bh;
        engine = new ProtocolEngine(ProtocolConfig.defaults());
        fill(request, Direction.EGRESS, METADATA_V12);
        fill(response, Direction.INGRESS, METADATA_V12_RESPONSE);
        pair();
        if (exchange.equals("FETCH_BY_ID")) {
            fill(request, Direction.EGRESS, FETCH_V17);
            fill(response, Direction.INGRESS, FETCH_V17_RESPONSE);
            pair();
            if (lastResourceLength != "orders".length()) {
                throw new IllegalStateException("the Fetch was not named by its topic id");
            }
        }
        if (engine.counters().parseErrors(L7Protocol.KAFKA) != 0) {
            throw new IllegalStateException("the sample exchange did not parse");
        }
    }

    private static void fill(CapturedMessage m, Direction dir, String hex) {
        byte[] bytes = HexFormat.of().parseHex(hex);
        m.clear().socketId(7).direction(dir).role(Role.CLIENT).ipVersion(4).localPort(40000).remotePort(18599);
        m.payload(new UnsafeBuffer(bytes), 0, bytes.length, bytes.length);
    }

    private void consume(RequestLog log) {
        lastResourceLength = log.resource().length();
        blackhole.consume(log.statusClass());
    }

    /** One request and its response. */
    @Benchmark
    public void pair() {
        now += 1_000;
        request.timestampNanos(now);
        engine.onMessage(request, sink);
        now += 1_000;
        response.timestampNanos(now);
        engine.onMessage(response, sink);
    }
}
