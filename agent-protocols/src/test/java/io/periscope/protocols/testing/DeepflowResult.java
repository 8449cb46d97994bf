package io.periscope.protocols.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a DeepFlow {@code .result} file: one line per parsed message, either Rust Debug output
 * ({@code method: Post, path: "/x", status_code: Some(200)}) or a JSON object followed by
 * {@code key: value} pairs. Each line becomes a flat map of top-level field names to values
 * ({@code Some(x)} unwrapped, strings unquoted). Nested structures are not needed and are read
 * loosely. Test scope.
 */
public final class DeepflowResult {
    private static final Pattern DEBUG_FIELD = Pattern.compile(
            "(\\w+): (?:\"((?:[^\"\\\\]++|\\\\.)*+)\"|Some\\(\"?((?:[^\")\\\\]|\\\\.)*)\"?\\)|(-?[A-Za-z0-9_.]+))");
    private static final Pattern JSON_FIELD = Pattern.compile(
            "\"(\\w+)\":(?:\"((?:[^\"\\\\]++|\\\\.)*+)\"|(-?[A-Za-z0-9_.]+))");

    private DeepflowResult() {
    }

    public static List<Map<String, String>> read(Path file) throws IOException {
        List<Map<String, String>> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, String> m = new HashMap<>();
            Matcher j = JSON_FIELD.matcher(line);
            while (j.find()) {
                m.putIfAbsent(j.group(1), unescape(j.group(2) != null ? j.group(2) : j.group(3)));
            }
            Matcher d = DEBUG_FIELD.matcher(line);
            while (d.find()) {
                String v = d.group(2) != null ? d.group(2) : d.group(3) != null ? d.group(3) : d.group(4);
                if (!"None".equals(v)) {
                    m.putIfAbsent(d.group(1), unescape(v));
                }
            }
            out.add(m);
        }
        return out;
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                b.append(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'u' -> {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> b.append(n);
            }
        }
        return b.toString();
    }
}
