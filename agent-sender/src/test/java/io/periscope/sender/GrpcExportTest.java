package io.periscope.sender;

import io.grpc.Metadata;
import io.grpc.Status;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.periscope.protocols.RequestLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.periscope.sender.TestRecords.attributes;
import static io.periscope.sender.TestRecords.num;
import static io.periscope.sender.TestRecords.str;
import static org.assertj.core.api.Assertions.assertThat;

class GrpcExportTest {
    private final ProcessResource agent = ProcessResource.builder("periscope").hostName("node-1").pid(1).build();
    private final ProcessResource nginx = ProcessResource.builder("nginx").hostName("node-1").pid(4242)
            .executableName("nginx").containerId("c0ffee").build();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private OtlpReceiver receiver() throws Exception {
        OtlpReceiver r = new OtlpReceiver().start();
        closeables.add(r);
        return r;
    }

    private SenderConfig.Builder config(int port) {
        return SenderConfig.builder().endpoint("127.0.0.1:" + port).maxBatchDelay(Duration.ofMillis(50))
                .backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2, 0.2)
                .metricsInterval(Duration.ofHours(1));
    }

    private OtlpExporter start(SenderConfig config) {
        OtlpExporter e = OtlpExporter.start(config, agent);
        closeables.add(0, () -> e.shutdown(Duration.ofSeconds(5)));
        return e;
    }

    @Test
    void shouldDeliverSpansMetricsAndLogsFieldByField() throws Exception {
        OtlpReceiver rx = receiver();
        OtlpExporter exporter = start(config(rx.port()).header("Authorization", "Bearer t0k3n").build());
        RequestLog ok = TestRecords.httpServer("GET", "/users/1", "/users/{id}", 200);
        RequestLog err = TestRecords.httpServer("GET", "/users/2", "/users/{id}", 500);
        assertThat(exporter.offer(ok, nginx)).isTrue();
        assertThat(exporter.offer(ok, nginx)).isTrue();
        assertThat(exporter.offer(err, nginx)).isTrue();
        assertThat(exporter.offerFlow(TestFlow.tcp(5432, 1000, 2000), null)).isTrue();
        exporter.collectMetrics();
        ShutdownReport report = exporter.shutdown(Duration.ofSeconds(30));
        assertThat(report.flushedAll()).isTrue();

        // traces
        List<Span> spans = rx.spans();
        assertThat(spans).hasSize(3);
        ResourceSpans rs = rx.traces.get(0).getResourceSpans(0);
        Map<String, AnyValue> res = attributes(rs.getResource().getAttributesList());
        assertThat(str(res, "service.name")).isEqualTo("nginx");
        assertThat(str(res, "container.id")).isEqualTo("c0ffee");
        assertThat(num(res, "process.pid")).isEqualTo(4242L);
        Span s = spans.get(0);
        assertThat(s.getName()).isEqualTo("GET /users/{id}");
        assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
        Map<String, AnyValue> a = attributes(s.getAttributesList());
        assertThat(str(a, "url.path")).isEqualTo("/users/1");
        assertThat(num(a, "http.response.status_code")).isEqualTo(200L);
        assertThat(str(a, "periscope.comm")).isEqualTo("nginx");
        assertThat(spans.get(2).getStatus().getCode())
                .isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);

        // headers and compression
        Metadata md = rx.headers.get(0);
        assertThat(md.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER)))
                .isEqualTo("Bearer t0k3n");
        assertThat(md.get(Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER))).isEqualTo("gzip");

        // RED metrics
        Metric duration = metric(rx.metrics, "nginx", "http.server.request.duration");
        assertThat(duration.getUnit()).isEqualTo("s");
        long total = 0;
        HistogramDataPoint errors = null;
        for (HistogramDataPoint p : duration.getHistogram().getDataPointsList()) {
            total += p.getCount();
            Map<String, AnyValue> pa = attributes(p.getAttributesList());
            assertThat(str(pa, "http.route")).isEqualTo("/users/{id}");
            assertThat(str(pa, "http.request.method")).isEqualTo("GET");
            if ("500".equals(str(pa, "error.type"))) {
                errors = p;
            }
        }
        assertThat(total).isEqualTo(3);
        assertThat(errors).isNotNull();
        assertThat(errors.getCount()).isEqualTo(1);
        assertThat(num(attributes(errors.getAttributesList()), "http.response.status_code")).isEqualTo(500L);
        assertThat(errors.getSum()).isEqualTo(0.0025);
        assertThat(errors.getBucketCountsList().stream().mapToLong(Long::longValue).sum()).isEqualTo(1);

        // flow metrics and self metrics under the agent resource
        Metric bytes = metric(rx.metrics, "periscope", "periscope.flow.bytes");
        assertThat(bytes.getSum().getDataPointsList()).extracting(NumberDataPoint::getAsInt)
                .containsExactlyInAnyOrder(1000L, 2000L);
        assertThat(str(attributes(bytes.getSum().getDataPoints(0).getAttributesList()), "server.address"))
                .isEqualTo("10.0.0.2");
        Metric items = metric(rx.metrics, "periscope", "periscope.sender.items");
        assertThat(items.getSum().getDataPointsList()).anySatisfy(p -> {
            Map<String, AnyValue> pa = attributes(p.getAttributesList());
            assertThat(str(pa, "signal")).isEqualTo("traces");
            assertThat(str(pa, "outcome")).isEqualTo("offered");
            assertThat(p.getAsInt()).isEqualTo(3);
        });

        // flow log
        List<LogRecord> logs = rx.logRecords();
        assertThat(logs).hasSize(1);
        Map<String, AnyValue> la = attributes(logs.get(0).getAttributesList());
        assertThat(str(la, "event.name")).isEqualTo("periscope.flow");
        assertThat(str(la, "client.address")).isEqualTo("10.0.0.1");
        assertThat(num(la, "server.port")).isEqualTo(5432L);
        assertThat(num(la, "periscope.flow.bytes.client_to_server")).isEqualTo(1000L);
        assertThat(num(la, "periscope.flow.rtt_ns")).isEqualTo(250_000L);
        assertThat(str(la, "periscope.flow.close_type")).isEqualTo("fin");
        assertThat(logs.get(0).getTimeUnixNano()).isEqualTo(1_700_000_001_000_000_000L);

        SignalCounters t = exporter.counters(Signal.TRACES);
        assertThat(t.offered()).isEqualTo(3);
        assertThat(t.exported()).isEqualTo(3);
        assertThat(t.dropped() + t.failed() + t.rejected() + t.pending()).isZero();
    }

    private static Metric metric(List<ExportMetricsServiceRequest> requests, String service, String name) {
        for (ExportMetricsServiceRequest req : requests) {
            for (ResourceMetrics rm : req.getResourceMetricsList()) {
                if (!service.equals(str(attributes(rm.getResource().getAttributesList()), "service.name"))) {
                    continue;
                }
                for (var sm : rm.getScopeMetricsList()) {
                    for (Metric m : sm.getMetricsList()) {
                        if (m.getName().equals(name)) {
                            return m;
                        }
                    }
                }
            }
        }
        throw new AssertionError("no metric " + name + " for " + service + " in " + requests);
    }

    @Test
    void shouldCountPartialSuccessRejections() throws Exception {
        OtlpReceiver rx = receiver();
        rx.rejectPerRequest = 2;
        OtlpExporter exporter = start(config(rx.port()).maxBatchSize(10).build());
        for (int i = 0; i < 30; i++) {
            exporter.offer(TestRecords.httpServer("GET", "/", "/", 200), nginx);
        }
        exporter.shutdown(Duration.ofSeconds(30));
        SignalCounters t = exporter.counters(Signal.TRACES);
        long requests = rx.traces.size();
        assertThat(t.requests()).isEqualTo(requests);
        assertThat(t.rejected()).isEqualTo(2 * requests);
        assertThat(t.exported()).isEqualTo(30 - 2 * requests);
        assertThat(t.retried()).isZero();
    }

    @Test
    void shouldNotRetryInvalidArgument() throws Exception {
        OtlpReceiver rx = receiver();
        rx.behaviour = call -> Status.INVALID_ARGUMENT.withDescription("bad");
        OtlpExporter exporter = start(config(rx.port()).build());
        for (int i = 0; i < 5; i++) {
            exporter.offer(TestRecords.httpServer("GET", "/", "/", 200), nginx);
        }
        exporter.shutdown(Duration.ofSeconds(30));
        SignalCounters t = exporter.counters(Signal.TRACES);
        assertThat(t.failed()).isEqualTo(5);
        assertThat(t.retried()).isZero();
        assertThat(t.exported()).isZero();
        assertThat(exporter.counters(Signal.METRICS).retried()).isZero();
        assertThat(rx.spans()).isEmpty();
    }

    @Test
    void shouldRetryResourceExhaustedUntilAccepted() throws Exception {
        OtlpReceiver rx = receiver();
        rx.behaviour = call -> call <= 3 ? Status.RESOURCE_EXHAUSTED.withDescription("slow down") : null;
        OtlpExporter exporter = start(config(rx.port()).build());
        for (int i = 0; i < 7; i++) {
            exporter.offer(TestRecords.httpServer("GET", "/r/" + i, "/r/{id}", 200), nginx);
        }
        exporter.flush();
        Await.until(() -> exporter.counters(Signal.TRACES).exported() == 7,
                () -> exporter.counters(Signal.TRACES).toString());
        SignalCounters t = exporter.counters(Signal.TRACES);
        assertThat(t.retried()).isEqualTo(3);
        assertThat(t.failed()).isZero();
        assertThat(rx.spans()).hasSize(7);
    }

    @Test
    void shouldSplitRequestsToRespectTheCollectorsMessageLimit() throws Exception {
        OtlpReceiver rx = new OtlpReceiver();
        rx.maxInboundBytes = 20 * 1024;
        rx.start();
        closeables.add(rx);
        OtlpExporter exporter = start(config(rx.port()).maxMessageBytes(16 * 1024).maxBatchSize(512).build());
        for (int i = 0; i < 300; i++) {
            exporter.offer(TestRecords.httpServer("GET", "/big/" + i, "/big/{n}", 200), nginx);
        }
        exporter.flush();
        SignalCounters t = exporter.counters(Signal.TRACES);
        Await.until(() -> t.pending() == 0, t::toString);
        assertThat(t.exported()).isEqualTo(300);
        assertThat(t.failed()).isZero();
        assertThat(rx.traces.size()).isGreaterThan(1);
        assertThat(rx.traces).allSatisfy(req -> assertThat(req.getSerializedSize()).isLessThanOrEqualTo(16 * 1024));
        assertThat(rx.spans()).hasSize(300);
    }

    @Test
    void shouldExportRequestLogsAsLogRecordsWhenAsked() throws Exception {
        OtlpReceiver rx = receiver();
        OtlpExporter exporter = start(config(rx.port()).requestLogsAsLogs(true).build());
        exporter.offer(TestRecords.httpServer("DELETE", "/users/7", "/users/{id}", 404), nginx);
        exporter.shutdown(Duration.ofSeconds(30));
        List<LogRecord> logs = rx.logRecords();
        assertThat(logs).hasSize(1);
        Map<String, AnyValue> a = attributes(logs.get(0).getAttributesList());
        assertThat(str(a, "event.name")).isEqualTo("periscope.request");
        assertThat(str(a, "periscope.method")).isEqualTo("DELETE");
        assertThat(str(a, "periscope.resource")).isEqualTo("/users/7");
        assertThat(num(a, "periscope.status_code")).isEqualTo(404L);
        assertThat(num(a, "periscope.duration_ns")).isEqualTo(2_500_000L);
        assertThat(str(attributes(rx.logs.get(0).getResourceLogs(0).getResource().getAttributesList()),
                "service.name")).isEqualTo("nginx");
        assertThat(rx.spans()).hasSize(1);
    }

    @Test
    void shouldShareTheSpanQueueBetweenSeveralExportThreads() throws Exception {
        OtlpReceiver rx = receiver();
        OtlpExporter exporter = start(config(rx.port()).traceExportThreads(3).maxBatchSize(64)
                .queueCapacity(Signal.TRACES, 4096).build());
        java.util.Set<String> offered = new java.util.HashSet<>();
        for (int i = 0; i < 3000; i++) {
            String path = "/t/" + i;
            if (exporter.offer(TestRecords.httpServer("GET", path, "/t/{n}", 200), nginx)) {
                offered.add(path);
            }
        }
        ShutdownReport report = exporter.shutdown(Duration.ofSeconds(60));
        assertThat(report.flushedAll()).isTrue();
        SignalCounters t = exporter.counters(Signal.TRACES);
        assertThat(t.exported()).isEqualTo(offered.size());
        assertThat(t.offered()).isEqualTo(t.exported() + t.dropped());
        java.util.Set<String> received = new java.util.HashSet<>();
        for (Span s : rx.spans()) {
            assertThat(received.add(str(attributes(s.getAttributesList()), "url.path"))).isTrue();
        }
        assertThat(received).isEqualTo(offered);
    }
}
