package io.periscope.core.config;

import io.periscope.core.AgentConfig;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes a config back as YAML (the effective config of {@code --dry-run}) and lists its key paths. */
public final class ConfigPrinter {
    private static final long MILLIS_PER_SECOND = 1000;
    private static final long MILLIS_PER_MINUTE = 60 * MILLIS_PER_SECOND;
    private static final long MILLIS_PER_HOUR = 60 * MILLIS_PER_MINUTE;
    private static final int INDENT = 2;

    private ConfigPrinter() {
    }

    /** The whole config as YAML that {@link ConfigLoader} reads back to an equal config. */
    public static String toYaml(AgentConfig config) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(INDENT);
        options.setWidth(Integer.MAX_VALUE);
        return new Yaml(options).dump(toTree(config));
    }

    /**
     * The value at {@code keyPath} ({@code limits.max_memory_mb}, or a section such as
     * {@code exporters.otlp}): a scalar as text, a section or list as YAML; null when no such key.
     */
    public static String valueAt(AgentConfig config, String keyPath) {
        Object node = toTree(config);
        for (String key : keyPath.split("\\.", -1)) {
            if (!(node instanceof Map) || !((Map<?, ?>) node).containsKey(key)) {
                return null;
            }
            node = ((Map<?, ?>) node).get(key);
        }
        if (node instanceof Map || node instanceof List) {
            DumperOptions options = new DumperOptions();
            options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
            options.setIndent(INDENT);
            return new Yaml(options).dump(node).stripTrailing();
        }
        return String.valueOf(node);
    }

    /** Every leaf key path (e.g. {@code exporters.otlp.endpoint}) with its YAML-shaped value. */
    public static Map<String, Object> flatten(AgentConfig config) {
        Map<String, Object> leaves = new LinkedHashMap<>();
        flatten("", config, leaves);
        return leaves;
    }

    private static void flatten(String path, Record record, Map<String, Object> leaves) {
        for (RecordComponent component : record.getClass().getRecordComponents()) {
            if (component.isAnnotationPresent(NotAKey.class)) {
                continue;
            }
            String key = ConfigBinder.join(path, ConfigBinder.keyOf(component.getName()));
            Object value = read(component, record);
            if (value instanceof Record && !(value instanceof PortRange)) {
                flatten(key, (Record) value, leaves);
            } else if (value instanceof Map
                    && ((Map<?, ?>) value).values().stream().anyMatch(v -> v instanceof Record)) {
                // A map of records (protocols) has fixed keys, each a section; a map of strings is one leaf.
                for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                    flatten(ConfigBinder.join(key, entry.getKey().toString()), (Record) entry.getValue(), leaves);
                }
            } else {
                leaves.put(key, toTree(value));
            }
        }
    }

    private static Object read(RecordComponent component, Object record) {
        try {
            return component.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Plain maps, lists, strings, numbers and booleans; keys in YAML spelling. */
    static Object toTree(Object value) {
        if (value instanceof Record) {
            Map<String, Object> tree = new LinkedHashMap<>();
            for (RecordComponent component : value.getClass().getRecordComponents()) {
                if (component.isAnnotationPresent(NotAKey.class)) {
                    continue;
                }
                tree.put(ConfigBinder.keyOf(component.getName()), toTree(read(component, value)));
            }
            if (value instanceof PortRange) {
                PortRange range = (PortRange) value;
                return range.first() == range.last() ? (Object) range.first() : range.toString();
            }
            return tree;
        }
        if (value instanceof Map) {
            Map<String, Object> tree = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                tree.put(entry.getKey().toString(), toTree(entry.getValue()));
            }
            return tree;
        }
        if (value instanceof List) {
            List<Object> list = new ArrayList<>();
            for (Object item : (List<?>) value) {
                list.add(toTree(item));
            }
            return list;
        }
        if (value instanceof Duration) {
            return format((Duration) value);
        }
        if (value instanceof Enum) {
            return ((Enum<?>) value).name().toLowerCase(Locale.ROOT);
        }
        return value;
    }

    /** A duration in the largest unit that divides it: 1h, 5m, 10s, 500ms. */
    public static String format(Duration duration) {
        long millis = duration.toMillis();
        if (millis != 0 && millis % MILLIS_PER_HOUR == 0) {
            return millis / MILLIS_PER_HOUR + "h";
        }
        if (millis != 0 && millis % MILLIS_PER_MINUTE == 0) {
            return millis / MILLIS_PER_MINUTE + "m";
        }
        if (millis % MILLIS_PER_SECOND == 0) {
            return millis / MILLIS_PER_SECOND + "s";
        }
        return millis + "ms";
    }
}
