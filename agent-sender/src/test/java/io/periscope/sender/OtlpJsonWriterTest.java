package io.periscope.sender;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Exemplar;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.periscope.protocols.RequestLog;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The direct writer against the reference path (generated classes + JsonFormat): both outputs
 * parsed back with the JsonFormat parser must equal the message that was encoded.
 */
class OtlpJsonWriterTest {
    private static final int RANDOM_REQUESTS = 300;
    private final OtlpJsonWriter writer = new OtlpJsonWriter();

    /** Writes {@code m}'s bytes directly; returns the line without its newline. */
    private String direct(Signal signal, Message m) throws InvalidProtocolBufferException {
        byte[] b = m.toByteArray();
        // A reused, longer array: the writer must stop at the length it is given.
        byte[] padded = Arrays.copyOf(b, b.length + 17);
        Arrays.fill(padded, b.length, padded.length, (byte) 0xFF);
        int n = writer.write(signal, padded, b.length);
        assertThat(writer.array()[n - 1]).isEqualTo((byte) '\n');
        return new String(writer.array(), 0, n - 1, StandardCharsets.UTF_8);
    }

    private <B extends Message.Builder> Message readBack(String json, B builder) throws InvalidProtocolBufferException {
        OtlpJson.parse(json, builder);
        return builder.build();
    }

    private void assertAgrees(Signal signal, Message m, Message.Builder fresh) throws InvalidProtocolBufferException {
        String line = direct(signal, m);
        assertThat(line).doesNotContain("\n");
        Message reference = readBack(OtlpJson.print(m), fresh.clone());
        assertThat(readBack(line, fresh.clone())).isEqualTo(reference);
        if (!line.contains("-0.0")) {
            // The JsonFormat parser reads -0.0 as 0.0 (through BigDecimal), on either path.
            assertThat(reference).isEqualTo(m);
        }
    }

