package io.periscope.core;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's configuration, read from one YAML file.
 *
 * <p>Immutable once loaded. The typed keys grow with the modules they configure (see
 * {@code deploy/agent.yaml}); until then the raw tree is kept for the pieces that read it.
 */
public final class AgentConfig {
    private final Path source;
    private final Map<String, Object> tree;

    private AgentConfig(Path source, Map<String, Object> tree) {
        this.source = source;
        this.tree = Collections.unmodifiableMap(tree);
    }

    /** The configuration used when no file is given. */
    public static AgentConfig defaults() {
        return new AgentConfig(null, Map.of());
    }

    /** Reads and checks {@code path}; every failure is a {@link ConfigException} a user can act on. */
    public static AgentConfig load(Path path) throws ConfigException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        Yaml yaml = new Yaml(new SafeConstructor(options));
        Object document;
        try (Reader reader = Files.newBufferedReader(path)) {
            document = yaml.load(reader);
        } catch (NoSuchFileException e) {
            throw new ConfigException(path + ": no such file; pass an existing file with --config");
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new ConfigException(path + ":" + line + ": invalid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(path + ": invalid YAML: " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException(path + ": cannot read: " + e.getMessage());
        }
        if (document == null) {
            return new AgentConfig(path, Map.of());
        }
        if (!(document instanceof Map)) {
            throw new ConfigException(path + ": the top level must be a mapping of keys, not "
                    + document.getClass().getSimpleName().toLowerCase(Locale.ROOT));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> tree = (Map<String, Object>) document;
        return new AgentConfig(path, tree);
    }

    /** The file this came from, or null for the defaults. */
    public Path source() {
        return source;
    }

    /** The parsed YAML tree (read-only). */
    public Map<String, Object> tree() {
        return tree;
    }
}
