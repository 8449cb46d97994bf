package io.periscope.core.config;

import io.periscope.core.ConfigException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Binds a composed YAML node tree onto the config records, starting from a base (the defaults):
 * absent keys keep the base value. Every failure is a {@link ConfigException} that names where the
 * value came from (file and line, or the {@code --set} option), the key path and what to do.
 */
final class ConfigBinder {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");
    /** {@code ${env:NAME}} or {@code ${env:NAME:-fallback}}, as the OpenTelemetry Collector writes it. */
    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final long MILLIS_PER_SECOND = 1000;

    private final String sourceName;
    private final Map<Node, String> origins;
    private final Function<String, String> environment;

    /**
     * @param sourceName the file name used in messages
     * @param origins nodes that came from {@code --set} options, with the option text to name
     * @param environment resolves {@code ${env:NAME}} references (null: not set)
     */
    ConfigBinder(String sourceName, Map<Node, String> origins, Function<String, String> environment) {
        this.sourceName = sourceName;
        this.origins = origins;
        this.environment = environment;
    }

    /** The YAML key of a record component: its name in snake_case. */
    static String keyOf(String componentName) {
        StringBuilder key = new StringBuilder(componentName.length() + 4);
        for (int i = 0; i < componentName.length(); i++) {
            char c = componentName.charAt(i);
            if (Character.isUpperCase(c)) {
                key.append('_').append(Character.toLowerCase(c));
            } else {
                key.append(c);
            }
        }
        return key.toString();
    }

