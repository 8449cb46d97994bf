package io.periscope.core.config;

import io.periscope.core.AgentConfig;
import io.periscope.core.ConfigException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code metadata.kubernetes}: values bind, and bad ones name their key. */
class KubernetesConfigTest {
    @Test
    void shouldBindEveryKey() throws ConfigException {
        AgentConfig config = ConfigLoader.load(null, List.of("metadata.kubernetes.enabled=true",
                "metadata.kubernetes.api_server=https://10.96.0.1:443", "metadata.kubernetes.node_name=node-3",
                "metadata.kubernetes.deleted_pod_grace=30s", "metadata.kubernetes.max_pods=300"));
        KubernetesConfig k = config.metadata().kubernetes();
        assertThat(k.enabled()).isEqualTo(KubernetesMode.TRUE);
        assertThat(k.apiServer()).isEqualTo("https://10.96.0.1:443");
        assertThat(k.nodeName()).isEqualTo("node-3");
        assertThat(k.deletedPodGrace()).isEqualTo(Duration.ofSeconds(30));
        assertThat(k.maxPods()).isEqualTo(300);
        assertThat(k.tokenPath()).isEqualTo(KubernetesConfig.IN_CLUSTER_TOKEN);
    }

    @Test
    void shouldRejectAnUnknownModeAndAServerThatIsNotAUrl() {
        assertThatThrownBy(() -> ConfigLoader.load(null, List.of("metadata.kubernetes.enabled=sometimes")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("metadata.kubernetes.enabled")
                .hasMessageContaining("auto");
        assertThatThrownBy(() -> ConfigLoader.load(null, List.of("metadata.kubernetes.api_server=10.96.0.1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("metadata.kubernetes.api_server")
                .hasMessageContaining("https://");
    }
}