    @Test
    void shouldAgreeWithJsonFormatOnRandomSpans() throws Exception {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < RANDOM_REQUESTS; i++) {
            assertAgrees(Signal.TRACES, randomTraces(rnd), ExportTraceServiceRequest.newBuilder());
        }
        assertThat(writer.fallbacks()).isZero();
    }

    @Test
    void shouldAgreeWithJsonFormatOnRandomMetricsAndLogs() throws Exception {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < RANDOM_REQUESTS; i++) {
            assertAgrees(Signal.METRICS, randomMetrics(rnd), ExportMetricsServiceRequest.newBuilder());
            assertAgrees(Signal.LOGS, randomLogs(rnd), ExportLogsServiceRequest.newBuilder());
        }
        assertThat(writer.fallbacks()).isZero();
    }

    @Test
    void shouldAgreeOnWhatSpanEncoderProduces() throws Exception {
        ProcessResource nginx = ProcessResource.builder("nginx").pid(4242).hostName("node-1")
                .attribute("k8s.pod.name", "web-\"0\"\u00e9").build();
        RequestLog[] recs = new RequestLog[64];
        ProcessResource[] res = new ProcessResource[recs.length];
        for (int i = 0; i < recs.length; i++) {
            recs[i] = TestRecords.httpServer(i % 3 == 0 ? "POST" : "GET", "/a\\b/\"q\"?x=\u0001\t\u00fc" + i,
                    "/a/{id}", i % 5 == 0 ? 500 : 200);
            if (i % 4 == 0) {
                recs[i].hasTraceContext(true).sampled(i % 8 == 0);
                recs[i].traceId()[3] = (byte) i;
                recs[i].parentSpanId()[7] = (byte) 0xAB;
            }
            res[i] = i % 2 == 0 ? nginx : ProcessResource.builder("api").build();
        }
        recs[1].userAgent().setAscii("");
        List<byte[]> requests = new ArrayList<>();
        new SpanEncoder(1_700_000_000_000_000_000L, 0, 4 << 20, 3)
                .encode(recs, res, recs.length, (b, len, n) -> requests.add(Arrays.copyOf(b, len)));
        for (byte[] b : requests) {
            ExportTraceServiceRequest m = ExportTraceServiceRequest.parseFrom(b);
            int n = writer.write(Signal.TRACES, b, b.length);
            String line = new String(writer.array(), 0, n - 1, StandardCharsets.UTF_8);
            assertThat(readBack(line, ExportTraceServiceRequest.newBuilder())).isEqualTo(m);
            Span withContext = m.getResourceSpans(0).getScopeSpans(0).getSpans(0);
            assertThat(line).contains("\"traceId\":\""
                    + HexFormat.of().formatHex(withContext.getTraceId().toByteArray()) + "\"");
            assertThat(line).contains("\"startTimeUnixNano\":\""
                    + Long.toUnsignedString(withContext.getStartTimeUnixNano()) + "\"");
        }
        assertThat(writer.fallbacks()).isZero();
    }

    @Test
    void shouldWriteTheOtlpJsonForms() throws Exception {
        ExportTraceServiceRequest m = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
                .addScopeSpans(ScopeSpans.newBuilder().addSpans(Span.newBuilder()
                        .setTraceId(ByteString.copyFrom(HexFormat.of().parseHex("00ff00000000000000000000000000a1")))
                        .setSpanId(ByteString.copyFrom(HexFormat.of().parseHex("0102030405060708")))
                        .setKind(Span.SpanKind.SPAN_KIND_CLIENT).setStartTimeUnixNano(-1L).setFlags(0x80000001)
                        .setName("x\u2028\"<y>\u0000").setDroppedAttributesCount(3)
                        .addAttributes(KeyValue.newBuilder().setKey("b").setValue(AnyValue.newBuilder()
                                .setBytesValue(ByteString.copyFrom(new byte[] {1, 2, 3, 4}))))
                        .addAttributes(KeyValue.newBuilder().setKey("i").setValue(AnyValue.newBuilder()
                                .setIntValue(Long.MIN_VALUE)))
                        .addAttributes(KeyValue.newBuilder().setKey("z").setValue(AnyValue.newBuilder()
                                .setIntValue(0)))
                        .setStatus(Status.newBuilder()))))
                .build();

        String line = direct(Signal.TRACES, m);

        assertThat(line).isEqualTo("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
                + "\"traceId\":\"00ff00000000000000000000000000a1\",\"spanId\":\"0102030405060708\","
                + "\"name\":\"x\u2028\\\"<y>\\u0000\",\"kind\":3,\"startTimeUnixNano\":\"18446744073709551615\","
                + "\"attributes\":[{\"key\":\"b\",\"value\":{\"bytesValue\":\"AQIDBA==\"}},"
                + "{\"key\":\"i\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
                + "{\"key\":\"z\",\"value\":{\"intValue\":\"0\"}}],"
                + "\"droppedAttributesCount\":3,\"status\":{},\"flags\":2147483649}]}]}]}");
        assertThat(readBack(line, ExportTraceServiceRequest.newBuilder())).isEqualTo(m);
    }

    @Test
    void shouldFallBackForLegalInputItCannotStream() throws Exception {
        // A span whose name appears twice (the last one wins) and whose attributes are split in two runs.
        ByteArrayOutputStream span = new ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(span);
        c.writeString(5, "first");
        c.writeMessage(9, KeyValue.newBuilder().setKey("a").build());
        c.writeUInt32(6, 2);
        c.writeMessage(9, KeyValue.newBuilder().setKey("b").build());
        c.writeString(5, "second");
        c.flush();
        byte[] request = wrapSpan(span.toByteArray());
        ExportTraceServiceRequest expected = ExportTraceServiceRequest.parseFrom(request);
        assertThat(expected.getResourceSpans(0).getScopeSpans(0).getSpans(0).getName()).isEqualTo("second");

        int n = writer.write(Signal.TRACES, request, request.length);

        assertThat(writer.fallbacks()).isEqualTo(1);
        String line = new String(writer.array(), 0, n - 1, StandardCharsets.UTF_8);
        assertThat(readBack(line, ExportTraceServiceRequest.newBuilder())).isEqualTo(expected);
    }

    @Test
    void shouldSkipUnknownFieldsAsTheParserDoes() throws Exception {
        ByteArrayOutputStream span = new ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(span);
        c.writeString(5, "known");
        c.writeString(40, "unknown");
        c.writeFixed64(41, 7);
        c.writeUInt64(42, 9);
        c.writeFixed32(43, 1);
        c.writeUInt64(6, 0); // kind written explicitly as its default: omitted
        c.flush();
        byte[] request = wrapSpan(span.toByteArray());

        int n = writer.write(Signal.TRACES, request, request.length);

        String line = new String(writer.array(), 0, n - 1, StandardCharsets.UTF_8);
        assertThat(line).isEqualTo("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"known\"}]}]}]}");
        assertThat(writer.fallbacks()).isZero();
    }

    @Test
    void shouldReplaceMalformedUtf8() throws Exception {
        ByteArrayOutputStream span = new ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(span);
        c.writeByteArray(5, new byte[] {'a', (byte) 0xC3, 'b', (byte) 0xFF});
        c.flush();
        byte[] request = wrapSpan(span.toByteArray());

        int n = writer.write(Signal.TRACES, request, request.length);

        String line = new String(writer.array(), 0, n - 1, StandardCharsets.UTF_8);
        assertThat(line).contains("\"name\":\"a\uFFFDb\uFFFD\"");
    }

    @Test
    void shouldRefuseTruncatedOrMalformedInput() throws Exception {
        byte[] good = randomTraces(new SplittableRandom(3)).toByteArray();
        for (int cut = 1; cut < good.length; cut += Math.max(1, good.length / 97)) {
            byte[] truncated = Arrays.copyOf(good, cut);
            boolean parserAccepts;
            try {
                ExportTraceServiceRequest.parseFrom(truncated);
                parserAccepts = true;
            } catch (InvalidProtocolBufferException e) {
                parserAccepts = false;
            }
            if (parserAccepts) {
                // A cut exactly between two top-level fields is still a valid (shorter) request.
                writer.write(Signal.TRACES, truncated, truncated.length);
            } else {
                assertThatThrownBy(() -> writer.write(Signal.TRACES, truncated, truncated.length))
                        .as("cut at %d", cut).isInstanceOf(InvalidProtocolBufferException.class);
            }
        }
        byte[] badVarint = {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
            (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01};
        assertThatThrownBy(() -> writer.write(Signal.TRACES, badVarint, badVarint.length))
                .isInstanceOf(InvalidProtocolBufferException.class);
    }

    private static byte[] wrapSpan(byte[] span) throws IOException {
        ByteArrayOutputStream ss = new ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(ss);
        c.writeByteArray(2, span);
        c.flush();
        ByteArrayOutputStream rs = new ByteArrayOutputStream();
        c = CodedOutputStream.newInstance(rs);
        c.writeByteArray(2, ss.toByteArray());
        c.flush();
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        c = CodedOutputStream.newInstance(req);
        c.writeByteArray(1, rs.toByteArray());
        c.flush();
        return req.toByteArray();
    }

    // ---- random OTLP messages ----

    private static final String[] PIECES = {"", "a", "é", "日本", "\uD83D\uDE00", "\"", "\\", "\n", "\t", "\u0000",
        "\u001f", "\u007f", "<>&='", "\u2028", "/", "traceId\":\"", " ", "\uFFFD", "\r\n\b\f"};

    private static String randomString(SplittableRandom rnd) {
        StringBuilder sb = new StringBuilder();
        int n = rnd.nextInt(6);
        for (int i = 0; i < n; i++) {
            sb.append(PIECES[rnd.nextInt(PIECES.length)]);
        }
        return sb.toString();
    }

    private static long randomLong(SplittableRandom rnd) {
        switch (rnd.nextInt(6)) {
            case 0: return 0;
            case 1: return Long.MAX_VALUE;
            case 2: return Long.MIN_VALUE;
            case 3: return -1;
            case 4: return rnd.nextInt(1000) - 500;
            default: return rnd.nextLong();
        }
    }

    private static double randomDouble(SplittableRandom rnd) {
        double[] special = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
            Double.MIN_VALUE, Double.MAX_VALUE, 1e-300, 0.1, 1234567.0};
        return rnd.nextBoolean() ? special[rnd.nextInt(special.length)] : rnd.nextDouble() * 1e6 - 5e5;
    }

    private static ByteString randomBytes(SplittableRandom rnd, int max) {
        byte[] b = new byte[rnd.nextInt(max + 1)];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) rnd.nextInt(256);
        }
        return ByteString.copyFrom(b);
    }

    private static ByteString randomId(SplittableRandom rnd, int length) {
        return rnd.nextInt(4) == 0 ? ByteString.EMPTY : fixed(rnd, length);
    }

    private static ByteString fixed(SplittableRandom rnd, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) rnd.nextInt(256);
        }
        return ByteString.copyFrom(b);
    }

    private static AnyValue randomValue(SplittableRandom rnd, int depth) {
        AnyValue.Builder v = AnyValue.newBuilder();
        switch (rnd.nextInt(depth > 2 ? 5 : 8)) {
            case 0:
                v.setStringValue(randomString(rnd));
                break;
            case 1:
                v.setBoolValue(rnd.nextBoolean());
                break;
            case 2:
                v.setIntValue(randomLong(rnd));
                break;
            case 3:
                v.setDoubleValue(randomDouble(rnd));
                break;
            case 4:
                v.setBytesValue(randomBytes(rnd, 10));
                break;
            case 5: {
                ArrayValue.Builder a = ArrayValue.newBuilder();
                for (int i = rnd.nextInt(3); i > 0; i--) {
                    a.addValues(randomValue(rnd, depth + 1));
                }
                v.setArrayValue(a);
                break;
            }
            case 6: {
                KeyValueList.Builder l = KeyValueList.newBuilder();
                for (int i = rnd.nextInt(3); i > 0; i--) {
                    l.addValues(randomAttribute(rnd, depth + 1));
                }
                v.setKvlistValue(l);
                break;
            }
            default:
                break; // an empty AnyValue
        }
        return v.build();
    }

    private static KeyValue randomAttribute(SplittableRandom rnd, int depth) {
        KeyValue.Builder kv = KeyValue.newBuilder().setKey(randomString(rnd));
        if (rnd.nextInt(10) != 0) {
            kv.setValue(randomValue(rnd, depth));
        }
        return kv.build();
    }

    private static List<KeyValue> randomAttributes(SplittableRandom rnd) {
        List<KeyValue> l = new ArrayList<>();
        for (int i = rnd.nextInt(5); i > 0; i--) {
            l.add(randomAttribute(rnd, 0));
        }
        return l;
    }

    private static Resource randomResource(SplittableRandom rnd) {
        return Resource.newBuilder().addAllAttributes(randomAttributes(rnd))
                .setDroppedAttributesCount(rnd.nextInt(3)).build();
    }

    private static InstrumentationScope randomScope(SplittableRandom rnd) {
        return InstrumentationScope.newBuilder().setName(randomString(rnd)).setVersion(randomString(rnd))
                .addAllAttributes(randomAttributes(rnd)).build();
    }

    static ExportTraceServiceRequest randomTraces(SplittableRandom rnd) {
        ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
        for (int r = rnd.nextInt(3); r > 0; r--) {
            ResourceSpans.Builder rs = ResourceSpans.newBuilder().setSchemaUrl(randomString(rnd));
            if (rnd.nextBoolean()) {
                rs.setResource(randomResource(rnd));
            }
            for (int s = rnd.nextInt(3); s > 0; s--) {
                ScopeSpans.Builder ss = ScopeSpans.newBuilder().setScope(randomScope(rnd));
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    Span.Builder span = Span.newBuilder().setTraceId(randomId(rnd, 16)).setSpanId(randomId(rnd, 8))
                            .setParentSpanId(randomId(rnd, 8)).setTraceState(randomString(rnd))
                            .setName(randomString(rnd)).setKindValue(rnd.nextInt(6))
                            .setStartTimeUnixNano(randomLong(rnd)).setEndTimeUnixNano(randomLong(rnd))
                            .addAllAttributes(randomAttributes(rnd)).setDroppedAttributesCount(rnd.nextInt(3))
                            .setFlags(rnd.nextInt()).setDroppedEventsCount(rnd.nextInt(2))
                            .setDroppedLinksCount(rnd.nextInt(2));
                    for (int e = rnd.nextInt(3); e > 0; e--) {
                        span.addEvents(Span.Event.newBuilder().setName(randomString(rnd))
                                .setTimeUnixNano(randomLong(rnd)).addAllAttributes(randomAttributes(rnd)));
                    }
                    for (int l = rnd.nextInt(3); l > 0; l--) {
                        span.addLinks(Span.Link.newBuilder().setTraceId(randomId(rnd, 16)).setSpanId(randomId(rnd, 8))
                                .setTraceState(randomString(rnd)).setFlags(rnd.nextInt())
                                .addAllAttributes(randomAttributes(rnd)));
                    }
                    if (rnd.nextBoolean()) {
                        span.setStatus(Status.newBuilder().setMessage(randomString(rnd)).setCodeValue(rnd.nextInt(3)));
                    }
                    ss.addSpans(span);
                }
                rs.addScopeSpans(ss);
            }
            req.addResourceSpans(rs);
        }
        return req.build();
    }

    private static ExportMetricsServiceRequest randomMetrics(SplittableRandom rnd) {
        ExportMetricsServiceRequest.Builder req = ExportMetricsServiceRequest.newBuilder();
        for (int r = rnd.nextInt(3); r > 0; r--) {
            ScopeMetrics.Builder sm = ScopeMetrics.newBuilder().setScope(randomScope(rnd));
            for (int m = rnd.nextInt(4); m > 0; m--) {
                Metric.Builder metric = Metric.newBuilder().setName(randomString(rnd)).setUnit(randomString(rnd))
                        .setDescription(randomString(rnd));
                if (rnd.nextBoolean()) {
                    Histogram.Builder h = Histogram.newBuilder().setAggregationTemporalityValue(rnd.nextInt(3));
                    for (int p = rnd.nextInt(3); p > 0; p--) {
                        HistogramDataPoint.Builder dp = HistogramDataPoint.newBuilder()
                                .addAllAttributes(randomAttributes(rnd)).setStartTimeUnixNano(randomLong(rnd))
                                .setTimeUnixNano(randomLong(rnd)).setCount(randomLong(rnd)).setFlags(rnd.nextInt(2));
                        if (rnd.nextBoolean()) {
                            dp.setSum(randomDouble(rnd));
                        }
                        if (rnd.nextBoolean()) {
                            dp.setMin(randomDouble(rnd)).setMax(randomDouble(rnd));
                        }
                        for (int b = rnd.nextInt(6); b > 0; b--) {
                            dp.addBucketCounts(randomLong(rnd)).addExplicitBounds(randomDouble(rnd));
                        }
                        if (rnd.nextBoolean()) {
                            dp.addExemplars(Exemplar.newBuilder().setTimeUnixNano(randomLong(rnd))
                                    .setAsInt(randomLong(rnd)).setSpanId(randomId(rnd, 8))
                                    .setTraceId(randomId(rnd, 16)).addAllFilteredAttributes(randomAttributes(rnd)));
                        }
                        h.addDataPoints(dp);
                    }
                    metric.setHistogram(h);
                } else {
                    Gauge.Builder g = Gauge.newBuilder();
                    for (int p = rnd.nextInt(3); p > 0; p--) {
                        NumberDataPoint.Builder dp = NumberDataPoint.newBuilder().setTimeUnixNano(randomLong(rnd))
                                .addAllAttributes(randomAttributes(rnd));
                        if (rnd.nextBoolean()) {
                            dp.setAsDouble(randomDouble(rnd));
                        } else {
                            dp.setAsInt(randomLong(rnd));
                        }
                        g.addDataPoints(dp);
                    }
                    metric.setGauge(g);
                }
                sm.addMetrics(metric);
            }
            req.addResourceMetrics(ResourceMetrics.newBuilder().setResource(randomResource(rnd)).addScopeMetrics(sm));
        }
        return req.build();
    }

    private static ExportLogsServiceRequest randomLogs(SplittableRandom rnd) {
        ExportLogsServiceRequest.Builder req = ExportLogsServiceRequest.newBuilder();
        for (int r = rnd.nextInt(3); r > 0; r--) {
            ScopeLogs.Builder sl = ScopeLogs.newBuilder().setScope(randomScope(rnd));
            for (int i = rnd.nextInt(4); i > 0; i--) {
                LogRecord.Builder l = LogRecord.newBuilder().setTimeUnixNano(randomLong(rnd))
                        .setObservedTimeUnixNano(randomLong(rnd)).setSeverityNumberValue(rnd.nextInt(25))
                        .setSeverityText(randomString(rnd)).addAllAttributes(randomAttributes(rnd))
                        .setFlags(rnd.nextInt()).setTraceId(randomId(rnd, 16)).setSpanId(randomId(rnd, 8));
                if (rnd.nextBoolean()) {
                    l.setBody(randomValue(rnd, 0));
                }
                sl.addLogRecords(l);
            }
            req.addResourceLogs(ResourceLogs.newBuilder().setResource(randomResource(rnd)).addScopeLogs(sl));
        }
        return req.build();
    }
}
