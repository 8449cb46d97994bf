package io.periscope.core.config;

import java.time.Duration;

/**
 * The flow map: how many flows it holds, when quiet flows expire, how often flows are exported,
 * whether a full map evicts its oldest flow (true) or drops the new one (false), either way
 * counted, and how often the per-endpoint network metrics are exported (0: not aggregated).
 */
public record FlowMapConfig(@Range(min = 1024, max = 1L << 26) int capacity, FlowTimeouts timeouts,
                            Duration exportInterval, boolean evictWhenFull, Duration endpointMetricsInterval) {
    private static final int DEFAULT_CAPACITY = 262_144;

    public FlowMapConfig {
        if (exportInterval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ConfigValueException("export_interval", "must be at least 1s");
        }
        if (!endpointMetricsInterval.isZero() && endpointMetricsInterval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ConfigValueException("endpoint_metrics_interval", "must be 0s (off) or at least 1s");
        }
    }

    /** 256 Ki flows, default timeouts, export every 10 s, evict when full, endpoint metrics every second. */
    public static FlowMapConfig defaults() {
        return new FlowMapConfig(DEFAULT_CAPACITY, FlowTimeouts.defaults(), Duration.ofSeconds(10), true,
                Duration.ofSeconds(1));
    }
}
