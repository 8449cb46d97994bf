package io.periscope.flowmap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads DeepFlow's flow-generator {@code .result} files: a {@code PerfData { ... }} block (Rust
 * Debug output) per packet, named by the capture it came from. Each block holds the cumulative
 * TCP perf counters after that packet.
 */
final class DeepflowPerfResult {
    private static final Pattern HEADER = Pattern.compile(
            "\\d+th perf data from \"resources/test/flow_generator/([^\"]+)\":");
    private static final Pattern TIME_STATS = Pattern.compile(
            "(\\w+): TimeStats \\{\\s*count: (\\d+),\\s*sum: ([^,]+),\\s*max: ([^,]+),");
    private static final Pattern FIELD = Pattern.compile("^\\s*(\\w+): ([0-9][0-9.]*[a-zµ]*),$", Pattern.MULTILINE);

    /** One block: plain fields as text, TimeStats as {count, sumNanos}. */
    record Block(Map<String, String> fields, Map<String, long[]> times) {
        long number(String name) {
            String v = fields.get(name);
            if (v == null) {
                throw new IllegalStateException("no field " + name + " in " + fields.keySet());
            }
            return Long.parseLong(v);
        }

        long nanos(String name) {
            return parseDurationNanos(fields.get(name));
        }

        long count(String stats) {
            return times.get(stats)[0];
        }

        long sumNanos(String stats) {
            return times.get(stats)[1];
        }
    }

    private DeepflowPerfResult() {
    }

    /** Blocks per capture file name, in file order. */
    static Map<String, List<Block>> read(Path result) throws IOException {
        String text = Files.readString(result);
        Map<String, List<Block>> out = new LinkedHashMap<>();
        Matcher header = HEADER.matcher(text);
        List<int[]> starts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        while (header.find()) {
            starts.add(new int[] {header.start(), header.end()});
            names.add(header.group(1));
        }
        for (int i = 0; i < starts.size(); i++) {
            int end = i + 1 < starts.size() ? starts.get(i + 1)[0] : text.length();
            String body = text.substring(starts.get(i)[1], end);
            Map<String, long[]> times = new LinkedHashMap<>();
            Matcher t = TIME_STATS.matcher(body);
            while (t.find()) {
                times.put(t.group(1), new long[] {Long.parseLong(t.group(2)), parseDurationNanos(t.group(3))});
            }
            Map<String, String> fields = new LinkedHashMap<>();
            Matcher f = FIELD.matcher(body);
            while (f.find()) {
                fields.put(f.group(1), f.group(2));
            }
            out.computeIfAbsent(names.get(i), k -> new ArrayList<>()).add(new Block(fields, times));
        }
        return out;
    }

    /** "216.3ms", "477µs", "0ns", "1.5s" as nanoseconds. */
    static long parseDurationNanos(String text) {
        String t = text.trim();
        double factor;
        String number;
        if (t.endsWith("ns")) {
            factor = 1;
            number = t.substring(0, t.length() - 2);
        } else if (t.endsWith("µs") || t.endsWith("us")) {
            factor = 1e3;
            number = t.substring(0, t.length() - 2);
        } else if (t.endsWith("ms")) {
            factor = 1e6;
            number = t.substring(0, t.length() - 2);
        } else if (t.endsWith("s")) {
            factor = 1e9;
            number = t.substring(0, t.length() - 1);
        } else {
            throw new IllegalArgumentException("not a duration: " + text);
        }
        return Math.round(Double.parseDouble(number) * factor);
    }
}
