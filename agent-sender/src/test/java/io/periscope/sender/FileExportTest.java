package io.periscope.sender;

import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.trace.v1.Span;
import io.periscope.protocols.RequestLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class FileExportTest {
    @TempDir
    Path dir;

    private final ProcessResource nginx = ProcessResource.builder("nginx").pid(4242).hostName("node-1").build();

    private ExportTraceServiceRequest encodedTraces(int count) throws Exception {
        RequestLog[] recs = new RequestLog[count];
        ProcessResource[] res = new ProcessResource[count];
        for (int i = 0; i < count; i++) {
            recs[i] = TestRecords.httpServer("GET", "/f/" + i, "/f/{n}", i % 7 == 0 ? 503 : 200);
            res[i] = nginx;
        }
        List<byte[]> out = new ArrayList<>();
        new SpanEncoder(0, 0, 4 << 20, 3).encode(recs, res, count, (b, len, n) -> out.add(Arrays.copyOf(b, len)));
        return ExportTraceServiceRequest.parseFrom(out.get(0));
    }

    @Test
    void shouldWriteOtlpJsonLinesThatReadBackEqual() throws Exception {
        Path file = dir.resolve("otlp.jsonl");
        ExportTraceServiceRequest traces = encodedTraces(20);
        ExportLogsServiceRequest logs = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
                .setResource(nginx.toProto()).addScopeLogs(ScopeLogs.newBuilder().addLogRecords(LogRecord.newBuilder()
                        .setTimeUnixNano(5).setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_WARN)
                        .setTraceId(traces.getResourceSpans(0).getScopeSpans(0).getSpans(0).getTraceId())
                        .setBody(AnyValue.newBuilder().setStringValue("quote \" and \"traceId\":\"zz\" inside"))
                        .addAttributes(KeyValue.newBuilder().setKey("k")
                                .setValue(AnyValue.newBuilder().setIntValue(7))))))
                .build();
        MetricsAggregator agg = new MetricsAggregator(10, nginx);
        agg.recordRequest(TestRecords.httpServer("GET", "/", "/", 200), nginx);
        ExportMetricsServiceRequest metrics = agg.collect(4 << 20).get(0);

        try (OtlpJsonFileTransport t = new OtlpJsonFileTransport(file, 1 << 20, 2)) {
            byte[] b = traces.toByteArray();
            assertThat(t.export(Signal.TRACES, b, b.length).kind()).isEqualTo(ExportTransport.ExportOutcome.Kind.OK);
            b = metrics.toByteArray();
            assertThat(t.export(Signal.METRICS, b, b.length).kind()).isEqualTo(ExportTransport.ExportOutcome.Kind.OK);
            b = logs.toByteArray();
            assertThat(t.export(Signal.LOGS, b, b.length).kind()).isEqualTo(ExportTransport.ExportOutcome.Kind.OK);
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(3);
        ExportTraceServiceRequest.Builder t = ExportTraceServiceRequest.newBuilder();
        OtlpJson.parse(lines.get(0), t);
        assertThat(t.build()).isEqualTo(traces);
        ExportMetricsServiceRequest.Builder m = ExportMetricsServiceRequest.newBuilder();
        OtlpJson.parse(lines.get(1), m);
        assertThat(m.build()).isEqualTo(metrics);
        ExportLogsServiceRequest.Builder l = ExportLogsServiceRequest.newBuilder();
        OtlpJson.parse(lines.get(2), l);
        assertThat(l.build()).isEqualTo(logs);

        // The OTLP/JSON rules the Collector's otlpjsonfile receiver expects: hex ids, integer enums.
        Span first = traces.getResourceSpans(0).getScopeSpans(0).getSpans(0);
        Matcher id = Pattern.compile("\"traceId\":\"([^\"]*)\"").matcher(lines.get(0));
        assertThat(id.find()).isTrue();
        assertThat(id.group(1)).isEqualTo(HexFormat.of().formatHex(first.getTraceId().toByteArray()));
        assertThat(lines.get(0)).contains("\"kind\":2").contains("\"resourceSpans\":[");
        assertThat(lines.get(2)).contains("\"severityNumber\":13");
    }

    @Test
    void shouldRotateBySize() throws Exception {
        Path file = dir.resolve("otlp.jsonl");
        long maxBytes = 64 * 1024;
        byte[] b = encodedTraces(10).toByteArray();
        int writes = 100;
        try (OtlpJsonFileTransport t = new OtlpJsonFileTransport(file, maxBytes, 3)) {
            for (int i = 0; i < writes; i++) {
                t.export(Signal.TRACES, b, b.length);
            }
        }
        long lines = 0;
        for (Path p : List.of(file, dir.resolve("otlp.jsonl.1"), dir.resolve("otlp.jsonl.2"),
                dir.resolve("otlp.jsonl.3"))) {
            assertThat(p).exists();
            assertThat(Files.size(p)).isLessThanOrEqualTo(maxBytes);
            lines += Files.readAllLines(p).size();
        }
        assertThat(dir.resolve("otlp.jsonl.4")).doesNotExist();
        long lineBytes = Files.readAllLines(file).get(0).length() + 1;
        long perFile = maxBytes / lineBytes;
        assertThat(writes / perFile).as("enough writes to fill every backup").isGreaterThan(4);
        // The three backups are full; the current file holds what was written since the last rotation.
        long current = writes % perFile == 0 ? perFile : writes % perFile;
        assertThat(lines).isEqualTo(3 * perFile + current);
    }

    @Test
    void shouldBeTheDestinationWhenNoCollectorIsConfigured() throws Exception {
        Path file = dir.resolve("sub/otlp.jsonl");
        SenderConfig config = SenderConfig.builder().file(file, 1 << 20, 1).maxBatchDelay(Duration.ofMillis(10))
                .metricsInterval(Duration.ofHours(1)).build();
        OtlpExporter e = OtlpExporter.start(config, nginx);
        for (int i = 0; i < 25; i++) {
            e.offer(TestRecords.httpServer("GET", "/x/" + i, "/x/{n}", 200), nginx);
        }
        assertThat(e.shutdown(Duration.ofSeconds(30)).flushedAll()).isTrue();
        int spans = 0;
        int metricLines = 0;
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("{\"resourceSpans\"")) {
                ExportTraceServiceRequest.Builder t = ExportTraceServiceRequest.newBuilder();
                OtlpJson.parse(line, t);
                spans += t.getResourceSpansList().stream().flatMap(rs -> rs.getScopeSpansList().stream())
                        .mapToInt(ss -> ss.getSpansCount()).sum();
            } else if (line.startsWith("{\"resourceMetrics\"")) {
                metricLines++;
            }
        }
        assertThat(spans).isEqualTo(25);
        assertThat(metricLines).isGreaterThan(0);
        assertThat(e.counters(Signal.TRACES).exported()).isEqualTo(25);
    }

    @Test
    void shouldCountWhatCannotBeWrittenAsFailed() throws Exception {
        Path notADirectory = dir.resolve("plain-file");
        Files.writeString(notADirectory, "x");
        SenderConfig config = SenderConfig.builder().file(notADirectory.resolve("otlp.jsonl"), 1 << 20, 1)
                .maxBatchDelay(Duration.ofMillis(10)).backoff(Duration.ofMillis(10), Duration.ofMillis(50), 2, 0.2)
                .maxRetryElapsed(Duration.ofMillis(300)).metricsInterval(Duration.ofHours(1)).build();
        OtlpExporter e = OtlpExporter.start(config, nginx);
        for (int i = 0; i < 3; i++) {
            e.offer(TestRecords.httpServer("GET", "/", "/", 200), nginx);
        }
        SignalCounters t = e.counters(Signal.TRACES);
        Await.until(() -> t.failed() == 3, t::toString);
        assertThat(t.retried()).isGreaterThan(0);
        assertThat(t.exported()).isZero();
        e.shutdown(Duration.ofMillis(100));
    }
}
