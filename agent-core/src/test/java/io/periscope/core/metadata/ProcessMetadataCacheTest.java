package io.periscope.core.metadata;

import io.periscope.core.metadata.kubernetes.ContainerMetadata;
import io.periscope.core.metadata.kubernetes.PodDirectory;
import io.periscope.core.metadata.kubernetes.PodMetadata;
import io.periscope.core.telemetry.MetricsRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessMetadataCacheTest {
    private static final String ID = "3f1c2a7b9e8d4c5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b";
    private static final long BOOT_EPOCH_SECONDS = 1_700_000_000L;

    @TempDir
    Path proc;

    private final MetricsRegistry registry = new MetricsRegistry();

    private void process(int pid, String comm, String exe, String cmdline, long startTicks, String cgroup,
                         String environ) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("comm"), comm + "\n");
        Files.writeString(dir.resolve("cmdline"), cmdline.replace(' ', '\0') + "\0");
        Files.writeString(dir.resolve("stat"), pid + " (" + comm + ") S 1 1 1 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 "
                + startTicks + " 1000 100 0");
        Files.writeString(dir.resolve("cgroup"), cgroup);
        Files.writeString(dir.resolve("environ"), environ.replace(' ', '\0'));
        Files.deleteIfExists(dir.resolve("exe"));
        Files.createSymbolicLink(dir.resolve("exe"), Path.of(exe));
    }

    private ProcessMetadataCache cache(int capacity, Map<String, String> names) throws IOException {
        Files.writeString(proc.resolve("stat"), "cpu 1 2 3\nbtime " + BOOT_EPOCH_SECONDS + "\nprocesses 5\n");
        return new ProcessMetadataCache(proc, capacity, names, registry);
    }

    @Test
    void shouldReadNamesCommandLineStartTimeAndContainer() throws IOException {
        process(100, "nginx", "/usr/sbin/nginx", "nginx: master process /usr/sbin/nginx", 250,
                "0::/system.slice/docker-" + ID + ".scope\n", "PATH=/bin HOME=/root");
        ProcessInfo info = cache(16, Map.of()).lookup(100);
        assertThat(info.pid()).isEqualTo(100);
        assertThat(info.comm()).isEqualTo("nginx");
        assertThat(info.executable()).isEqualTo("/usr/sbin/nginx");
        assertThat(info.commandLine()).isEqualTo("nginx: master process /usr/sbin/nginx");
        assertThat(info.startTimeTicks()).isEqualTo(250);
        assertThat(info.startTime()).isEqualTo(Instant.ofEpochSecond(BOOT_EPOCH_SECONDS).plusMillis(2500));
        assertThat(info.container()).isEqualTo(new ContainerId("docker", ID));
        assertThat(info.serviceName()).isEqualTo("nginx");
    }

    @Test
    void shouldDeriveServiceNameFromConfigThenEnvironmentThenExecutable() throws IOException {
        process(1, "python3", "/usr/bin/python3.11", "python3 app.py", 1, "0::/\n", "OTEL_SERVICE_NAME=checkout");
        process(2, "python3", "/usr/bin/python3.11", "python3 other.py", 1, "0::/\n", "HOME=/");
        process(3, "redis-server", "/usr/bin/redis-server", "redis-server *:6379", 1, "0::/\n", "");
        ProcessMetadataCache cache = cache(16, Map.of("redis-server", "sessions"));
        assertThat(cache.lookup(1).serviceName()).isEqualTo("checkout");
        assertThat(cache.lookup(2).serviceName()).isEqualTo("python3.11");
        assertThat(cache.lookup(3).serviceName()).isEqualTo("sessions");
        assertThat(cache.lookup(1).container()).isNull();

        // Started through a link to another binary (Debian's redis-server links to redis-check-rdb):
        // the name it was started by wins.
        process(4, "valkey-server", "/usr/bin/valkey-check-rdb", "/usr/bin/valkey-server 127.0.0.1:6379", 1,
                "0::/\n", "");
        assertThat(cache.lookup(4).serviceName()).isEqualTo("valkey-server");
        // A comm cut at 15 bytes takes the whole name from argv[0].
        process(5, "inventory-servi", "/opt/bin/launcher", "/srv/inventory-service --port 1", 1, "0::/\n", "");
        assertThat(cache.lookup(5).serviceName()).isEqualTo("inventory-service");

        cache.updateServiceNames(Map.of("python3", "batch"));
        assertThat(cache.lookup(1).serviceName()).isEqualTo("batch");
    }

    @Test
    void shouldReturnNullForAProcessThatDoesNotExist() throws IOException {
        ProcessMetadataCache cache = cache(16, Map.of());
        assertThat(cache.lookup(4242)).isNull();
        assertThat(registry.value("periscope_metadata_lookups_total", "result", "absent")).isEqualTo(1.0);
        assertThat(cache.size()).isZero();
    }

    @Test
    void shouldEvictTheLeastRecentlyUsedAndCountIt() throws IOException {
        for (int pid = 1; pid <= 3; pid++) {
            process(pid, "p" + pid, "/bin/p" + pid, "p" + pid, 1, "0::/\n", "");
        }
        ProcessMetadataCache cache = cache(2, Map.of());
        cache.lookup(1);
        cache.lookup(2);
        cache.lookup(1);
        cache.lookup(3);
        assertThat(cache.size()).isEqualTo(2);
        assertThat(registry.value("periscope_metadata_evictions_total")).isEqualTo(1.0);
        cache.lookup(1);
        assertThat(registry.value("periscope_metadata_lookups_total", "result", "hit")).isEqualTo(2.0);
        cache.lookup(2);
        assertThat(registry.value("periscope_metadata_lookups_total", "result", "miss")).isEqualTo(4.0);
    }

    @Test
    void shouldRereadAfterExecAndForgetAfterExit() throws IOException {
        process(7, "bash", "/usr/bin/bash", "bash -c x", 1, "0::/\n", "");
        ProcessMetadataCache cache = cache(16, Map.of());
        assertThat(cache.lookup(7).comm()).isEqualTo("bash");

        process(7, "curl", "/usr/bin/curl", "curl http://localhost/", 1, "0::/\n", "");
        assertThat(cache.lookup(7).comm()).as("cached until told").isEqualTo("bash");
        cache.onExec(7);
        assertThat(cache.lookup(7).comm()).isEqualTo("curl");
        assertThat(cache.lookup(7).commandLine()).isEqualTo("curl http://localhost/");

        cache.onExit(7);
        assertThat(cache.size()).isZero();
    }

    @Test
    void shouldDescribeARealChildProcessAndForgetItAfterExit() throws Exception {
        ProcessBuilder builder = new ProcessBuilder("sleep", "30");
        builder.environment().put("OTEL_SERVICE_NAME", "demo-sleeper");
        Process child = builder.start();
        try {
            ProcessMetadataCache cache = new ProcessMetadataCache(Path.of("/proc"), 16, Map.of(), registry);
            ProcessInfo info = cache.lookup((int) child.pid());
            assertThat(info.comm()).isEqualTo("sleep");
            assertThat(info.commandLine()).isEqualTo("sleep 30");
            assertThat(info.executable()).endsWith("/sleep");
            assertThat(info.serviceName()).isEqualTo("demo-sleeper");

            child.destroy();
            child.waitFor();
            assertThat(cache.lookup((int) child.pid())).as("cached until the exit notification").isEqualTo(info);
            cache.onExit((int) child.pid());
            assertThat(cache.lookup((int) child.pid())).isNull();
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void shouldDescribeThisJvmFromTheRealProcfs() {
        ProcessMetadataCache cache = new ProcessMetadataCache(Path.of("/proc"), 16, Map.of(), registry);
        int pid = (int) ProcessHandle.current().pid();
        ProcessInfo self = cache.lookup(pid);
        assertThat(self.executable()).endsWith("/java");
        assertThat(self.serviceName()).isEqualTo("java");
        assertThat(self.startTime()).isBefore(Instant.now()).isAfter(Instant.now().minusSeconds(24L * 3600 * 365));
    }

    @Test
    void shouldMapAContainerdProcessToItsPodWithNamesAPersonChoseStillWinning() throws IOException {
        process(10, "nginx", "/usr/sbin/nginx", "nginx: worker process", 1,
                "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b5e7c2a.slice/cri-containerd-"
                        + ID + ".scope\n", "HOME=/");
        process(11, "nginx", "/usr/sbin/nginx", "nginx: worker process", 1,
                "0::/kubepods.slice/cri-containerd-" + ID + ".scope\n", "OTEL_SERVICE_NAME=edge");
        process(12, "nginx", "/usr/sbin/nginx", "nginx: worker process", 1, "0::/system.slice/nginx.service\n", "");
        ProcessMetadataCache cache = cache(16, Map.of());
        assertThat(cache.pod(cache.lookup(10))).as("Kubernetes metadata off").isNull();
        assertThat(cache.podVersion()).isZero();

        PodDirectory pods = new PodDirectory(16, 1_000);
        cache.kubernetes(pods);
        pods.upsert(new PodMetadata("uid-1", "shop", "web-1", "node-1", "10.0.0.5", false, "web",
                Map.of(ID, "nginx"), Map.of("k8s.pod.name", "web-1", "k8s.namespace.name", "shop")));
        assertThat(cache.podVersion()).isPositive();

        ProcessInfo inPod = cache.lookup(10);
        ContainerMetadata pod = cache.pod(inPod);
        assertThat(pod.resourceAttributes()).containsEntry("k8s.pod.name", "web-1")
                .containsEntry("k8s.container.name", "nginx");
        assertThat(ProcessMetadataCache.serviceName(inPod, pod)).isEqualTo("web");
        // OTEL_SERVICE_NAME is a person's choice: it outranks the pod's labels.
        ProcessInfo named = cache.lookup(11);
        assertThat(ProcessMetadataCache.serviceName(named, cache.pod(named))).isEqualTo("edge");
        ProcessInfo onHost = cache.lookup(12);
        assertThat(cache.pod(onHost)).isNull();
        assertThat(ProcessMetadataCache.serviceName(onHost, null)).isEqualTo("nginx");

        cache.updateServiceNames(Map.of("nginx", "frontdoor"));
        ProcessInfo configured = cache.lookup(10);
        assertThat(ProcessMetadataCache.serviceName(configured, cache.pod(configured))).isEqualTo("frontdoor");
    }
}
