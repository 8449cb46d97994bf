package io.periscope.core.config;

import io.periscope.core.AgentConfig;
import io.periscope.core.ConfigException;
import io.periscope.protocols.L7Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigWatcherTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("agent.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void shouldNotifyListenersWhenTheFileChanges() throws Exception {
        Path file = write("protocols:\n  http1: {shallow: false}\n");
        BlockingQueue<AgentConfig> seen = new LinkedBlockingQueue<>();
        try (ConfigWatcher watcher = new ConfigWatcher(ConfigLoader.load(file, List.of()), List.of())) {
            watcher.onChange(seen::add);
            watcher.start();
            Files.writeString(file, "protocols:\n  http1: {shallow: true}\n");
            // Bounded wait for the watch thread; not a timing assertion.
            AgentConfig reloaded = seen.poll(30, TimeUnit.SECONDS);
            assertThat(reloaded).as("a reload after the file changed").isNotNull();
            assertThat(reloaded.protocol(L7Protocol.HTTP1).shallow()).isTrue();
            assertThat(watcher.current()).isEqualTo(reloaded);
        }
    }

    @Test
    void shouldLookAtTheFileAtMostOncePerIntervalWhateverElseIsWritten() throws Exception {
        // The directory watch woke the agent on every write of a log beside its config (~6,500/s in
        // bench B). Bound: one look per interval; a busier directory must not make it look more.
        Path file = write("protocols:\n  http1: {shallow: false}\n");
        long pollMillis = 50;
        try (ConfigWatcher watcher = new ConfigWatcher(ConfigLoader.load(file, List.of()), List.of(), pollMillis)) {
            long started = System.nanoTime();
            watcher.start();
            for (int i = 0; i < 20_000; i++) {
                Files.writeString(dir.resolve("agent.log"), "line " + i + "\n");
            }
            long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
            assertThat(watcher.checks()).isLessThanOrEqualTo(elapsedMillis / pollMillis + 1);
            assertThat(watcher.current().protocol(L7Protocol.HTTP1).shallow()).isFalse();
        }
    }

    @Test
    void shouldSeeAKubernetesConfigMapSwap() throws Exception {
        // The kubelet writes a new ..timestamp directory and renames a fresh ..data symlink over the
        // old one; agent.yaml itself is a symlink to ..data/agent.yaml and never changes.
        Path first = Files.createDirectory(dir.resolve("..2026_11_22_1"));
        Files.writeString(first.resolve("agent.yaml"), "protocols:\n  http1: {shallow: false}\n");
        Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
        Path file = Files.createSymbolicLink(dir.resolve("agent.yaml"), Path.of("..data", "agent.yaml"));
        BlockingQueue<AgentConfig> seen = new LinkedBlockingQueue<>();
        try (ConfigWatcher watcher = new ConfigWatcher(ConfigLoader.load(file, List.of()), List.of(), 50)) {
            watcher.onChange(seen::add);
            watcher.start();
            Path second = Files.createDirectory(dir.resolve("..2026_11_22_2"));
            Files.writeString(second.resolve("agent.yaml"), "protocols:\n  http1: {shallow: true}\n");
            Path swap = Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
            Files.move(swap, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            AgentConfig reloaded = seen.poll(30, TimeUnit.SECONDS);
            assertThat(reloaded).as("a reload after the ..data swap").isNotNull();
            assertThat(reloaded.protocol(L7Protocol.HTTP1).shallow()).isTrue();
        }
    }

    @Test
    void shouldStillReloadAfterWritesToOtherFiles() throws Exception {
        Path file = write("protocols:\n  http1: {shallow: false}\n");
        BlockingQueue<AgentConfig> seen = new LinkedBlockingQueue<>();
        try (ConfigWatcher watcher = new ConfigWatcher(ConfigLoader.load(file, List.of()), List.of())) {
            watcher.onChange(seen::add);
            watcher.start();
            for (int i = 0; i < 20; i++) {
                Files.writeString(dir.resolve("agent.log"), "line " + i + "\n");
            }
            Files.writeString(file, "protocols:\n  http1: {shallow: true}\n");
            AgentConfig reloaded = seen.poll(30, TimeUnit.SECONDS);
            assertThat(reloaded).as("a reload after the config itself changed").isNotNull();
            assertThat(reloaded.protocol(L7Protocol.HTTP1).shallow()).isTrue();
        }
    }

    @Test
    void shouldKeepTheRunningConfigWhenTheNewFileIsInvalid() throws Exception {
        Path file = write("logging: {level: info}\n");
        AgentConfig initial = ConfigLoader.load(file, List.of());
        try (ConfigWatcher watcher = new ConfigWatcher(initial, List.of())) {
            BlockingQueue<AgentConfig> seen = new LinkedBlockingQueue<>();
            watcher.onChange(seen::add);
            Files.writeString(file, "logging: {levle: debug}\n");
            assertThat(watcher.reload()).isFalse();
            assertThat(watcher.current()).isSameAs(initial);
            assertThat(seen).isEmpty();

            Files.writeString(file, "logging: {level: debug}\n");
            assertThat(watcher.reload()).isTrue();
            assertThat(seen).hasSize(1);
            assertThat(watcher.current().logging().level()).isEqualTo(LogLevel.DEBUG);
        }
    }

    @Test
    void shouldKeepRestartOnlyKeysAndApplyTheRest() throws Exception {
        Path file = write("pipeline: {shards: 2}\nexporters: {otlp: {endpoint: 'a:4317'}}\n");
        try (ConfigWatcher watcher = new ConfigWatcher(ConfigLoader.load(file, List.of()), List.of())) {
            Files.writeString(file, "pipeline: {shards: 4}\nexporters: {otlp: {endpoint: 'b:4317'}}\n");
            assertThat(watcher.reload()).isTrue();
            assertThat(watcher.current().pipeline().shards()).isEqualTo(2);
            assertThat(watcher.current().exporters().otlp().endpoint()).isEqualTo("b:4317");

            Files.writeString(file, "pipeline: {shards: 8}\nexporters: {otlp: {endpoint: 'b:4317'}}\n");
            assertThat(watcher.reload()).as("only a restart-only key changed").isFalse();
            assertThat(watcher.current().pipeline().shards()).isEqualTo(2);
        }
    }

    @Test
    void shouldReapplySetOverridesOnReload() throws IOException, ConfigException {
        Path file = write("ebpf: {ports: {deny: [22]}}\n");
        List<String> overrides = List.of("logging.json=true");
        try (ConfigWatcher watcher = new ConfigWatcher(ConfigLoader.load(file, overrides), overrides)) {
            Files.writeString(file, "ebpf: {ports: {deny: [22, 2222]}}\n");
            assertThat(watcher.reload()).isTrue();
            assertThat(watcher.current().logging().json()).isTrue();
            assertThat(watcher.current().ebpf().ports().deny()).containsExactly(PortRange.of(22), PortRange.of(2222));
        }
    }

    @Test
    void shouldClassifyRestartOnlyKeys() {
        assertThat(ConfigWatcher.restartOnly("pipeline.shards")).isTrue();
        assertThat(ConfigWatcher.restartOnly("ebpf.payload_bytes")).isTrue();
        assertThat(ConfigWatcher.restartOnly("ebpf.ports.allow")).isFalse();
        assertThat(ConfigWatcher.restartOnly("protocols.http1.shallow")).isFalse();
        assertThat(ConfigWatcher.restartOnly("self_metrics.listen")).isTrue();
    }
}
