package io.periscope.core.metadata.kubernetes;

import io.periscope.core.ConfigException;
import io.periscope.core.config.KubernetesConfig;
import io.periscope.core.config.KubernetesMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code metadata.kubernetes} plus the pod's environment → where to connect, or why not. */
class KubernetesEndpointTest {
    private final List<String> reasons = new ArrayList<>();

    private static KubernetesConfig config(KubernetesMode mode, String server, Path token, Path ca, String node) {
        KubernetesConfig d = KubernetesConfig.defaults();
        return new KubernetesConfig(mode, server, token.toString(), ca.toString(), node, d.tokenRefreshInterval(),
                d.deletedPodGrace(), d.maxPods(), d.requestTimeout(), d.watchTimeout(), d.maxBackoff());
    }

    @Test
    void shouldUseTheServiceEnvironmentInACluster(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "t");
        Path ca = Files.writeString(dir.resolve("ca.crt"), "pem");
        Map<String, String> env = Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1", "KUBERNETES_SERVICE_PORT", "443",
                "NODE_NAME", "node-7");
        KubernetesEndpoint endpoint = KubernetesEndpoint.resolve(config(KubernetesMode.AUTO, "", token, ca, ""),
                env::get, reasons::add);
        assertThat(endpoint.server().toString()).isEqualTo("https://10.96.0.1:443");
        assertThat(endpoint.nodeName()).isEqualTo("node-7");
        assertThat(endpoint.caPath()).isEqualTo(ca);
    }

    @Test
    void shouldStayOffOutsideAClusterInAutoModeSayingWhy(@TempDir Path dir) throws Exception {
        KubernetesEndpoint endpoint = KubernetesEndpoint.resolve(KubernetesConfig.defaults(), name -> null,
                reasons::add);
        assertThat(endpoint).isNull();
        assertThat(reasons).singleElement().asString().contains("metadata.kubernetes.api_server")
                .contains("KUBERNETES_SERVICE_HOST");
    }

    @Test
    void shouldRejectEnabledWithoutATokenNamingTheKey(@TempDir Path dir) throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.crt"), "pem");
        KubernetesConfig config = config(KubernetesMode.TRUE, "https://127.0.0.1:6443", dir.resolve("missing-token"),
                ca, "node-1");
        assertThatThrownBy(() -> KubernetesEndpoint.resolve(config, name -> null, reasons::add))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("metadata.kubernetes.token_path: ")
                .hasMessageContaining("missing-token");
    }

    @Test
    void shouldRejectEnabledWithoutANodeName(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "t");
        Path ca = Files.writeString(dir.resolve("ca.crt"), "pem");
        KubernetesConfig config = config(KubernetesMode.TRUE, "https://127.0.0.1:6443", token, ca, "");
        assertThatThrownBy(() -> KubernetesEndpoint.resolve(config, name -> null, reasons::add))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("metadata.kubernetes.node_name: ");
    }
}
