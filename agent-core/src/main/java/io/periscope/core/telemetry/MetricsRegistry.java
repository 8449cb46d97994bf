package io.periscope.core.telemetry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.regex.Pattern;

/**
 * The agent's own metrics, named {@code periscope_*}, written in the Prometheus text format.
 *
 * <p>Registration (at setup, any thread) takes a lock; updating a {@link Counter} or {@link Gauge}
 * does not. Registering the same name and labels again returns the same metric, so components can
 * ask for their counters without coordinating. Labels are given as name/value pairs.
 */
public final class MetricsRegistry {
    private static final Pattern NAME = Pattern.compile("periscope_[a-z0-9_]*[a-z0-9]");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-z_][a-z0-9_]*");

    private enum Type { COUNTER, GAUGE }

    /** One metric name: its help, type and one series per label set. */
    private static final class Family {
        final String name;
        final String help;
        final Type type;
        final Map<String, Object> series = new LinkedHashMap<>();

        Family(String name, String help, Type type) {
            this.name = name;
            this.help = help;
            this.type = type;
        }
    }

    private final Map<String, Family> families = new LinkedHashMap<>();

    /** A counter; its name ends in {@code _total}. */
    public synchronized Counter counter(String name, String help, String... labels) {
        requireTotal(name);
        return (Counter) register(name, help, Type.COUNTER, labels, new Counter(), Counter.class);
    }

    /**
     * A counter whose value is read from {@code source} at scrape time (a kernel drop count, CPU
     * seconds); the source must never go down.
     */
    public synchronized void counter(String name, String help, DoubleSupplier source, String... labels) {
        requireTotal(name);
        register(name, help, Type.COUNTER, labels, new SuppliedCounter(source), SuppliedCounter.class);
    }

    /** Tells a supplied counter from a supplied gauge when the same name is registered twice. */
    private static final class SuppliedCounter {
        final DoubleSupplier source;

        SuppliedCounter(DoubleSupplier source) {
            this.source = source;
        }
    }

    /** A settable gauge. */
    public synchronized Gauge gauge(String name, String help, String... labels) {
        return (Gauge) register(name, help, Type.GAUGE, labels, new Gauge(), Gauge.class);
    }

    /** A gauge read from {@code source} at scrape time (queue depth, RSS). */
    public synchronized void gauge(String name, String help, DoubleSupplier source, String... labels) {
        register(name, help, Type.GAUGE, labels, source, DoubleSupplier.class);
    }

    private static void requireTotal(String name) {
        if (!name.endsWith("_total")) {
            throw new IllegalArgumentException("a counter's name ends in _total (Prometheus convention): " + name);
        }
    }

    private Object register(String name, String help, Type type, String[] labels, Object metric, Class<?> kind) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a self-metric is named periscope_<lower_snake_case>: " + name);
        }
        String labelText = labelText(labels);
        Family family = families.computeIfAbsent(name, n -> new Family(n, help, type));
        if (family.type != type) {
            throw new IllegalArgumentException(name + " is already a " + family.type.name().toLowerCase()
                    + ", cannot register it as a " + type.name().toLowerCase());
        }
        Object existing = family.series.get(labelText);
        if (existing != null) {
            if (!kind.isInstance(existing)) {
                throw new IllegalArgumentException(name + labelText + " is already registered with another source");
            }
            return existing;
        }
        family.series.put(labelText, metric);
        return metric;
    }

    private static String labelText(String[] labels) {
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels come in name/value pairs");
        }
        if (labels.length == 0) {
            return "";
        }
        StringBuilder text = new StringBuilder("{");
        for (int i = 0; i < labels.length; i += 2) {
            if (!LABEL_NAME.matcher(labels[i]).matches()) {
                throw new IllegalArgumentException("bad label name '" + labels[i] + "'");
            }
            if (i > 0) {
                text.append(',');
            }
            text.append(labels[i]).append("=\"");
            String value = labels[i + 1];
            for (int c = 0; c < value.length(); c++) {
                char ch = value.charAt(c);
                if (ch == '\\' || ch == '"') {
                    text.append('\\').append(ch);
                } else if (ch == '\n') {
                    text.append("\\n");
                } else {
                    text.append(ch);
                }
            }
            text.append('"');
        }
        return text.append('}').toString();
    }

    /** The current value of one series, for tests and the guard; NaN when absent. */
    public synchronized double value(String name, String... labels) {
        Family family = families.get(name);
        Object metric = family == null ? null : family.series.get(labelText(labels));
        return metric == null ? Double.NaN : read(metric);
    }

    /** Every metric in the Prometheus text exposition format 0.0.4. */
    public String scrape() {
        StringBuilder out = new StringBuilder(4096);
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Writes every metric in the Prometheus text format to {@code out}. */
    public void writeTo(Appendable out) throws IOException {
        List<Family> snapshot;
        List<List<Map.Entry<String, Object>>> series = new ArrayList<>();
        synchronized (this) {
            snapshot = new ArrayList<>(families.values());
            for (Family family : snapshot) {
                series.add(new ArrayList<>(family.series.entrySet()));
            }
        }
        for (int f = 0; f < snapshot.size(); f++) {
            Family family = snapshot.get(f);
            out.append("# HELP ").append(family.name).append(' ')
                    .append(family.help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
            out.append("# TYPE ").append(family.name).append(' ')
                    .append(family.type == Type.COUNTER ? "counter" : "gauge").append('\n');
            for (Map.Entry<String, Object> entry : series.get(f)) {
                out.append(family.name).append(entry.getKey()).append(' ')
                        .append(format(read(entry.getValue()))).append('\n');
            }
        }
    }

    private static double read(Object metric) {
        if (metric instanceof Counter) {
            return ((Counter) metric).get();
        }
        if (metric instanceof Gauge) {
            return ((Gauge) metric).get();
        }
        if (metric instanceof SuppliedCounter) {
            return ((SuppliedCounter) metric).source.getAsDouble();
        }
        return ((DoubleSupplier) metric).getAsDouble();
    }

    private static String format(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }
}
