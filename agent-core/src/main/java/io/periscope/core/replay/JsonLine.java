package io.periscope.core.replay;

/**
 * One flat JSON object written field by field: strings escaped per RFC 8259, integers exact (a
 * protobuf Struct would turn every number into a double and print 200 as 200.0).
 */
final class JsonLine {
    private final StringBuilder out = new StringBuilder(512);
    private boolean first = true;

    JsonLine begin() {
        out.setLength(0);
        out.append('{');
        first = true;
        return this;
    }

    JsonLine field(String key, String value) {
        key(key);
        string(value);
        return this;
    }

    JsonLine field(String key, long value) {
        key(key);
        out.append(value);
        return this;
    }

    JsonLine field(String key, double value) {
        key(key);
        if (Double.isFinite(value)) {
            out.append(value);
        } else {
            out.append("null");
        }
        return this;
    }

    JsonLine field(String key, boolean value) {
        key(key);
        out.append(value);
        return this;
    }

    /** The finished object (no trailing newline). */
    String end() {
        return out.append('}').toString();
    }

    private void key(String key) {
        if (!first) {
            out.append(',');
        }
        first = false;
        string(key);
        out.append(':');
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }
}
