package io.periscope.core.config;

import java.time.Duration;

/** How long a quiet flow stays in the flow map, by TCP state (and for UDP/other flows). */
public record FlowTimeouts(Duration opening, Duration established, Duration closing, Duration closed,
                           Duration udp) {
    public FlowTimeouts {
        positive("opening", opening);
        positive("established", established);
        positive("closing", closing);
        positive("closed", closed);
        positive("udp", udp);
    }

    private static void positive(String key, Duration value) {
        if (value.isZero() || value.isNegative()) {
            throw new ConfigValueException(key, "must be positive, e.g. 5s");
        }
    }

    /** SYN seen 5 s, established 300 s, FIN seen 35 s, closed/reset 2 s, UDP 30 s. */
    public static FlowTimeouts defaults() {
        return new FlowTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(300), Duration.ofSeconds(35),
                Duration.ofSeconds(2), Duration.ofSeconds(30));
    }
}
