package io.periscope.core.config;

import java.time.Duration;

/**
 * How long a quiet flow stays in the flow map, by TCP state (and for UDP/other flows). The
 * defaults are DeepFlow's: opening 5 s, established 300 s, closing 5 s, closed by FIN 2 s, reset 35 s.
 */
public record FlowTimeouts(Duration opening, Duration established, Duration closing, Duration closed,
                           Duration reset, Duration udp) {
    public FlowTimeouts {
        positive("opening", opening);
        positive("established", established);
        positive("closing", closing);
        positive("closed", closed);
        positive("reset", reset);
        positive("udp", udp);
    }

    private static void positive(String key, Duration value) {
        if (value.isZero() || value.isNegative()) {
            throw new ConfigValueException(key, "must be positive, e.g. 5s");
        }
    }

    /** SYN seen 5 s, established 300 s, FIN seen 5 s, closed by FINs 2 s, reset 35 s, UDP 30 s. */
    public static FlowTimeouts defaults() {
        return new FlowTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(300), Duration.ofSeconds(5),
                Duration.ofSeconds(2), Duration.ofSeconds(35), Duration.ofSeconds(30));
    }
}
