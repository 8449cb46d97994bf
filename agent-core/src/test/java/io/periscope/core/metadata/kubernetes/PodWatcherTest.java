package io.periscope.core.metadata.kubernetes;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.periscope.core.testing.KubernetesApiServer;
import io.periscope.core.testing.KubernetesApiServer.WatchScript;
import io.periscope.core.telemetry.MetricsRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** The watcher against an HTTPS server that speaks the API's list/watch protocol. */
class PodWatcherTest {
    private static final long WAIT_SECONDS = 30;
    private static final String NODE = "node-1";

    /** The server's key, made once for the class. */
    @TempDir
    static Path keys;

    private final MetricsRegistry metrics = new MetricsRegistry();
    private final PodDirectory directory = new PodDirectory(64, Duration.ofMinutes(2).toNanos());
    private PodWatcher watcher;

    @AfterEach
    void stop() {
        if (watcher != null) {
            watcher.close();
        }
    }

    private PodWatcher start(KubernetesApiServer server, Path token, Path ca, Duration tokenRefresh) {
        KubernetesEndpoint endpoint = new KubernetesEndpoint(URI.create(server.url()), token, ca, NODE);
        watcher = new PodWatcher(endpoint, directory, tokenRefresh, Duration.ofSeconds(10), Duration.ofSeconds(300),
                Duration.ofMillis(500), metrics);
        watcher.start();
        return watcher;
    }

    private static Path token(Path dir, String value) throws Exception {
        Path file = dir.resolve("token");
        Files.writeString(file, value + "\n");
        return file;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited for " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static List<String> lines(String resource) throws Exception {
        return PodJsonTest.resource(resource).lines().toList();
    }

    @Test
    void shouldListThisNodesPodsThenApplyWatchEvents(@TempDir Path dir) throws Exception {
        try (KubernetesApiServer server = KubernetesApiServer.start(keys)) {
            server.queueList(PodJsonTest.resource("pod-list.json"));
            server.queueWatch(new WatchScript(lines("watch-events.jsonl"), true));
            start(server, token(dir, "token-1"), server.caPem(), Duration.ofMinutes(1));

            await("the job pod added by the watch", () -> directory.byContainerId(PodJsonTest.BACKUP_ID) != null);
            await("the restarted container", () -> directory.byContainerId(PodJsonTest.SHIPPER_RESTARTED_ID) != null);
            assertThat(directory.byContainerId(PodJsonTest.NGINX_ID).resourceAttributes())
                    .containsEntry("k8s.pod.name", "frontend-7d9c8b6f5-x2x9q")
                    .containsEntry("k8s.deployment.name", "frontend")
                    .containsEntry("k8s.container.name", "nginx");
            assertThat(directory.byContainerId(PodJsonTest.SHIPPER_ID)).as("the replaced container").isNull();
            // Deleted, but within its grace period: late spans of its processes still resolve.
            assertThat(directory.byContainerId(PodJsonTest.REDIS_ID).pod().name()).isEqualTo("redis-0");
            assertThat(watcher.connected()).isTrue();

            List<KubernetesApiServer.Request> requests = server.requests();
            assertThat(requests.get(0).isWatch()).isFalse();
            assertThat(requests.get(0).query()).contains("fieldSelector=spec.nodeName%3D" + NODE);
            assertThat(requests.get(0).authorization()).isEqualTo("Bearer token-1");
            assertThat(requests.get(1).query()).contains("watch=1").contains("resourceVersion=1000");
            assertThat(metrics.value("periscope_kubernetes_watch_events_total", "type", "modified")).isEqualTo(1);
            assertThat(metrics.value("periscope_kubernetes_lists_total")).isEqualTo(1);
        }
    }

    @Test
    void shouldListAgainAfter410Gone(@TempDir Path dir) throws Exception {
        try (KubernetesApiServer server = KubernetesApiServer.start(keys)) {
            server.queueList(PodJsonTest.resource("pod-list.json"));
            server.queueWatch(new WatchScript(lines("watch-gone.jsonl"), false));
            String relisted = PodJsonTest.resource("pod-list.json").replace("\"1000\"", "\"2000\"")
                    .replace("redis-0", "redis-1");
            server.queueList(relisted);
            start(server, token(dir, "t"), server.caPem(), Duration.ofMinutes(1));

            await("a watch from the second list's version",
                    () -> server.requests().stream().anyMatch(r -> r.query().contains("resourceVersion=2000")));
            assertThat(server.requests().stream().map(r -> r.isWatch() ? "watch" : "list").toList())
                    .startsWith("list", "watch", "list", "watch");
            assertThat(directory.byContainerId(PodJsonTest.REDIS_ID).pod().name()).isEqualTo("redis-1");
            assertThat(metrics.value("periscope_kubernetes_errors_total", "kind", "expired")).isEqualTo(1);
            assertThat(metrics.value("periscope_kubernetes_lists_total")).isEqualTo(2);
        }
    }

    @Test
    void shouldResumeTheWatchFromTheLastVersionWhenTheStreamEnds(@TempDir Path dir) throws Exception {
        try (KubernetesApiServer server = KubernetesApiServer.start(keys)) {
            server.queueList(PodJsonTest.resource("pod-list.json"));
            // The server drops the stream after the first event (an apiserver restart, a load balancer).
            server.queueWatch(new WatchScript(lines("watch-events.jsonl").subList(0, 1), false));
            start(server, token(dir, "t"), server.caPem(), Duration.ofMinutes(1));

            await("a second watch", () -> server.requests().stream().filter(KubernetesApiServer.Request::isWatch)
                    .count() >= 2);
            List<KubernetesApiServer.Request> watches = server.requests().stream()
                    .filter(KubernetesApiServer.Request::isWatch).toList();
            assertThat(watches.get(1).query()).contains("resourceVersion=1001");
            assertThat(metrics.value("periscope_kubernetes_lists_total")).isEqualTo(1);
            assertThat(directory.byContainerId(PodJsonTest.BACKUP_ID)).isNotNull();
        }
    }

