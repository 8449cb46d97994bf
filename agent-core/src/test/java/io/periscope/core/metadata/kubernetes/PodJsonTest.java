package io.periscope.core.metadata.kubernetes;

import com.fasterxml.jackson.core.JsonParser;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The API's JSON (shapes from the Kubernetes API reference) read into {@link PodMetadata}. */
class PodJsonTest {
    static final String NGINX_ID = "a".repeat(64);
    static final String SHIPPER_ID = "b".repeat(64);
    static final String REDIS_ID = "c".repeat(64);
    static final String EXPORTER_ID = "d".repeat(64);
    static final String BACKUP_ID = "e".repeat(64);
    static final String SHIPPER_RESTARTED_ID = "f".repeat(64);

    static String resource(String name) throws IOException {
        try (InputStream in = PodJsonTest.class.getResourceAsStream("/kubernetes/" + name)) {
            assertThat(in).as("test resource " + name).isNotNull();
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    static PodJson.PodList podList() throws IOException {
        try (JsonParser parser = PodJson.FACTORY.createParser(resource("pod-list.json"))) {
            return PodJson.readPodList(parser);
        }
    }

    @Test
    void shouldReadIdentityIpAndWorkloadOfADeploymentPod() throws IOException {
        PodJson.PodList list = podList();
        assertThat(list.resourceVersion()).isEqualTo("1000");
        assertThat(list.pods()).hasSize(3);
        PodMetadata frontend = list.pods().get(0);
        assertThat(frontend.attributes()).isEqualTo(Map.of(
                "k8s.namespace.name", "shop",
                "k8s.pod.name", "frontend-7d9c8b6f5-x2x9q",
                "k8s.pod.uid", "0b5e7c2a-1f3d-4c8e-9a6b-2d4f6e8a0c1e",
                "k8s.node.name", "node-1",
                "k8s.pod.ip", "10.244.1.17",
                "k8s.replicaset.name", "frontend-7d9c8b6f5",
                "k8s.deployment.name", "frontend"));
        // The app label names the service; the previous (dead) container's id in lastState is not listed.
        assertThat(frontend.serviceName()).isEqualTo("web");
        assertThat(frontend.containerNamesById()).containsOnly(Map.entry(NGINX_ID, "nginx"),
                Map.entry(SHIPPER_ID, "log-shipper"));
    }

    @Test
    void shouldPreferTheNameLabelThenTheAnnotationAndLeaveOutHostNetworkIps() throws IOException {
        List<PodMetadata> pods = podList().pods();
        PodMetadata redis = pods.get(1);
        assertThat(redis.serviceName()).isEqualTo("session-store");
        assertThat(redis.attributes()).containsEntry("k8s.statefulset.name", "redis")
                .containsEntry("k8s.pod.ip", "10.244.1.18").doesNotContainKey("k8s.deployment.name");
        assertThat(redis.containerNamesById()).containsOnly(Map.entry(REDIS_ID, "redis"));
        PodMetadata exporter = pods.get(2);
        assertThat(exporter.serviceName()).isEqualTo("host-metrics");
        assertThat(exporter.attributes()).containsEntry("k8s.daemonset.name", "node-exporter")
                .doesNotContainKey("k8s.pod.ip");
        assertThat(exporter.podIp()).isEmpty();
        assertThat(exporter.containerNamesById()).containsOnlyKeys(EXPORTER_ID);
    }

    @Test
    void shouldReadWatchEventsAndDeriveTheCronJobOfAJob() throws IOException {
        try (JsonParser parser = PodJson.FACTORY.createParser(resource("watch-events.jsonl"))) {
            PodJson.WatchEvent added = PodJson.readWatchEvent(parser);
            assertThat(added.type()).isEqualTo("ADDED");
            assertThat(added.object().resourceVersion).isEqualTo("1001");
            PodMetadata backup = added.object().pod;
            assertThat(backup.attributes()).containsEntry("k8s.job.name", "backup-29400000")
                    .containsEntry("k8s.cronjob.name", "backup");
            assertThat(backup.serviceName()).isEqualTo("backup");
            List<String> rest = List.of(PodJson.readWatchEvent(parser), PodJson.readWatchEvent(parser),
                    PodJson.readWatchEvent(parser)).stream()
                    .map(e -> e.type() + "@" + e.object().resourceVersion).collect(Collectors.toList());
            assertThat(rest).containsExactly("MODIFIED@1002", "DELETED@1003", "BOOKMARK@1004");
            assertThat(PodJson.readWatchEvent(parser)).isNull();
        }
    }

    @Test
    void shouldReadA410StatusEvent() throws IOException {
        try (JsonParser parser = PodJson.FACTORY.createParser(resource("watch-gone.jsonl"))) {
            PodJson.WatchEvent event = PodJson.readWatchEvent(parser);
            assertThat(event.type()).isEqualTo("ERROR");
            assertThat(event.object().code).isEqualTo(410);
            assertThat(event.object().reason).isEqualTo("Expired");
            assertThat(event.object().pod).isNull();
        }
    }

    @Test
    void shouldRejectTruncatedJson() {
        assertThatThrownBy(() -> {
            try (JsonParser parser = PodJson.FACTORY.createParser("{\"type\":\"ADDED\",\"object\":{\"kind\":")) {
                PodJson.readWatchEvent(parser);
            }
        }).isInstanceOf(IOException.class);
    }
}
