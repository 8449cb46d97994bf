package io.periscope.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

    /** A real agent process with its output collected, for the lifecycle tests. */
    private static final class AgentProcess implements AutoCloseable {
        final Process process;
        final StringBuffer log = new StringBuffer();
        private final Thread reader;

        AgentProcess(String... runArgs) throws IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "run"));
            command.addAll(List.of(runArgs));
            // Lifecycle only: no kernel sources (this is not a kernel test) and no writes outside a temp dir.
            Path exportFile = Files.createTempFile("periscope-maintest", ".jsonl");
            exportFile.toFile().deleteOnExit();
            command.addAll(List.of("--set", "ebpf.enabled=false", "--set", "packet.enabled=false",
                    "--set", "exporters.file.path=" + exportFile));
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
            reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        log.append(line).append('\n');
                    }
                } catch (IOException e) {
                    log.append("reader: ").append(e).append('\n');
                }
            });
            reader.start();
        }

        /** Waits (bounded) until the log contains {@code text}; returns whether it did. */
        boolean awaitLog(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!log.toString().contains(text) && System.nanoTime() < deadline && process.isAlive()) {
                Thread.sleep(20);
            }
            return log.toString().contains(text);
        }

        void signal(String name) throws IOException, InterruptedException {
            // A real signal, as systemd and kubelet send it (Process.destroy() would also close our pipes).
            new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
        }

        int awaitExit() throws InterruptedException {
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("agent exited").isTrue();
            reader.join(5_000);
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    @Test
    void shouldStopCleanlyWithExitZeroOnSigterm() throws Exception {
        try (AgentProcess agent = new AgentProcess("--set", "self_metrics.listen=127.0.0.1:0")) {
            assertThat(agent.awaitLog("running; stop with Ctrl-C or SIGTERM")).as(agent.log.toString()).isTrue();
            agent.signal("TERM");
            assertThat(agent.awaitExit()).as(agent.log.toString()).isZero();
            assertThat(agent.log.toString()).contains("stopping").contains("stopped");
        }
    }

    @Test
    void shouldServeSelfMetricsAndReloadOnSighup(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, "self_metrics: {listen: '127.0.0.1:0'}\nprotocols: {http1: {shallow: false}}\n");
        try (AgentProcess agent = new AgentProcess("--config", config.toString())) {
            assertThat(agent.awaitLog("running; stop with")).as(agent.log.toString()).isTrue();
            Matcher address = Pattern.compile("self-metrics on (http://127\\.0\\.0\\.1:\\d+)/metrics")
                    .matcher(agent.log.toString());
            assertThat(address.find()).as(agent.log.toString()).isTrue();
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
            assertThat(agent.awaitLog("changed [protocols.http1.shallow]")).as(agent.log.toString()).isTrue();

            Files.writeString(config, "protocols: {http1: {shallow: nope}}\n");
            agent.signal("HUP");
            assertThat(agent.awaitLog("config reload rejected")).as(agent.log.toString()).isTrue();
            assertThat(agent.log.toString()).contains("protocols.http1.shallow: expected true or false");

            agent.signal("TERM");
            assertThat(agent.awaitExit()).as(agent.log.toString()).isZero();
        }
    }
}
