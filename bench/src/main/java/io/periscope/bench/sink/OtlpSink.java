package io.periscope.bench.sink;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A counting OTLP/gRPC receiver for the bench scenarios: it stands where a Collector would, so the
 * agent is measured with the exporter it runs at scale (protobuf over gRPC), and it counts what
 * arrives (spans, metric data points, log records) so a scenario can check, end to end, that every
 * span the agent made was received.
 *
 * <p>{@code OtlpSink <grpcPort> <httpPort>} listens on 127.0.0.1 on both; {@code GET /counts} on the
 * HTTP port answers one line of JSON, e.g. {@code {"requests":3,"spans":1200,"metric_points":40,
 * "log_records":0,"bytes":98765,"by_kind":{"nginx server http":600,"h2load client http":600}}}: spans by
 * the process that made them ({@code process.executable.name}), span kind and protocol
 * ({@code db.system.name}, else {@code network.protocol.name}), so a scenario can tell which hop
 * of a request produced which span. It prints {@code listening ...} once ready and its final counts
 * when stopped (SIGTERM). Before it says it listens it sends itself a few hundred exports and
 * forgets them, so its own JIT warm-up does not slow the agent's first exports.
 */
public final class OtlpSink implements AutoCloseable {
    /** The agent batches; a Collector's default 4 MiB cap would reject a large batch as an error. */
    private static final int MAX_MESSAGE_BYTES = 64 << 20;
    private static final long STOP_TIMEOUT_SECONDS = 5;
    /** Self-exports at start, so the agent never meets a cold (interpreted, class-loading) sink. */
    private static final int WARMUP_REQUESTS = 400;
    private static final int WARMUP_SPANS_PER_REQUEST = 512;

    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong spans = new AtomicLong();
    private final AtomicLong metricPoints = new AtomicLong();
    private final AtomicLong logRecords = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final Map<String, LongAdder> byKind = new ConcurrentHashMap<>();

    private Server grpc;
    private HttpServer http;
    private ExecutorService executor;

    private OtlpSink() {
    }

