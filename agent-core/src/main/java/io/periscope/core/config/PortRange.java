package io.periscope.core.config;

/** A port or an inclusive range of ports, written {@code 80} or {@code 8000-8100}. */
public record PortRange(int first, int last) {
    private static final int MAX_PORT = 65_535;

    public PortRange {
        if (first < 1 || last > MAX_PORT || first > last) {
            throw new IllegalArgumentException("a port is 1-65535 and a range is low-high, got "
                    + (first == last ? Integer.toString(first) : first + "-" + last));
        }
    }

    /** One port. */
    public static PortRange of(int port) {
        return new PortRange(port, port);
    }

    /** Parses {@code 80} or {@code 8000-8100}. */
    public static PortRange parse(String text) {
        String trimmed = text.trim();
        int dash = trimmed.indexOf('-', 1);
        try {
            if (dash < 0) {
                return of(Integer.parseInt(trimmed));
            }
            return new PortRange(Integer.parseInt(trimmed.substring(0, dash).trim()),
                    Integer.parseInt(trimmed.substring(dash + 1).trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a port like 80 or a range like 8000-8100, got '"
                    + text + "'");
        }
    }

    /** Whether {@code port} falls in this range. */
    public boolean contains(int port) {
        return port >= first && port <= last;
    }

    @Override
    public String toString() {
        return first == last ? Integer.toString(first) : first + "-" + last;
    }
}
