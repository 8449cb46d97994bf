package io.periscope.core.config;

import java.time.Duration;

/**
 * The resource guard's tuning: it samples CPU and RSS every {@code sample_interval}, sheds one
 * level after {@code shed_after_samples} samples over budget in a row, and recovers one level after
 * {@code recover_after_samples} samples in a row below {@code recover_below_fraction} of the budget.
 * It never goes past {@code max_level}; at level 2 it keeps {@code sample_keep_ratio} of the
 * request logs as spans.
 */
public record GuardConfig(boolean enabled, Duration sampleInterval,
                          @Range(min = 1, max = 3600) int shedAfterSamples,
                          @Range(min = 1, max = 3600) int recoverAfterSamples,
                          double recoverBelowFraction,
                          double sampleKeepRatio,
                          @Range(min = 0, max = 3) int maxLevel) {
    private static final int DEFAULT_SHED_AFTER_SAMPLES = 3;
    private static final int DEFAULT_RECOVER_AFTER_SAMPLES = 10;
    private static final double DEFAULT_RECOVER_BELOW_FRACTION = 0.8;
    private static final double DEFAULT_SAMPLE_KEEP_RATIO = 0.1;
    private static final int DEFAULT_MAX_LEVEL = 3;

    public GuardConfig {
        if (sampleInterval.compareTo(Duration.ofMillis(100)) < 0) {
            throw new ConfigValueException("sample_interval", "must be at least 100ms");
        }
        if (!(recoverBelowFraction > 0.0 && recoverBelowFraction < 1.0)) {
            throw new ConfigValueException("recover_below_fraction",
                    "must be between 0 and 1 (exclusive) so the guard does not flap, got " + recoverBelowFraction);
        }
        if (!(sampleKeepRatio >= 0.0 && sampleKeepRatio <= 1.0)) {
            throw new ConfigValueException("sample_keep_ratio",
                    "must be between 0 and 1 (the share of request logs kept as spans), got " + sampleKeepRatio);
        }
    }

    /** On, 1 s samples, shed after 3, recover after 10 below 80 %, keep 10 % when sampling, up to level 3. */
    public static GuardConfig defaults() {
        return new GuardConfig(true, Duration.ofSeconds(1), DEFAULT_SHED_AFTER_SAMPLES,
                DEFAULT_RECOVER_AFTER_SAMPLES, DEFAULT_RECOVER_BELOW_FRACTION, DEFAULT_SAMPLE_KEEP_RATIO,
                DEFAULT_MAX_LEVEL);
    }
}