    static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    <R extends Record> R bindRecord(Node node, Class<R> type, R base, String path) throws ConfigException {
        if (isNull(node)) {
            return base;
        }
        if (!(node instanceof MappingNode)) {
            throw error(node, path, "expected a mapping of keys, got " + kind(node));
        }
        MappingNode mapping = (MappingNode) node;
        RecordComponent[] components = type.getRecordComponents();
        Map<String, RecordComponent> byKey = new LinkedHashMap<>();
        for (RecordComponent component : components) {
            if (!component.isAnnotationPresent(NotAKey.class)) {
                byKey.put(keyOf(component.getName()), component);
            }
        }
        Map<String, NodeTuple> present = new LinkedHashMap<>();
        for (NodeTuple tuple : withMerges(mapping, path)) {
            String key = keyText(tuple.getKeyNode(), path);
            if (!byKey.containsKey(key)) {
                throw error(tuple.getKeyNode(), join(path, key),
                        "unknown key" + Suggestions.didYouMean(key, byKey.keySet())
                        + " (keys here: " + String.join(", ", byKey.keySet()) + ")");
            }
            if (present.put(key, tuple) != null) {
                throw error(tuple.getKeyNode(), join(path, key), "duplicate key");
            }
        }
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent component = components[i];
            types[i] = component.getType();
            Object baseValue = read(component, base);
            NodeTuple tuple = present.get(keyOf(component.getName()));
            args[i] = tuple == null ? baseValue
                    : bindValue(tuple.getValueNode(), component.getGenericType(), baseValue,
                            join(path, keyOf(component.getName())), component.getAnnotation(Range.class));
        }
        try {
            Constructor<R> constructor = type.getDeclaredConstructor(types);
            return constructor.newInstance(args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ConfigValueException) {
                ConfigValueException invalid = (ConfigValueException) cause;
                NodeTuple tuple = present.get(invalid.key());
                throw error(tuple == null ? mapping : tuple.getValueNode(), join(path, invalid.key()),
                        invalid.getMessage());
            }
            if (cause instanceof IllegalArgumentException) {
                throw error(mapping, path, cause.getMessage());
            }
            throw new IllegalStateException("cannot build " + type.getSimpleName(), cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + type.getSimpleName(), e);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Object bindValue(Node node, Type type, Object base, String path, Range range) throws ConfigException {
        if (type instanceof ParameterizedType) {
            ParameterizedType generic = (ParameterizedType) type;
            Type[] arguments = generic.getActualTypeArguments();
            if (generic.getRawType() == List.class) {
                return bindList(node, arguments[0], path);
            }
            if (generic.getRawType() == Map.class) {
                return bindMap(node, arguments[1], (Map<String, Object>) base, path);
            }
            throw new IllegalStateException("unsupported config type " + type);
        }
        Class<?> target = (Class<?>) type;
        // Value types written as one scalar (PortRange) come before records, which are mappings.
        Method parse = parseMethod(target);
        if (parse != null) {
            if (isNull(node)) {
                throw error(node, path, "needs a value");
            }
            String text = scalar(node, path, "a value");
            try {
                return parse.invoke(null, text);
            } catch (InvocationTargetException e) {
                throw error(node, path, e.getCause().getMessage());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        if (target.isRecord()) {
            return bindRecord(node, (Class) target, (Record) base, path);
        }
        if (target == String.class) {
            return isNull(node) ? "" : scalar(node, path, "a string");
        }
        if (isNull(node)) {
            throw error(node, path, "needs a value");
        }
        if (target == boolean.class || target == Boolean.class) {
            return bindBoolean(node, path);
        }
        if (target == int.class || target == long.class) {
            long value = bindLong(node, path);
            long min = range != null ? range.min() : target == int.class ? Integer.MIN_VALUE : Long.MIN_VALUE;
            long max = range != null ? range.max() : target == int.class ? Integer.MAX_VALUE : Long.MAX_VALUE;
            if (value < min || value > max) {
                throw error(node, path, "must be between " + min + " and " + max + ", got " + value);
            }
            return target == int.class ? (Object) (int) value : (Object) value;
        }
        if (target == double.class) {
            String text = scalar(node, path, "a number");
            try {
                return Double.parseDouble(text.replace("_", ""));
            } catch (NumberFormatException e) {
                throw error(node, path, "expected a number such as 1.5, got '" + text + "'");
            }
        }
        if (target == Duration.class) {
            return bindDuration(node, path);
        }
        if (target.isEnum()) {
            return bindEnum(node, (Class<? extends Enum>) target, path);
        }
        throw new IllegalStateException("unsupported config type " + type);
    }

    private List<Object> bindList(Node node, Type elementType, String path) throws ConfigException {
        if (isNull(node)) {
            return List.of();
        }
        if (!(node instanceof SequenceNode)) {
            throw error(node, path, "expected a list such as [a, b], got " + kind(node));
        }
        List<Node> items = ((SequenceNode) node).getValue();
        List<Object> values = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            values.add(bindValue(items.get(i), elementType, null, path + "[" + i + "]", null));
        }
        return Collections.unmodifiableList(values);
    }

    private Map<String, Object> bindMap(Node node, Type valueType, Map<String, Object> base, String path)
            throws ConfigException {
        if (isNull(node)) {
            return valueType instanceof Class && ((Class<?>) valueType).isRecord() ? base : Map.of();
        }
        if (!(node instanceof MappingNode)) {
            throw error(node, path, "expected a mapping of keys, got " + kind(node));
        }
        boolean ofRecords = valueType instanceof Class && ((Class<?>) valueType).isRecord();
        // A map of records (protocols) has a fixed key set, the defaults'; a map of strings is free-form
        // and replaces the base wholesale.
        Map<String, Object> values = new LinkedHashMap<>(ofRecords ? base : Map.of());
        List<String> seen = new ArrayList<>();
        for (NodeTuple tuple : withMerges((MappingNode) node, path)) {
            String key = keyText(tuple.getKeyNode(), path);
            if (seen.contains(key)) {
                throw error(tuple.getKeyNode(), join(path, key), "duplicate key");
            }
            seen.add(key);
            if (ofRecords && !base.containsKey(key)) {
                throw error(tuple.getKeyNode(), join(path, key), "unknown key"
                        + Suggestions.didYouMean(key, base.keySet())
                        + " (known: " + String.join(", ", base.keySet()) + ")");
            }
            values.put(key, bindValue(tuple.getValueNode(), valueType, ofRecords ? base.get(key) : null,
                    join(path, key), null));
        }
        return values;
    }

    /**
     * The tuples of {@code mapping} with YAML merge keys ({@code <<: *defaults}) expanded: merged
     * keys come first and a key written explicitly replaces the merged one.
     */
    private List<NodeTuple> withMerges(MappingNode mapping, String path) throws ConfigException {
        List<NodeTuple> merged = new ArrayList<>();
        List<NodeTuple> explicit = new ArrayList<>();
        for (NodeTuple tuple : mapping.getValue()) {
            if (!tuple.getKeyNode().getTag().equals(Tag.MERGE)) {
                explicit.add(tuple);
                continue;
            }
            Node source = tuple.getValueNode();
            List<Node> sources = source instanceof SequenceNode ? ((SequenceNode) source).getValue() : List.of(source);
            for (Node one : sources) {
                if (!(one instanceof MappingNode)) {
                    throw error(one, path, "a merge key (<<) takes a mapping or a list of mappings");
                }
                merged.addAll(withMerges((MappingNode) one, path));
            }
        }
        if (merged.isEmpty()) {
            return explicit;
        }
        List<NodeTuple> result = new ArrayList<>();
        for (NodeTuple candidate : merged) {
            String key = candidate.getKeyNode() instanceof ScalarNode ? ((ScalarNode) candidate.getKeyNode()).getValue()
                    : null;
            boolean overridden = false;
            for (NodeTuple tuple : explicit) {
                if (tuple.getKeyNode() instanceof ScalarNode
                        && ((ScalarNode) tuple.getKeyNode()).getValue().equals(key)) {
                    overridden = true;
                }
            }
            for (NodeTuple earlier : result) {
                if (((ScalarNode) earlier.getKeyNode()).getValue().equals(key)) {
                    overridden = true;
                }
            }
            if (!overridden && key != null) {
                result.add(candidate);
            }
        }
        result.addAll(explicit);
        return result;
    }

    private boolean bindBoolean(Node node, String path) throws ConfigException {
        String text = scalar(node, path, "true or false").toLowerCase(Locale.ROOT);
        switch (text) {
            case "true":
            case "yes":
            case "on":
                return true;
            case "false":
            case "no":
            case "off":
                return false;
            default:
                throw error(node, path, "expected true or false, got '" + text + "'");
        }
    }

    private long bindLong(Node node, String path) throws ConfigException {
        String text = scalar(node, path, "an integer");
        String digits = text.replace("_", "");
        try {
            if (digits.startsWith("0x")) {
                return Long.parseLong(digits.substring(2), 16);
            }
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw error(node, path, "expected an integer, got '" + text + "'");
        }
    }

    private Duration bindDuration(Node node, String path) throws ConfigException {
        String text = scalar(node, path, "a duration such as 10s");
        Matcher matcher = DURATION.matcher(text.trim());
        if (!matcher.matches()) {
            throw error(node, path, "expected a duration with a unit (ms, s, m, h) such as 500ms or 10s, got '"
                    + text + "'");
        }
        long amount;
        try {
            amount = Long.parseLong(matcher.group(1));
        } catch (NumberFormatException e) {
            throw error(node, path, "duration out of range: '" + text + "'");
        }
        switch (matcher.group(2)) {
            case "ms":
                return Duration.ofMillis(amount);
            case "s":
                return Duration.ofMillis(amount * MILLIS_PER_SECOND);
            case "m":
                return Duration.ofMinutes(amount);
            default:
                return Duration.ofHours(amount);
        }
    }

    private <E extends Enum<E>> E bindEnum(Node node, Class<E> type, String path) throws ConfigException {
        String text = scalar(node, path, "one of " + enumNames(type));
        String wanted = text.trim().replace('-', '_').toUpperCase(Locale.ROOT);
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equals(wanted)) {
                return constant;
            }
        }
        throw error(node, path, "'" + text + "' is not one of " + enumNames(type)
                + Suggestions.didYouMean(text.toLowerCase(Locale.ROOT), enumNames(type)));
    }

