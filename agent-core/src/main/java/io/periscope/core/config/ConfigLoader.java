package io.periscope.core.config;

import io.periscope.core.AgentConfig;
import io.periscope.core.ConfigException;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads the YAML file, applies {@code --set key.path=value} overrides and binds the result onto
 * {@link AgentConfig#defaults()}. A file may hold any subset of the keys. Values may refer to the
 * environment with {@code ${env:NAME}} or {@code ${env:NAME:-fallback}} (secrets such as OTLP auth
 * headers belong in the environment, not in a ConfigMap).
 */
public final class ConfigLoader {
    private static final int MAX_ALIASES = 10;
    private static final int MAX_FILE_BYTES = 4 * 1024 * 1024;

    private ConfigLoader() {
    }

    /**
     * Loads {@code file} (null: defaults only) and applies {@code overrides}, each {@code key.path=value}
     * with the value parsed as YAML ({@code 8080}, {@code true}, {@code [80, 443]}, {@code 10s}).
     */
    public static AgentConfig load(Path file, List<String> overrides) throws ConfigException {
        if (file == null) {
            return parse(null, "defaults", overrides, null);
        }
        String text;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new ConfigException(file + ": larger than " + MAX_FILE_BYTES
                        + " bytes; is this the config file?");
            }
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file; pass an existing file with --config");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        return parse(text, file.toString(), overrides, file);
    }

    /** Binds YAML {@code text} (null: none) named {@code sourceName} in messages; {@code source} is recorded. */
    public static AgentConfig parse(String text, String sourceName, List<String> overrides, Path source)
            throws ConfigException {
        return parse(text, sourceName, overrides, source, System::getenv);
    }

    /** As {@link #parse(String, String, List, Path)}, resolving {@code ${env:NAME}} with {@code environment}. */
    public static AgentConfig parse(String text, String sourceName, List<String> overrides, Path source,
                                    Function<String, String> environment) throws ConfigException {
        Yaml yaml = newYaml();
        Node root;
        try (Reader reader = new StringReader(text == null ? "" : text)) {
            root = yaml.compose(reader);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new ConfigException(sourceName + ":" + line + ": invalid YAML: " + e.getProblem());
        } catch (YAMLException | IOException e) {
            throw new ConfigException(sourceName + ": invalid YAML: " + e.getMessage());
        }
        if (root == null || root.getTag().equals(Tag.NULL)) {
            root = new MappingNode(Tag.MAP, new ArrayList<>(), DumperOptions.FlowStyle.BLOCK);
        }
        if (!(root instanceof MappingNode)) {
            throw new ConfigException(sourceName + ": the top level must be a mapping of keys, not "
                    + (root instanceof SequenceNode ? "a list" : "a single value"));
        }
        Map<Node, String> origins = new IdentityHashMap<>();
        for (String override : overrides) {
            applyOverride((MappingNode) root, override, yaml, origins);
        }
        ConfigBinder binder = new ConfigBinder(sourceName, origins, environment);
        return binder.bindRecord(root, AgentConfig.class, AgentConfig.defaults(), "").withSource(source);
    }

    private static Yaml newYaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(MAX_ALIASES);
        return new Yaml(new SafeConstructor(options));
    }

    private static void applyOverride(MappingNode root, String override, Yaml yaml, Map<Node, String> origins)
            throws ConfigException {
        String origin = "--set " + override;
        int equals = override.indexOf('=');
        if (equals <= 0) {
            throw new ConfigException(origin + ": expected key.path=value, e.g. --set exporters.otlp.endpoint="
                    + "collector:4317");
        }
        String[] keys = override.substring(0, equals).trim().split("\\.", -1);
        for (String key : keys) {
            if (key.isEmpty()) {
                throw new ConfigException(origin + ": empty key in '" + override.substring(0, equals) + "'");
            }
        }
        Node value;
        try {
            value = yaml.compose(new StringReader(override.substring(equals + 1)));
        } catch (YAMLException e) {
            throw new ConfigException(origin + ": the value is not valid YAML: " + e.getMessage());
        }
        if (value == null) {
            value = new ScalarNode(Tag.NULL, "", null, null, DumperOptions.ScalarStyle.PLAIN);
        }
        markOrigin(value, origin, origins);
        MappingNode mapping = root;
        for (int i = 0; i < keys.length; i++) {
            NodeTuple existing = null;
            int index = -1;
            List<NodeTuple> tuples = mapping.getValue();
            for (int t = 0; t < tuples.size(); t++) {
                Node keyNode = tuples.get(t).getKeyNode();
                if (keyNode instanceof ScalarNode && ((ScalarNode) keyNode).getValue().equals(keys[i])) {
                    existing = tuples.get(t);
                    index = t;
                }
            }
            boolean last = i == keys.length - 1;
            Node child;
            if (last) {
                child = value;
            } else if (existing != null && existing.getValueNode() instanceof MappingNode) {
                mapping = (MappingNode) existing.getValueNode();
                continue;
            } else {
                child = new MappingNode(Tag.MAP, new ArrayList<>(), DumperOptions.FlowStyle.BLOCK);
                origins.put(child, origin);
            }
            ScalarNode keyNode = new ScalarNode(Tag.STR, keys[i], null, null, DumperOptions.ScalarStyle.PLAIN);
            origins.put(keyNode, origin);
            NodeTuple replacement = new NodeTuple(keyNode, child);
            if (index >= 0) {
                tuples.set(index, replacement);
            } else {
                tuples.add(replacement);
            }
            if (!last) {
                mapping = (MappingNode) child;
            }
        }
    }

    private static void markOrigin(Node node, String origin, Map<Node, String> origins) {
        origins.put(node, origin);
        if (node instanceof MappingNode) {
            for (NodeTuple tuple : ((MappingNode) node).getValue()) {
                markOrigin(tuple.getKeyNode(), origin, origins);
                markOrigin(tuple.getValueNode(), origin, origins);
            }
        } else if (node instanceof SequenceNode) {
            for (Node item : ((SequenceNode) node).getValue()) {
                markOrigin(item, origin, origins);
            }
        }
    }

    /** The allowed names of an enum-valued key, as written in YAML. */
    public static List<String> valuesOf(Class<? extends Enum<?>> type) {
        return ConfigBinder.enumNames(type);
    }
}
