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
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    @Test
    void shouldMarkExactlyTheRestartOnlyKeys() throws IOException {
        // Walk the file by indentation (two spaces per level) and collect keys whose comment says [restart].
        Set<String> marked = new TreeSet<>();
        List<String> path = new ArrayList<>();
        Pattern keyLine = Pattern.compile("^( *)([a-z0-9_]+):.*");
        for (String line : Files.readAllLines(deployedConfig())) {
            Matcher matcher = keyLine.matcher(line);
            if (!matcher.matches()) {
                continue;
            }
            int depth = matcher.group(1).length() / 2;
            while (path.size() > depth) {
                path.remove(path.size() - 1);
            }
            path.add(matcher.group(2));
            int comment = line.indexOf(" #");
            if (comment > 0 && line.substring(comment).contains("[restart]")) {
                marked.add(String.join(".", path));
            }
        }
        assertThat(marked).isEqualTo(new TreeSet<>(ConfigWatcher.RESTART_ONLY_KEYS));
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
