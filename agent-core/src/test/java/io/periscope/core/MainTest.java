package io.periscope.core;

import io.periscope.core.testing.AgentProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int execute(String... args) {
        return Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shouldPrintVersion() {
        assertThat(execute("version")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("periscope ");
    }

    @Test
    void shouldRejectUnknownCommandWithUsage() {
        assertThat(execute("frobnicate")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown command 'frobnicate'").contains("usage:");
    }

    @Test
    void shouldReportKernelFacilitiesOnCheck() {
        assertThat(execute("check")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("kernel ").contains("BTF: ");
    }

    @Test
    void shouldRejectMissingConfigFileWithExitCode2() {
        assertThat(execute("run", "--config", "/nonexistent/agent.yaml")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("/nonexistent/agent.yaml: no such file");
    }

    @Test
    void shouldRejectMalformedYamlNamingTheLine(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, "exporters:\n  otlp:\n    endpoint: [unclosed\n");
        assertThat(execute("run", "--config", config.toString())).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains(config + ":").contains("invalid YAML");
    }

    @Test
    void shouldValidateAndPrintEffectiveConfigOnDryRun(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, "exporters:\n  otlp:\n    endpoint: collector:4317\n");
        assertThat(execute("run", "--config", config.toString(), "--set", "ebpf.payload_bytes=2048", "--dry-run"))
                .isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("endpoint: collector:4317")
                .contains("payload_bytes: 2048").contains("max_memory_mb: 768");
    }

    @Test
    void shouldRejectUnknownKeyWithExitCode2NamingKeyAndLine(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, "ebpf:\n  payload_bytes: 512\n  payload_byts: 2048\n");
        assertThat(execute("run", "--config", config.toString(), "--dry-run")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains(config + ":3: ebpf.payload_byts: unknown key; did you mean 'payload_bytes'?");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void shouldRejectKubernetesEnabledWithoutATokenWithExitCode2NamingTheKey() {
        assertThat(execute("run", "--dry-run", "--set", "metadata.kubernetes.enabled=true",
                "--set", "metadata.kubernetes.api_server=https://127.0.0.1:18399",
                "--set", "metadata.kubernetes.token_path=/nonexistent/token")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("metadata.kubernetes.token_path")
                .contains("/nonexistent/token").doesNotContain("Exception");
    }

    @Test
    void shouldPrintOneEffectiveValueForTheLauncher() {
        assertThat(execute("config-get", "limits.max_memory_mb")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("768\n");
        out.reset();
        assertThat(execute("config-get", "limits.max_memory_mb", "--set", "limits.max_memory_mb=2048")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("2048\n");
        assertThat(execute("config-get", "limits.max_memory")).isEqualTo(2);
        out.reset();
        assertThat(execute("config-get", "exporters.file", "--set", "exporters.file.max_files=3")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(String.join("\n",
                "path: /var/log/periscope/otlp.jsonl", "max_bytes: 104857600", "max_files: 3", "always: false", ""));
    }

    @Test
    void shouldStopCleanlyWithExitZeroOnSigterm() throws Exception {
        try (AgentProcess agent = AgentProcess.startWithoutKernel("--set", "self_metrics.listen=127.0.0.1:0")) {
            assertThat(agent.awaitLog("running; stop with Ctrl-C or SIGTERM")).as(agent.log()).isTrue();
            agent.signal("TERM");
            assertThat(agent.awaitExit()).as(agent.log()).isZero();
            assertThat(agent.log()).contains("stopping").contains("stopped");
        }
    }

    @Test
    void shouldServeSelfMetricsAndReloadOnSighup(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, "self_metrics: {listen: '127.0.0.1:0'}\nprotocols: {http1: {shallow: false}}\n");
        try (AgentProcess agent = AgentProcess.startWithoutKernel("--config", config.toString())) {
            assertThat(agent.awaitLog("running; stop with")).as(agent.log()).isTrue();
            Matcher address = Pattern.compile("self-metrics on (http://127\\.0\\.0\\.1:\\d+)/metrics")
                    .matcher(agent.log());
            assertThat(address.find()).as(agent.log()).isTrue();
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> metrics = client.send(HttpRequest.newBuilder(URI.create(address.group(1) + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("periscope_guard_level 0\n")
                    .contains("periscope_process_resident_memory_bytes ")
                    .contains("periscope_metadata_cached_processes ");

            // Rewrite in place and signal: the reload must come from the file, whichever trigger fires first.
            Files.writeString(config, "self_metrics: {listen: '127.0.0.1:0'}\nprotocols: {http1: {shallow: true}}\n");
            agent.signal("HUP");
            assertThat(agent.awaitLog("changed [protocols.http1.shallow]")).as(agent.log()).isTrue();

            Files.writeString(config, "protocols: {http1: {shallow: nope}}\n");
            agent.signal("HUP");
            assertThat(agent.awaitLog("config reload rejected")).as(agent.log()).isTrue();
            assertThat(agent.log()).contains("protocols.http1.shallow: expected true or false");

            agent.signal("TERM");
            assertThat(agent.awaitExit()).as(agent.log()).isZero();
        }
    }
}