    @Test
    void shouldDropAWatchThatStaysSilentPastItsTimeoutAndResume(@TempDir Path dir) throws Exception {
        try (KubernetesApiServer server = KubernetesApiServer.start(keys)) {
            server.queueList(PodJsonTest.resource("pod-list.json"));
            // No watch script: the stream opens and then says nothing, like a connection that died silently.
            start(server, token(dir, "t"), server.caPem(), Duration.ofMinutes(1));
            // The server counts the watch request before its response reaches the watcher: wait for the
            // open stream, which is what checkStalled closes.
            await("the watch", () -> watcher.connected() && watcher.watching());
            watcher.checkStalled(System.nanoTime());
            assertThat(metrics.value("periscope_kubernetes_errors_total", "kind", "stalled"))
                    .as("not stalled yet: the watch has just started").isZero();
            watcher.checkStalled(System.nanoTime() + Duration.ofHours(1).toNanos());
            assertThat(metrics.value("periscope_kubernetes_errors_total", "kind", "stalled")).isEqualTo(1);
            await("a new watch from the same version", () -> server.requests().stream()
                    .filter(KubernetesApiServer.Request::isWatch).count() >= 2);
            assertThat(server.requests().stream().filter(KubernetesApiServer.Request::isWatch).toList().get(1).query())
                    .contains("resourceVersion=1000");
            assertThat(directory.byContainerId(PodJsonTest.NGINX_ID)).as("pods kept across the reconnect").isNotNull();
        }
    }

    @Test
    void shouldSendTheRotatedTokenAfterTheRefreshInterval(@TempDir Path dir) throws Exception {
        try (KubernetesApiServer server = KubernetesApiServer.start(keys)) {
            server.queueList(PodJsonTest.resource("pod-list.json"));
            server.queueWatch(new WatchScript(List.of(), false));
            Path token = token(dir, "before-rotation");
            // Refresh on every request: the next (re)connect must carry whatever the file holds then.
            start(server, token, server.caPem(), Duration.ofNanos(1));
            await("the first request", () -> !server.requests().isEmpty());
            Files.writeString(token, "after-rotation\n");
            server.queueWatch(new WatchScript(List.of(), false));
            await("a request with the rotated token", () -> server.requests().stream()
                    .anyMatch(r -> "Bearer after-rotation".equals(r.authorization())));
            assertThat(server.requests().get(0).authorization()).isEqualTo("Bearer before-rotation");
        }
    }

    @Test
    void shouldLogAndCountAnUntrustedServerAndKnowNoPods(@TempDir Path dir) throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(PodWatcher.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        log.addAppender(appender);
        try (KubernetesApiServer server = KubernetesApiServer.start(keys)) {
            server.queueList(PodJsonTest.resource("pod-list.json"));
            Path otherCa = dir.resolve("other-ca.crt");
            KubernetesApiServer.selfSigned(dir.resolve("other.p12"), otherCa, "some-other-ca");
            start(server, token(dir, "t"), otherCa, Duration.ofMinutes(1));

            await("two TLS failures (the retry too)",
                    () -> metrics.value("periscope_kubernetes_errors_total", "kind", "tls") >= 2);
            assertThat(directory.size()).isZero();
            assertThat(watcher.connected()).isFalse();
            assertThat(server.requests()).as("no request got through TLS").isEmpty();
            List<String> messages = appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
            assertThat(messages).anySatisfy(m -> assertThat(m).contains("TLS with the Kubernetes API server")
                    .contains("metadata.kubernetes.ca_path").contains(otherCa.toString()));
            assertThat(messages).as("one line per distinct failure, not per retry")
                    .filteredOn(m -> m.contains("TLS with")).hasSize(1);
        } finally {
            log.detachAppender(appender);
        }
    }

    @Test
    void shouldCountACaFileThatIsNotACertificate(@TempDir Path dir) throws Exception {
        try (KubernetesApiServer server = KubernetesApiServer.start(keys)) {
            Path garbage = dir.resolve("garbage.crt");
            Files.writeString(garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
            start(server, token(dir, "t"), garbage, Duration.ofMinutes(1));
            await("a counted TLS failure",
                    () -> metrics.value("periscope_kubernetes_errors_total", "kind", "tls") >= 1);
            assertThat(directory.size()).isZero();
        }
    }

    @Test
    void shouldCountHttpErrorsSuchAsForbidden(@TempDir Path dir) throws Exception {
        // A plain-http endpoint answering 404 for everything: an HTTP error, counted, retried.
        try (KubernetesApiServer server = KubernetesApiServer.start(keys)) {
            KubernetesEndpoint endpoint = new KubernetesEndpoint(URI.create(server.url() + "/no-such-prefix"),
                    token(dir, "t"), server.caPem(), NODE);
            watcher = new PodWatcher(endpoint, directory, Duration.ofMinutes(1), Duration.ofSeconds(10),
                    Duration.ofSeconds(300), Duration.ofMillis(500), metrics);
            watcher.start();
            await("a counted HTTP failure",
                    () -> metrics.value("periscope_kubernetes_errors_total", "kind", "http") >= 1);
            assertThat(directory.size()).isZero();
        }
    }
}
