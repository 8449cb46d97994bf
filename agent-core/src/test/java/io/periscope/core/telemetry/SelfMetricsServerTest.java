package io.periscope.core.telemetry;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class SelfMetricsServerTest {
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private HttpResponse<String> get(SelfMetricsServer server, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldServeMetricsHealthAndReadiness() throws Exception {
        MetricsRegistry registry = new MetricsRegistry();
        Health health = new Health();
        ProcessMetrics.register(registry, ProcessStats.self(), "test");
        registry.counter("periscope_spans_exported_total", "Spans exported").add(5);
        try (SelfMetricsServer server = SelfMetricsServer.start("127.0.0.1", 0, registry, health)) {
            assertThat(server.port()).isPositive();

            HttpResponse<String> metrics = get(server, "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type"))
                    .hasValue("text/plain; version=0.0.4; charset=utf-8");
            assertThat(metrics.body()).contains("# TYPE periscope_spans_exported_total counter\n")
                    .contains("periscope_spans_exported_total 5\n")
                    .contains("periscope_build_info{version=\"test\"} 1\n")
                    .containsPattern("periscope_process_resident_memory_bytes [1-9][0-9]*\n")
                    .containsPattern("periscope_process_cpu_seconds_total [0-9.]+\n");

            assertThat(get(server, "/healthz").statusCode()).isEqualTo(200);
            HttpResponse<String> starting = get(server, "/readyz");
            assertThat(starting.statusCode()).isEqualTo(503);
            assertThat(starting.body()).isEqualTo("not ready: starting\n");

            health.markReady();
            assertThat(get(server, "/readyz").statusCode()).isEqualTo(200);
            health.markNotReady("stopping");
            assertThat(get(server, "/readyz").body()).isEqualTo("not ready: stopping\n");

            health.markFailed("exporter thread died");
            assertThat(get(server, "/healthz").statusCode()).isEqualTo(503);
            assertThat(get(server, "/nope").statusCode()).isEqualTo(404);
        }
    }
}
