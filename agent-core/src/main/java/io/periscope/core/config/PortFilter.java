package io.periscope.core.config;

import java.util.List;

/** Which ports are traced: an empty allow list allows every port; deny wins over allow. */
public record PortFilter(List<PortRange> allow, List<PortRange> deny) {
    public PortFilter {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }

    /** Every port. */
    public static PortFilter defaults() {
        return new PortFilter(List.of(), List.of());
    }

    /** Whether traffic on {@code port} passes this filter. */
    public boolean admits(int port) {
        for (PortRange range : deny) {
            if (range.contains(port)) {
                return false;
            }
        }
        if (allow.isEmpty()) {
            return true;
        }
        for (PortRange range : allow) {
            if (range.contains(port)) {
                return true;
            }
        }
        return false;
    }
}
