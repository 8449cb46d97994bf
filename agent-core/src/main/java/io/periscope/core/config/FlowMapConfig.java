package io.periscope.core.config;

import java.time.Duration;

/**
 * The flow map: how many flows it holds, when quiet flows expire, how often flows are exported, and
 * whether a full map evicts its oldest flow (true) or drops the new one (false); either way counted.
 */
public record FlowMapConfig(@Range(min = 1024, max = 1L << 26) int capacity, FlowTimeouts timeouts,
                            Duration exportInterval, boolean evictWhenFull) {
    private static final int DEFAULT_CAPACITY = 262_144;

    public FlowMapConfig {
        if (exportInterval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ConfigValueException("export_interval", "must be at least 1s");
        }
    }

    /** 256 Ki flows, default timeouts, export every 10 s, evict when full. */
    public static FlowMapConfig defaults() {
        return new FlowMapConfig(DEFAULT_CAPACITY, FlowTimeouts.defaults(), Duration.ofSeconds(10), true);
    }
}
