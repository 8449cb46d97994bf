package io.periscope.bench.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OtlpSinkTest {
    private static final int GRPC_PORT = 18660;
    private static final int HTTP_PORT = 18661;

    @Test
    void countsWhatArrivesOverGrpcByProcessKindAndProtocolButNotItsOwnWarmUp() throws Exception {
        try (OtlpSink sink = OtlpSink.start(GRPC_PORT, HTTP_PORT, 3)) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", GRPC_PORT).usePlaintext().build();
            try {
                TraceServiceGrpc.newBlockingStub(channel).export(ExportTraceServiceRequest.newBuilder()
                        .addResourceSpans(resourceSpans("nginx",
                                span(Span.SpanKind.SPAN_KIND_SERVER, "network.protocol.name", "http"),
                                span(Span.SpanKind.SPAN_KIND_SERVER, "network.protocol.name", "http"),
                                span(Span.SpanKind.SPAN_KIND_CLIENT, "network.protocol.name", "http")))
                        .addResourceSpans(resourceSpans("java",
                                span(Span.SpanKind.SPAN_KIND_CLIENT, "db.system.name", "postgresql"),
                                span(Span.SpanKind.SPAN_KIND_CLIENT, "db.system.name", "redis")))
                        .build());
                MetricsServiceGrpc.newBlockingStub(channel).export(ExportMetricsServiceRequest.newBuilder()
                        .addResourceMetrics(ResourceMetrics.newBuilder().addScopeMetrics(ScopeMetrics.newBuilder()
                                .addMetrics(Metric.newBuilder().setName("g").setGauge(Gauge.newBuilder()
                                        .addDataPoints(NumberDataPoint.newBuilder().setAsInt(1))
                                        .addDataPoints(NumberDataPoint.newBuilder().setAsInt(2))
                                        .addDataPoints(NumberDataPoint.newBuilder().setAsInt(3))))
                                .addMetrics(Metric.newBuilder().setName("s").setSum(Sum.newBuilder()
                                        .addDataPoints(NumberDataPoint.newBuilder().setAsDouble(1))
                                        .addDataPoints(NumberDataPoint.newBuilder().setAsDouble(2))))
                                .addMetrics(Metric.newBuilder().setName("h").setHistogram(Histogram.newBuilder()
                                        .addDataPoints(HistogramDataPoint.newBuilder().setCount(7))))))
                        .build());
                LogsServiceGrpc.newBlockingStub(channel).export(ExportLogsServiceRequest.newBuilder()
                        .addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder()
                                .addLogRecords(LogRecord.getDefaultInstance())
                                .addLogRecords(LogRecord.getDefaultInstance())))
                        .build());
            } finally {
                channel.shutdownNow();
                channel.awaitTermination(5, TimeUnit.SECONDS);
            }

            String counts = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + HTTP_PORT + "/counts")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();

            assertThat(counts).isEqualTo(sink.countsJson() + "\n")
                    .contains("\"requests\":3,", "\"spans\":5,", "\"metric_points\":6,", "\"log_records\":2,")
                    .contains("\"nginx server http\":2", "\"nginx client http\":1", "\"java client postgresql\":1",
                            "\"java client redis\":1")
                    .doesNotContain("warm-up");
        }
    }

    private static ResourceSpans resourceSpans(String process, Span... spans) {
        ScopeSpans.Builder scope = ScopeSpans.newBuilder();
        for (Span span : spans) {
            scope.addSpans(span);
        }
        return ResourceSpans.newBuilder()
                .setResource(Resource.newBuilder().addAttributes(attribute("process.executable.name", process)))
                .addScopeSpans(scope)
                .build();
    }

    private static Span span(Span.SpanKind kind, String protocolKey, String protocol) {
        return Span.newBuilder().setName("s").setKind(kind).addAttributes(attribute(protocolKey, protocol)).build();
    }

    private static KeyValue attribute(String key, String value) {
        return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
    }
}
