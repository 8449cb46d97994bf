package io.periscope.core;

import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.periscope.core.testing.AgentProcess;
import io.periscope.core.testing.Commands;
import io.periscope.core.testing.Nginx;
import io.periscope.core.testing.PostgresServer;
import io.periscope.core.testing.RedisServer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** The real agent process, real nginx and curl, spans read back from the OTLP JSON file exporter. */
@Tag("kernel")
class AgentEndToEndKernelTest {
    private static final int NGINX_PORT = 18401;
    private static final int DENIED_NGINX_PORT = 18402;
    private static final int PACKET_NGINX_PORT = 18403;
    private static final int REDIS_PORT = 18404;
    private static final int RELOAD_NGINX_PORT = 18405;
    private static final int POSTGRES_PORT = 18406;
    private static final int SELF_METRICS_PORT = 18410;

    /** A span with the resource it was exported under. */
    record ExportedSpan(Span span, List<KeyValue> resource) {
        String attr(String key) {
            return AgentEndToEndKernelTest.attr(span.getAttributesList(), key);
        }

        String resourceAttr(String key) {
            return AgentEndToEndKernelTest.attr(resource, key);
        }
    }

    @Test
    void shouldExportServerAndClientSpansForCurlToNginxAndNothingForDeniedPorts(@TempDir Path dir)
            throws Exception {
        Path spansFile = dir.resolve("otlp.jsonl");
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, String.join("\n",
                "exporters:",
                "  file:",
                "    path: " + spansFile,
                "ebpf:",
                "  ports:",
                // allow goes to the in-kernel prefilter (this busy machine's other traffic stays out);
                // deny wins over allow, in the span sinks.
                "    allow: [" + NGINX_PORT + ", " + DENIED_NGINX_PORT + "]",
                "    deny: [" + DENIED_NGINX_PORT + "]",
                "packet:",
                "  interfaces: [lo]",
                "  include_loopback: true",
                "  filter: tcp port " + NGINX_PORT,
                "  block_bytes: 262144",
                "  block_count: 4",
                "self_metrics:",
                "  listen: 127.0.0.1:" + SELF_METRICS_PORT,
                ""));
        try (Nginx nginx = Nginx.start(dir.resolve("nginx"), NGINX_PORT);
                Nginx denied = Nginx.start(dir.resolve("nginx-denied"), DENIED_NGINX_PORT);
                AgentProcess agent = AgentProcess.start(config)) {
            agent.awaitRunning();
            long before = System.currentTimeMillis() * 1_000_000L;
            Commands.run("curl", "-sS", "-o", "/dev/null", "http://127.0.0.1:" + NGINX_PORT + "/users/42");
            Commands.run("curl", "-sS", "-o", "/dev/null", "http://127.0.0.1:" + denied.port() + "/secret");
            long after = System.currentTimeMillis() * 1_000_000L;

            // The file exporter batches by age: wait for the spans to reach the file.
            ExportedSpan server = await(spansFile, s -> s.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER
                    && "/users/42".equals(s.attr("url.path")), agent);
            assertThat(server.attr("http.request.method")).isEqualTo("GET");
            assertThat(server.attr("http.response.status_code")).isEqualTo("200");
            assertThat(server.attr("server.port")).isEqualTo(Integer.toString(NGINX_PORT));
            assertThat(server.span().getStartTimeUnixNano()).isBetween(before, after);
            assertThat(server.span().getEndTimeUnixNano()).isBetween(server.span().getStartTimeUnixNano(), after);
            assertThat(server.resourceAttr("process.pid")).isEqualTo(Long.toString(nginx.workerPid()));
            assertThat(server.resourceAttr("service.name")).isEqualTo("nginx");

            ExportedSpan client = await(spansFile, s -> s.span().getKind() == Span.SpanKind.SPAN_KIND_CLIENT
                    && "/users/42".equals(s.attr("url.path")), agent);
            assertThat(client.resourceAttr("process.executable.name")).isEqualTo("curl");
            assertThat(client.span().getEndTimeUnixNano() - client.span().getStartTimeUnixNano())
                    .isGreaterThanOrEqualTo(server.span().getEndTimeUnixNano() - server.span().getStartTimeUnixNano());

            // The connection's flow, closed by FIN, reaches the file as an OTLP log record.
            List<KeyValue> flow = awaitFlow(spansFile, NGINX_PORT, agent);
            assertThat(attr(flow, "network.transport")).isEqualTo("tcp");
            assertThat(attr(flow, "periscope.flow.close_type")).isEqualTo("fin");
            // IP bytes include headers and the handshake: they must cover the payload the spans counted.
            assertThat(Long.parseLong(attr(flow, "periscope.flow.bytes.client_to_server")))
                    .isGreaterThan(Long.parseLong(server.attr("periscope.request.bytes")));
            assertThat(Long.parseLong(attr(flow, "periscope.flow.bytes.server_to_client")))
                    .isGreaterThan(Long.parseLong(server.attr("periscope.response.bytes")));
            assertThat(Long.parseLong(attr(flow, "periscope.flow.packets.client_to_server")))
                    .isGreaterThanOrEqualTo(3);
            assertThat(Long.parseLong(attr(flow, "periscope.flow.packets.server_to_client")))
                    .isGreaterThanOrEqualTo(2);

            assertThat(agent.terminate()).as(agent.log()).isZero();
            assertThat(readSpans(spansFile)).as("nothing for the denied port")
                    .noneMatch(s -> "/secret".equals(s.attr("url.path")));
            assertThat(agent.log()).contains("stopped; everything queued was exported");
            // RED metrics and the agent's own counters went out too (flushed at shutdown at the latest).
            String exported = Files.readString(spansFile);
            assertThat(exported).contains("\"resourceMetrics\"").contains("http.server.request.duration")
                    .contains("\"periscope.ebpf.events\"").contains("\"periscope.packets\"");
            // Per-second endpoint metrics of nginx's port add up to what its flows carried.
            long[] flows = flowTotals(spansFile, NGINX_PORT);
            assertThat(flows[0]).as("flows to nginx").isPositive();
            assertThat(endpointSum(spansFile, "periscope.endpoint.bytes", NGINX_PORT, "in")).isEqualTo(flows[1]);
            assertThat(endpointSum(spansFile, "periscope.endpoint.bytes", NGINX_PORT, "out")).isEqualTo(flows[2]);
            assertThat(endpointSum(spansFile, "periscope.endpoint.packets", NGINX_PORT, "in")).isEqualTo(flows[3]);
            assertThat(endpointSum(spansFile, "periscope.endpoint.flows.opened", NGINX_PORT, null))
                    .isEqualTo(flows[0]);
        }
    }

    /** Flow logs of server port {@code port}: count, bytes in, bytes out, packets in (summed). */
    private static long[] flowTotals(Path file, int port) throws IOException {
        long[] t = new long[4];
        for (List<KeyValue> a : flowLogs(file, port)) {
            // Periodic records are deltas of an open flow; only its last one is final.
            if (!"ongoing".equals(attr(a, "periscope.flow.close_type"))) {
                t[0]++;
            }
            t[1] += Long.parseLong(attr(a, "periscope.flow.bytes.client_to_server"));
            t[2] += Long.parseLong(attr(a, "periscope.flow.bytes.server_to_client"));
            t[3] += Long.parseLong(attr(a, "periscope.flow.packets.client_to_server"));
        }
        return t;
    }

    /** The attributes of every flow log record in {@code file} whose server port is {@code serverPort}. */
    private static List<List<KeyValue>> flowLogs(Path file, int serverPort) throws IOException {
        List<List<KeyValue>> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file)) {
            if (!line.contains("resourceLogs")) {
                continue;
            }
            ExportLogsServiceRequest.Builder request = ExportLogsServiceRequest.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(line, request);
            for (ResourceLogs rl : request.getResourceLogsList()) {
                for (ScopeLogs sl : rl.getScopeLogsList()) {
                    for (LogRecord record : sl.getLogRecordsList()) {
                        List<KeyValue> a = record.getAttributesList();
                        if ("periscope.flow".equals(attr(a, "event.name"))
                                && Integer.toString(serverPort).equals(attr(a, "server.port"))) {
                            out.add(a);
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The sum of a delta endpoint metric's points for {@code port} (and direction, if given). */
    private static long endpointSum(Path file, String metric, int port, String direction) throws IOException {
        long sum = 0;
        for (String line : Files.readAllLines(file)) {
            if (!line.contains(metric)) {
                continue;
            }
            ExportMetricsServiceRequest.Builder request = ExportMetricsServiceRequest.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(line, request);
            for (ResourceMetrics rm : request.getResourceMetricsList()) {
                for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                    for (Metric m : sm.getMetricsList()) {
                        if (!m.getName().equals(metric)) {
                            continue;
                        }
                        assertThat(m.getSum().getAggregationTemporality())
                                .isEqualTo(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA);
                        for (NumberDataPoint p : m.getSum().getDataPointsList()) {
                            List<KeyValue> a = p.getAttributesList();
                            if (Integer.toString(port).equals(attr(a, "server.port"))
                                    && (direction == null || direction.equals(attr(a, "periscope.direction")))) {
                                sum += p.getAsInt();
                            }
                        }
                    }
                }
            }
        }
        return sum;
    }

    @Test
    void shouldParseHttpFromPacketStreamsWhenL7ParsingOfPacketsIsOn(@TempDir Path dir) throws Exception {
        Path spansFile = dir.resolve("otlp.jsonl");
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, String.join("\n",
                "exporters:",
                "  file:",
                "    path: " + spansFile,
                "ebpf:",
                "  enabled: false",
                "packet:",
                "  interfaces: [lo]",
                "  include_loopback: true",
                "  filter: tcp port " + PACKET_NGINX_PORT,
                "  l7_parsing: true",
                "  block_bytes: 262144",
                "  block_count: 4",
                "self_metrics:",
                "  listen: 127.0.0.1:0",
                ""));
        try (Nginx nginx = Nginx.start(dir.resolve("nginx"), PACKET_NGINX_PORT);
                AgentProcess agent = AgentProcess.start(config)) {
            agent.awaitRunning();
            Commands.run("curl", "-sS", "-o", "/dev/null", "http://127.0.0.1:" + nginx.port() + "/orders/7?x=1");

            ExportedSpan span = await(spansFile, s -> "/orders/7".equals(s.attr("url.path")), agent);
            assertThat(span.attr("periscope.capture")).isEqualTo("packet");
            assertThat(span.attr("http.request.method")).isEqualTo("GET");
            assertThat(span.attr("http.response.status_code")).isEqualTo("200");
            assertThat(span.attr("server.port")).isEqualTo(Integer.toString(PACKET_NGINX_PORT));
            assertThat(span.span().getEndTimeUnixNano()).isGreaterThan(span.span().getStartTimeUnixNano());
            assertThat(agent.terminate()).as(agent.log()).isZero();
        }
    }

    @Test
    void shouldExportObfuscatedRedisSpansFromRedisCli(@TempDir Path dir) throws Exception {
        Path spansFile = dir.resolve("otlp.jsonl");
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, String.join("\n",
                "exporters: {file: {path: " + spansFile + "}}",
                "ebpf: {ports: {allow: [" + REDIS_PORT + "]}}",
                "packet: {enabled: false}",
                "self_metrics: {listen: '127.0.0.1:0'}",
                ""));
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"), REDIS_PORT);
                AgentProcess agent = AgentProcess.start(config)) {
            agent.awaitRunning();
            String cli = "/usr/bin/redis-cli";
            Commands.run(cli, "-p", Integer.toString(redis.port()), "SET", "session:42", "secret-token-value");
            Commands.run(cli, "-p", Integer.toString(redis.port()), "GET", "session:42");
            Commands.run(cli, "-p", Integer.toString(redis.port()), "HGET", "not-a-hash-key", "f");

            ExportedSpan set = await(spansFile, s -> "SET".equals(s.attr("db.operation.name"))
                    && s.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER, agent);
            assertThat(set.attr("db.system.name")).isEqualTo("redis");
            assertThat(set.attr("db.query.text")).startsWith("SET session:42").doesNotContain("secret-token-value");
            assertThat(set.span().getName()).isEqualTo("redis SET");
            assertThat(set.resourceAttr("process.pid")).isEqualTo(Long.toString(redis.pid()));

            ExportedSpan get = await(spansFile, s -> "GET".equals(s.attr("db.operation.name"))
                    && s.span().getKind() == Span.SpanKind.SPAN_KIND_CLIENT, agent);
            assertThat(get.resourceAttr("process.executable.name")).isEqualTo("redis-cli");
            assertThat(get.span().getStatus().getCode()).isNotEqualTo(
                    io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
            assertThat(agent.terminate()).as(agent.log()).isZero();
            assertThat(readSpans(spansFile)).as("no redis argument after the key is ever exported")
                    .noneMatch(s -> s.span().toString().contains("secret-token-value"));
        }
    }

    @Test
    void shouldExportPostgresSpansWithLiteralsObfuscated(@TempDir Path dir) throws Exception {
        Path spansFile = dir.resolve("otlp.jsonl");
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, String.join("\n",
                "exporters: {file: {path: " + spansFile + "}}",
                "ebpf: {ports: {allow: [" + POSTGRES_PORT + "]}}",
                "packet: {enabled: false}",
                "self_metrics: {listen: '127.0.0.1:0'}",
                ""));
        try (PostgresServer pg = PostgresServer.start(POSTGRES_PORT);
                AgentProcess agent = AgentProcess.start(config)) {
            agent.awaitRunning();
            pg.psql("CREATE TABLE orders (id int, customer text)");
            pg.psql("INSERT INTO orders VALUES (42, 'alice-secret')");
            pg.psql("SELECT customer FROM orders WHERE id = 42");

            ExportedSpan select = await(spansFile, s -> s.attr("db.query.text") != null
                    && s.attr("db.query.text").startsWith("SELECT customer FROM orders")
                    && s.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER, agent);
            assertThat(select.attr("db.system.name")).isEqualTo("postgresql");
            assertThat(select.attr("db.query.text")).doesNotContain("42").contains("?");
            assertThat(select.span().getName()).startsWith("SELECT");

            await(spansFile, s -> s.attr("db.query.text") != null
                    && s.attr("db.query.text").startsWith("INSERT INTO orders"), agent);
            assertThat(agent.terminate()).as(agent.log()).isZero();
            assertThat(readSpans(spansFile)).as("no SQL literal is ever exported")
                    .noneMatch(s -> s.span().toString().contains("alice-secret"));
        }
    }

    @Test
    void shouldSwitchHttpToShallowParsingOnReloadWithoutRestarting(@TempDir Path dir) throws Exception {
        Path spansFile = dir.resolve("otlp.jsonl");
        Path config = dir.resolve("agent.yaml");
        String common = String.join("\n",
                "exporters: {file: {path: " + spansFile + "}}",
                "ebpf: {ports: {allow: [" + RELOAD_NGINX_PORT + "]}}",
                "packet: {enabled: false}",
                "self_metrics: {listen: '127.0.0.1:0'}",
                "");
        Files.writeString(config, common + "protocols: {http1: {shallow: false}}\n");
        try (Nginx nginx = Nginx.start(dir.resolve("nginx"), RELOAD_NGINX_PORT);
                AgentProcess agent = AgentProcess.start(config)) {
            agent.awaitRunning();
            String url = "http://127.0.0.1:" + nginx.port();
            Commands.run("curl", "-sS", "-o", "/dev/null", "-A", "periscope-full", url + "/before");
            ExportedSpan full = await(spansFile, s -> "/before".equals(s.attr("url.path"))
                    && s.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER, agent);
            assertThat(full.attr("user_agent.original")).isEqualTo("periscope-full");

            Files.writeString(config, common + "protocols: {http1: {shallow: true}}\n");
            agent.signal("HUP");
            assertThat(agent.awaitLog("applied reloaded config to the parse shards")).as(agent.log()).isTrue();
            // The shards pick the new engine up at their next tick (100 ms).
            Thread.sleep(500);
            Commands.run("curl", "-sS", "-o", "/dev/null", "-A", "periscope-shallow", url + "/after");
            ExportedSpan shallow = await(spansFile, s -> "/after".equals(s.attr("url.path"))
                    && s.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER, agent);
            assertThat(shallow.attr("http.request.method")).isEqualTo("GET");
            assertThat(shallow.attr("http.response.status_code")).isEqualTo("200");
            assertThat(shallow.attr("user_agent.original")).as("shallow mode keeps no User-Agent").isNull();
            assertThat(agent.log().split("running; stop with", -1)).as("started once: no restart").hasSize(2);
            assertThat(agent.log()).contains("eBPF socket tracer attached");
            assertThat(agent.terminate()).as(agent.log()).isZero();
        }
    }

    private static ExportedSpan await(Path file, Predicate<ExportedSpan> match, AgentProcess agent)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<ExportedSpan> spans = List.of();
        while (System.nanoTime() < deadline) {
            spans = readSpans(file);
            for (ExportedSpan s : spans) {
                if (match.test(s)) {
                    return s;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no matching span in " + file + " within 20 s; spans: " + spans.size()
                + "\nagent log:\n" + agent.log());
    }

    /** The attributes of the first flow log record whose server port is {@code serverPort}. */
    private static List<KeyValue> awaitFlow(Path file, int serverPort, AgentProcess agent)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            List<List<KeyValue>> flows = flowLogs(file, serverPort);
            if (!flows.isEmpty()) {
                return flows.get(0);
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no flow log for server port " + serverPort + " within 30 s\nagent log:\n"
                + agent.log());
    }

    static List<ExportedSpan> readSpans(Path file) throws IOException {
        List<ExportedSpan> spans = new ArrayList<>();
        if (!Files.exists(file)) {
            return spans;
        }
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank() || !line.contains("resourceSpans")) {
                continue;
            }
            ExportTraceServiceRequest.Builder request = ExportTraceServiceRequest.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(line, request);
            for (ResourceSpans rs : request.getResourceSpansList()) {
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                    for (Span span : ss.getSpansList()) {
                        spans.add(new ExportedSpan(span, rs.getResource().getAttributesList()));
                    }
                }
            }
        }
        return spans;
    }

    static String attr(List<KeyValue> attributes, String key) {
        for (KeyValue kv : attributes) {
            if (kv.getKey().equals(key)) {
                var v = kv.getValue();
                switch (v.getValueCase()) {
                    case STRING_VALUE:
                        return v.getStringValue();
                    case INT_VALUE:
                        return Long.toString(v.getIntValue());
                    case BOOL_VALUE:
                        return Boolean.toString(v.getBoolValue());
                    case DOUBLE_VALUE:
                        return Double.toString(v.getDoubleValue());
                    default:
                        return v.toString();
                }
            }
        }
        return null;
    }
}