    /** Entry point; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: OtlpSink <grpcPort> <httpPort>");
            System.exit(2);
        }
        int grpcPort = Integer.parseInt(args[0]);
        int httpPort = Integer.parseInt(args[1]);
        OtlpSink sink = start(grpcPort, httpPort, WARMUP_REQUESTS);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            sink.close();
            System.out.println("final " + sink.countsJson());
            System.out.flush();
            stopped.countDown();
        }, "otlp-sink-stop"));
        System.out.println("listening grpc=127.0.0.1:" + grpcPort + " http=127.0.0.1:" + httpPort);
        System.out.flush();
        stopped.await();
    }

    /**
     * Starts a sink on 127.0.0.1: OTLP/gRPC on {@code grpcPort}, counts on {@code httpPort}; first sends
     * itself {@code warmupRequests} trace exports and forgets them.
     */
    public static OtlpSink start(int grpcPort, int httpPort, int warmupRequests)
            throws IOException, InterruptedException {
        OtlpSink sink = new OtlpSink();
        // One thread serves every call: the sink is pinned to one CPU like the load generator, and
        // counting needs no parallelism.
        sink.executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "otlp-sink"));
        sink.grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", grpcPort))
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .executor(sink.executor)
                .addService(sink.new Traces())
                .addService(sink.new Metrics())
                .addService(sink.new Logs())
                .build()
                .start();
        try {
            warmUp(grpcPort, warmupRequests);
            sink.reset();
            sink.http = HttpServer.create(new InetSocketAddress("127.0.0.1", httpPort), 16);
            sink.http.createContext("/counts", sink::serveCounts);
            sink.http.start();
        } catch (IOException | InterruptedException | RuntimeException e) {
            sink.close();
            throw e;
        }
        return sink;
    }

    /** Stops both servers (waiting a few seconds for calls in progress). */
    @Override
    public void close() {
        if (http != null) {
            http.stop(0);
        }
        grpc.shutdown();
        try {
            grpc.awaitTermination(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }

    private void reset() {
        requests.set(0);
        spans.set(0);
        metricPoints.set(0);
        logRecords.set(0);
        bytes.set(0);
        byKind.clear();
    }

    private static void warmUp(int grpcPort, int warmupRequests) throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        try {
            TraceServiceGrpc.TraceServiceBlockingStub stub = TraceServiceGrpc.newBlockingStub(channel);
            ScopeSpans.Builder scope = ScopeSpans.newBuilder();
            for (int i = 0; i < WARMUP_SPANS_PER_REQUEST; i++) {
                scope.addSpans(Span.newBuilder().setName("warm-up").setKind(Span.SpanKind.SPAN_KIND_SERVER)
                        .addAttributes(KeyValue.newBuilder().setKey("network.protocol.name")
                                .setValue(AnyValue.newBuilder().setStringValue("http"))));
            }
            ExportTraceServiceRequest request = ExportTraceServiceRequest.newBuilder()
                    .addResourceSpans(ResourceSpans.newBuilder().setResource(Resource.newBuilder()
                            .addAttributes(KeyValue.newBuilder().setKey("process.executable.name")
                                    .setValue(AnyValue.newBuilder().setStringValue("warm-up"))))
                            .addScopeSpans(scope))
                    .build();
            for (int i = 0; i < warmupRequests; i++) {
                stub.export(request);
            }
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** The counts as served on /counts: one line of JSON. */
    public String countsJson() {
        StringBuilder kinds = new StringBuilder();
        for (Map.Entry<String, LongAdder> e : new TreeMap<>(byKind).entrySet()) {
            kinds.append(kinds.length() == 0 ? "" : ",").append('"').append(jsonEscape(e.getKey())).append("\":")
                    .append(e.getValue().sum());
        }
        return "{\"requests\":" + requests.get() + ",\"spans\":" + spans.get() + ",\"metric_points\":"
                + metricPoints.get() + ",\"log_records\":" + logRecords.get() + ",\"bytes\":" + bytes.get()
                + ",\"by_kind\":{" + kinds + "}}";
    }

    private static String jsonEscape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < ' ') {
                out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String attribute(List<KeyValue> attributes, String key) {
        for (KeyValue kv : attributes) {
            if (key.equals(kv.getKey())) {
                return kv.getValue().getStringValue();
            }
        }
        return null;
    }

    private void countKind(String process, Span span) {
        String protocol = attribute(span.getAttributesList(), "db.system.name");
        if (protocol == null) {
            protocol = attribute(span.getAttributesList(), "network.protocol.name");
        }
        String kind = span.getKind().name().replace("SPAN_KIND_", "").toLowerCase(Locale.ROOT);
        byKind.computeIfAbsent(process + " " + kind + " " + (protocol == null ? "?" : protocol), k -> new LongAdder())
                .increment();
    }

    private void serveCounts(HttpExchange exchange) throws IOException {
        byte[] body = (countsJson() + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    static long points(Metric metric) {
        switch (metric.getDataCase()) {
            case GAUGE:
                return metric.getGauge().getDataPointsCount();
            case SUM:
                return metric.getSum().getDataPointsCount();
            case HISTOGRAM:
                return metric.getHistogram().getDataPointsCount();
            case EXPONENTIAL_HISTOGRAM:
                return metric.getExponentialHistogram().getDataPointsCount();
            case SUMMARY:
                return metric.getSummary().getDataPointsCount();
            default:
                return 0;
        }
    }

    private final class Traces extends TraceServiceGrpc.TraceServiceImplBase {
        @Override
        public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> response) {
            long n = 0;
            for (ResourceSpans rs : request.getResourceSpansList()) {
                String process = attribute(rs.getResource().getAttributesList(), "process.executable.name");
                if (process == null) {
                    process = "?";
                }
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                    n += ss.getSpansCount();
                    for (Span span : ss.getSpansList()) {
                        countKind(process, span);
                    }
                }
            }
            spans.addAndGet(n);
            bytes.addAndGet(request.getSerializedSize());
            requests.incrementAndGet();
            response.onNext(ExportTraceServiceResponse.getDefaultInstance());
            response.onCompleted();
        }
    }

    private final class Metrics extends MetricsServiceGrpc.MetricsServiceImplBase {
        @Override
        public void export(ExportMetricsServiceRequest request,
                StreamObserver<ExportMetricsServiceResponse> response) {
            long n = 0;
            for (ResourceMetrics rm : request.getResourceMetricsList()) {
                for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                    for (Metric m : sm.getMetricsList()) {
                        n += points(m);
                    }
                }
            }
            metricPoints.addAndGet(n);
            bytes.addAndGet(request.getSerializedSize());
            requests.incrementAndGet();
            response.onNext(ExportMetricsServiceResponse.getDefaultInstance());
            response.onCompleted();
        }
    }

    private final class Logs extends LogsServiceGrpc.LogsServiceImplBase {
        @Override
        public void export(ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> response) {
            long n = 0;
            for (ResourceLogs rl : request.getResourceLogsList()) {
                for (ScopeLogs sl : rl.getScopeLogsList()) {
                    n += sl.getLogRecordsCount();
                }
            }
            logRecords.addAndGet(n);
            bytes.addAndGet(request.getSerializedSize());
            requests.incrementAndGet();
            response.onNext(ExportLogsServiceResponse.getDefaultInstance());
            response.onCompleted();
        }
    }
}
