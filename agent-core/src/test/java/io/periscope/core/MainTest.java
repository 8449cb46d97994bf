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
import java.util.List;
import java.util.concurrent.TimeUnit;

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
    }

    @Test
    void shouldStopCleanlyWithExitZeroOnSigterm() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process agent = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "run"))
                .redirectErrorStream(true)
                .start();
        StringBuffer log = new StringBuffer();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    log.append(line).append('\n');
                }
            } catch (IOException e) {
                log.append("reader: ").append(e).append('\n');
            }
        });
        reader.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!log.toString().contains("running; stop with Ctrl-C or SIGTERM") && System.nanoTime() < deadline
                    && agent.isAlive()) {
                Thread.sleep(20);
            }
            assertThat(log.toString()).as("agent reached its running state").contains("running; stop with");

            // A real SIGTERM, as systemd and kubelet send it (Process.destroy() would also close our pipes).
            new ProcessBuilder("kill", "-TERM", Long.toString(agent.pid())).inheritIO().start().waitFor();

            assertThat(agent.waitFor(30, TimeUnit.SECONDS)).as("agent exited").isTrue();
            reader.join(5_000);
            assertThat(agent.exitValue()).as(log.toString()).isZero();
            assertThat(log.toString()).contains("stopping").contains("stopped");
        } finally {
            agent.destroyForcibly();
        }
    }
}
