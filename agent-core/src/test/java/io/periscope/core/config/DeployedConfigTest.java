package io.periscope.core.config;

import io.periscope.core.AgentConfig;
import io.periscope.core.ConfigException;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** deploy/agent.yaml is the documentation of every key: it must list them all, with their defaults. */
class DeployedConfigTest {
    static Path projectRoot() {
        String root = System.getProperty("periscope.projectRoot");
        assertThat(root).as("system property periscope.projectRoot (set by the parent pom)").isNotNull();
        return Path.of(root);
    }

    static Path deployedConfig() {
        Path file = projectRoot().resolve("deploy/agent.yaml");
        assertThat(file).exists();
        return file;
    }

    @Test
    void shouldEqualTheBuiltInDefaults() throws ConfigException {
        Path file = deployedConfig();
        assertThat(ConfigLoader.load(file, List.of())).isEqualTo(AgentConfig.defaults().withSource(file));
    }

    @Test
    void shouldListEveryKeyOfTheModel() throws IOException {
        Object document = new Yaml().load(Files.readString(deployedConfig()));
        List<String> missing = new ArrayList<>();
        for (String path : ConfigPrinter.flatten(AgentConfig.defaults()).keySet()) {
            if (!present(document, path)) {
                missing.add(path);
            }
        }
        assertThat(missing).as("keys of the config model absent from deploy/agent.yaml").isEmpty();
        assertThat(ConfigPrinter.flatten(AgentConfig.defaults())).containsKeys("exporters.otlp.endpoint",
                "exporters.file.path", "limits.max_memory_mb", "protocols.http1.shallow", "self_metrics.listen");
    }

    private static boolean present(Object document, String path) {
        Object node = document;
        for (String key : path.split("\\.")) {
            if (!(node instanceof Map) || !((Map<?, ?>) node).containsKey(key)) {
                return false;
            }
            node = ((Map<?, ?>) node).get(key);
        }
        return true;
    }
}