    static List<String> enumNames(Class<? extends Enum<?>> type) {
        return Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList();
    }

    private static Method parseMethod(Class<?> type) {
        try {
            Method parse = type.getMethod("parse", String.class);
            return Modifier.isStatic(parse.getModifiers()) && parse.getReturnType() == type ? parse : null;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static Object read(RecordComponent component, Object base) {
        if (base == null) {
            return null;
        }
        try {
            return component.getAccessor().invoke(base);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private String keyText(Node keyNode, String path) throws ConfigException {
        if (!(keyNode instanceof ScalarNode)) {
            throw error(keyNode, path, "a key must be a plain word, got " + kind(keyNode));
        }
        return ((ScalarNode) keyNode).getValue();
    }

    private String scalar(Node node, String path, String expected) throws ConfigException {
        if (!(node instanceof ScalarNode)) {
            throw error(node, path, "expected " + expected + ", got " + kind(node));
        }
        String text = ((ScalarNode) node).getValue();
        if (text.indexOf("${") < 0) {
            return text;
        }
        Matcher reference = ENV_REFERENCE.matcher(text);
        StringBuilder expanded = new StringBuilder();
        while (reference.find()) {
            String value = environment.apply(reference.group(1));
            if (value == null) {
                value = reference.group(2);
            }
            if (value == null) {
                throw error(node, path, "environment variable " + reference.group(1) + " is not set (write ${env:"
                        + reference.group(1) + ":-fallback} for a default)");
            }
            reference.appendReplacement(expanded, Matcher.quoteReplacement(value));
        }
        reference.appendTail(expanded);
        return expanded.toString();
    }

    private static boolean isNull(Node node) {
        return node == null || node.getTag().equals(Tag.NULL);
    }

    private static String kind(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        return "'" + ((ScalarNode) node).getValue() + "'";
    }

    ConfigException error(Node node, String path, String problem) {
        return new ConfigException(where(node) + ": " + path + ": " + problem);
    }

    String where(Node node) {
        String origin = node == null ? null : origins.get(node);
        if (origin != null) {
            return origin;
        }
        if (node != null && node.getStartMark() != null) {
            return sourceName + ":" + (node.getStartMark().getLine() + 1);
        }
        return sourceName;
    }
}
