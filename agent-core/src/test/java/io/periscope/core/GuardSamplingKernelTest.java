package io.periscope.core;

import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.Span;
import io.periscope.core.testing.AgentProcess;
import io.periscope.core.testing.Commands;
import io.periscope.core.testing.Nginx;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guard level 2 in the real agent: a CPU budget no agent can keep forces the guard up, capped at
 * level 2 by {@code max_level}; nginx serves a known number of requests; the spans exported are
 * about the keep ratio of them while the RED metrics count every one; lowering {@code max_level}
 * by reload steps the guard down and every request is a span again.
 */
@Tag("kernel")
class GuardSamplingKernelTest {
    private static final int NGINX_PORT = 18420;
    private static final int SELF_METRICS_PORT = 18421;
    private static final int SAMPLED_REQUESTS = 2000;
    private static final int FULL_REQUESTS = 200;
    private static final double KEEP_RATIO = 0.25;

    private static String config(Path spansFile, int maxLevel) {
        return String.join("\n",
                "exporters: {file: {path: " + spansFile + "}}",
                "ebpf: {ports: {allow: [" + NGINX_PORT + "]}}",
                "packet: {enabled: false}",
                "self_metrics: {listen: '127.0.0.1:" + SELF_METRICS_PORT + "'}",
                "limits:",
                // A budget even the idle agent exceeds: the guard sheds a level per 100 ms sample.
                "  max_cpu_cores: 0.001",
                "  guard: {sample_interval: 100ms, shed_after_samples: 1, recover_after_samples: 3600,",
                "          sample_keep_ratio: " + KEEP_RATIO + ", max_level: " + maxLevel + "}",
                "");
    }

