package io.periscope.core;

import io.opentelemetry.proto.trace.v1.Span;
import io.periscope.core.AgentEndToEndKernelTest.ExportedSpan;
import io.periscope.core.testing.AgentProcess;
import io.periscope.core.testing.Commands;
import io.periscope.core.testing.KubernetesApiServer;
import io.periscope.core.testing.Nginx;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real agent with {@code metadata.kubernetes} pointed at an in-test API server, and a real nginx
 * moved into a cgroup named the way containerd names a pod's container: its spans carry the pod.
 */
@Tag("kernel")
class KubernetesMetadataEndToEndKernelTest {
    private static final int NGINX_PORT = 18301;
    /** The nginx container's id in the test's pod-list.json, replaced by a fresh one per run. */
    private static final String LISTED_ID = "a".repeat(64);
    private static final long WAIT_SECONDS = 30;

    @Test
    void shouldPutThePodOfAContainerdProcessIntoItsSpansResource(@TempDir Path dir) throws Exception {
        Path cgroupRoot = cgroup2Mount();
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String containerId = HexFormat.of().formatHex(random);
        Path slice = cgroupRoot.resolve("periscope-test-" + containerId.substring(0, 8) + ".slice");
        Path scope = slice.resolve("cri-containerd-" + containerId + ".scope");

        Path spansFile = dir.resolve("otlp.jsonl");
        Path token = Files.writeString(dir.resolve("token"), "e2e-token\n");
        Path config = dir.resolve("agent.yaml");
        try (KubernetesApiServer api = KubernetesApiServer.start(Files.createDirectories(dir.resolve("api")))) {
            api.queueList(podList().replace(LISTED_ID, containerId));
            Files.writeString(config, String.join("\n",
                    "exporters: {file: {path: " + spansFile + "}}",
                    "ebpf: {ports: {allow: [" + NGINX_PORT + "]}}",
                    "packet: {enabled: false}",
                    "self_metrics: {listen: '127.0.0.1:0'}",
                    "metadata:",
                    "  kubernetes:",
                    "    enabled: true",
                    "    api_server: " + api.url(),
                    "    token_path: " + token,
                    "    ca_path: " + api.caPem(),
                    "    node_name: node-1",
                    ""));
            try (Nginx nginx = Nginx.start(dir.resolve("nginx"), NGINX_PORT)) {
                String home = cgroupOf(nginx.workerPid());
                Files.createDirectories(scope);
                try {
                    moveTo(scope, nginx.masterPid());
                    moveTo(scope, nginx.workerPid());
                    assertThat(cgroupOf(nginx.workerPid())).endsWith("/cri-containerd-" + containerId + ".scope");
                    try (AgentProcess agent = AgentProcess.start(config)) {
                        agent.awaitRunning();
                        assertThat(agent.awaitLog("listed 3 pods of node node-1")).as(agent.log()).isTrue();
                        Commands.run("curl", "-sS", "-o", "/dev/null", "http://127.0.0.1:" + NGINX_PORT + "/cart");

                        ExportedSpan server = await(spansFile, agent);
                        assertThat(server.resourceAttr("k8s.pod.name")).isEqualTo("frontend-7d9c8b6f5-x2x9q");
                        assertThat(server.resourceAttr("k8s.namespace.name")).isEqualTo("shop");
                        assertThat(server.resourceAttr("k8s.pod.uid"))
                                .isEqualTo("0b5e7c2a-1f3d-4c8e-9a6b-2d4f6e8a0c1e");
                        assertThat(server.resourceAttr("k8s.node.name")).isEqualTo("node-1");
                        assertThat(server.resourceAttr("k8s.container.name")).isEqualTo("nginx");
                        assertThat(server.resourceAttr("k8s.deployment.name")).isEqualTo("frontend");
                        assertThat(server.resourceAttr("container.id")).isEqualTo(containerId);
                        // The pod's app label names the service (no explicit name was configured).
                        assertThat(server.resourceAttr("service.name")).isEqualTo("web");
                        assertThat(api.requests()).allSatisfy(r ->
                                assertThat(r.authorization()).isEqualTo("Bearer e2e-token"));
                        assertThat(agent.terminate()).as(agent.log()).isZero();
                    }
                } finally {
                    // Back where they came from, so the scope can be removed whatever happened above.
                    Path back = cgroupRoot.resolve(home.substring(1));
                    moveQuietly(back, nginx.workerPid());
                    moveQuietly(back, nginx.masterPid());
                }
            }
        } finally {
            Files.deleteIfExists(scope);
            Files.deleteIfExists(slice);
        }
    }

    /**
     * Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on a unified system, /sys/fs/cgroup/unified
     * on a hybrid one (this machine's). The "0::" line of /proc/pid/cgroup is relative to it.
     */
    private static Path cgroup2Mount() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] fields = line.split(" ");
            if (fields.length > 2 && fields[2].equals("cgroup2")) {
                return Path.of(fields[1]);
            }
        }
        throw new AssertionError("no cgroup2 mount in /proc/self/mounts: this test moves nginx into a cgroup"
                + " named like a containerd container's and needs the v2 (unified) hierarchy");
    }

    private static String podList() throws IOException {
        try (InputStream in = KubernetesMetadataEndToEndKernelTest.class
                .getResourceAsStream("/kubernetes/pod-list.json")) {
            assertThat(in).as("test resource kubernetes/pod-list.json").isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The cgroup v2 path of {@code pid} ("/..."), from its "0::" line. */
    private static String cgroupOf(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
            if (line.startsWith("0::")) {
                return line.substring(3);
            }
        }
        throw new AssertionError("pid " + pid + " has no cgroup v2 line");
    }

    private static void moveTo(Path cgroup, long pid) throws IOException {
        Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(pid));
    }

    private static void moveQuietly(Path cgroup, long pid) {
        try {
            moveTo(cgroup, pid);
        } catch (IOException e) {
            // The process is gone already: nothing left in the scope on its account.
        }
    }

    private static ExportedSpan await(Path spansFile, AgentProcess agent) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        List<ExportedSpan> spans = List.of();
        while (System.nanoTime() < deadline) {
            spans = AgentEndToEndKernelTest.readSpans(spansFile);
            for (ExportedSpan span : spans) {
                if (span.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER && "/cart".equals(span.attr("url.path"))) {
                    return span;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no server span for /cart within " + WAIT_SECONDS + " s; spans: " + spans.size()
                + "\nagent log:\n" + agent.log());
    }
}