    @Test
    void shouldSampleSpansButCountEveryRequestAtLevelTwoAndStopSamplingWhenTheLevelFalls(@TempDir Path dir)
            throws Exception {
        Path spansFile = dir.resolve("otlp.jsonl");
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, config(spansFile, 2));
        try (Nginx nginx = Nginx.start(dir.resolve("nginx"), NGINX_PORT);
                AgentProcess agent = AgentProcess.start(config)) {
            agent.awaitRunning();
            assertThat(agent.awaitLog("level 1 -> 2")).as(agent.log()).isTrue();
            // The guard logs a step before it tells the pipelines; the shards switch at their next tick.
            Thread.sleep(500);
            String base = "http://127.0.0.1:" + nginx.port();
            // One curl, one keep-alive connection: a SERVER (nginx) and a CLIENT (curl) log per request.
            Counters start = Counters.scrape();
            Commands.run("curl", "-sS", base + "/sampled/x?[1-" + SAMPLED_REQUESTS + "]");
            Counters sampled = Counters.awaitSinksSaw(start, 2L * SAMPLED_REQUESTS);
            double kept = (double) (sampled.offered - start.offered) / (2.0 * SAMPLED_REQUESTS);
            assertThat(kept).as("share of request logs handed over as spans at level 2")
                    .isBetween(KEEP_RATIO - 0.07, KEEP_RATIO + 0.07);

            Files.writeString(config, config(spansFile, 1));
            agent.signal("HUP");
            assertThat(agent.awaitLog("level 2 -> 1")).as(agent.log()).isTrue();
            Thread.sleep(500);
            Counters beforeFull = Counters.scrape();
            Commands.run("curl", "-sS", base + "/full/x?[1-" + FULL_REQUESTS + "]");
            Counters full = Counters.awaitSinksSaw(beforeFull, 2L * FULL_REQUESTS);
            assertThat(full.sampledOut).as("back at level 1: nothing sampled out").isEqualTo(beforeFull.sampledOut);
            // SIGTERM drains the shards and flushes the exporter: every span and metric is in the file.
            assertThat(agent.terminate()).as(agent.log()).isZero();

            // The file exporter may itself drop spans when its queue is full (counted): exported
            // spans plus those drops account for every span handed over.
            long sampledSpans = serverSpans(spansFile, "/sampled/x");
            assertThat(sampledSpans + (sampled.exportDropped - start.exportDropped))
                    .as("exported at level 2, keep ratio %s of %s", KEEP_RATIO, SAMPLED_REQUESTS)
                    .isGreaterThanOrEqualTo((long) (SAMPLED_REQUESTS * (KEEP_RATIO - 0.07)));
            assertThat(sampledSpans).isGreaterThan(0)
                    .isLessThanOrEqualTo((long) (SAMPLED_REQUESTS * (KEEP_RATIO + 0.07)));
            assertThat(serverRequestCount(spansFile, nginx.workerPid(), "/sampled"))
                    .as("RED metrics count every request").isEqualTo(SAMPLED_REQUESTS);
            assertThat(serverSpans(spansFile, "/full/x") + (full.exportDropped - beforeFull.exportDropped))
                    .as("back at level 1: every request a span").isGreaterThanOrEqualTo(FULL_REQUESTS);
            assertThat(serverRequestCount(spansFile, nginx.workerPid(), "/full")).isEqualTo(FULL_REQUESTS);
        }
    }

    /** The span sinks' counters, scraped from the agent's /metrics. */
    private record Counters(long offered, long sampledOut, long exportDropped) {
        private static final HttpClient CLIENT = HttpClient.newHttpClient();

        static Counters scrape() throws IOException, InterruptedException {
            String body = CLIENT.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + SELF_METRICS_PORT + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            return new Counters(value(body, "periscope_spans_offered_total"),
                    value(body, "periscope_spans_sampled_out_total"),
                    value(body, "periscope_pipeline_dropped_total{stage=\"export_queue\"}"));
        }

        private static long value(String body, String series) {
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\d+)").matcher(body);
            if (!m.find()) {
                throw new AssertionError(series + " missing from /metrics:\n" + body);
            }
            return Long.parseLong(m.group(1));
        }

        /** Waits (bounded) until the sinks saw {@code logs} more request logs (offered or sampled out). */
        static Counters awaitSinksSaw(Counters since, long logs) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + 20_000_000_000L;
            Counters now = scrape();
            while (now.offered + now.sampledOut - since.offered - since.sampledOut < logs) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the sinks saw " + (now.offered + now.sampledOut - since.offered
                            - since.sampledOut) + " request logs within 20 s, expected " + logs);
                }
                Thread.sleep(100);
                now = scrape();
            }
            return now;
        }
    }

    private static long serverSpans(Path file, String path) throws IOException {
        return AgentEndToEndKernelTest.readSpans(file).stream()
                .filter(s -> s.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER && path.equals(s.attr("url.path")))
                .count();
    }

    /**
     * The request count of nginx's {@code http.server.request.duration} series whose route starts
     * with {@code routePrefix}. The metrics are cumulative and an export may be split over several
     * lines (and a process over several resources): the largest count of each series, summed.
     */
    private static long serverRequestCount(Path file, long nginxPid, String routePrefix) throws IOException {
        Map<String, Long> bySeries = new HashMap<>();
        for (String json : Files.readAllLines(file)) {
            if (!json.contains("resourceMetrics")) {
                continue;
            }
            ExportMetricsServiceRequest.Builder request = ExportMetricsServiceRequest.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(json, request);
            for (ResourceMetrics rm : request.getResourceMetricsList()) {
                if (!Long.toString(nginxPid).equals(
                        AgentEndToEndKernelTest.attr(rm.getResource().getAttributesList(), "process.pid"))) {
                    continue;
                }
                for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                    for (Metric metric : sm.getMetricsList()) {
                        if (!metric.getName().equals("http.server.request.duration")) {
                            continue;
                        }
                        for (HistogramDataPoint point : metric.getHistogram().getDataPointsList()) {
                            String route = AgentEndToEndKernelTest.attr(point.getAttributesList(), "http.route");
                            if (route != null && route.startsWith(routePrefix)) {
                                String series = rm.getResource().getAttributesList() + "|" + point.getAttributesList();
                                bySeries.merge(series, point.getCount(), Math::max);
                            }
                        }
                    }
                }
            }
        }
        return bySeries.values().stream().mapToLong(Long::longValue).sum();
    }
}
