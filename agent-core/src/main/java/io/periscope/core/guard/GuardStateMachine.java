package io.periscope.core.guard;

import io.periscope.core.config.LimitsConfig;

import java.util.Locale;

/**
 * The guard's decisions, free of clocks and procfs so they can be tested with synthetic readings.
 * Over budget (CPU or RSS above the limit) for {@code shed_after_samples} samples in a row: one
 * level up, never above {@code max_level}. Below {@code recover_below_fraction} of both budgets for
 * {@code recover_after_samples} in a row: one level down. Between the two (the hysteresis band) the
 * level holds and the streaks restart, so a load hovering at the limit does not flap.
 */
public final class GuardStateMachine {
    private static final double BYTES_PER_MIB = 1024.0 * 1024.0;

    private double maxCpuCores;
    private long maxMemoryBytes;
    private int shedAfterSamples;
    private int recoverAfterSamples;
    private double recoverBelowFraction;
    private GuardLevel maxLevel = GuardLevel.STOP_PAYLOAD_CAPTURE;
    private GuardLevel level = GuardLevel.NORMAL;
    private int overStreak;
    private int underStreak;
    private String lastReason = "";

    /** A machine at {@link GuardLevel#NORMAL} with the budget of {@code limits}. */
    public GuardStateMachine(LimitsConfig limits) {
        applyLimits(limits);
    }

    /**
     * A new budget (config reload); the level and streaks carry on, except that a level above the
     * new {@code max_level} comes down to it at once.
     */
    public void applyLimits(LimitsConfig limits) {
        maxCpuCores = limits.maxCpuCores();
        maxMemoryBytes = (long) limits.maxMemoryMb() * (long) BYTES_PER_MIB;
        shedAfterSamples = limits.guard().shedAfterSamples();
        recoverAfterSamples = limits.guard().recoverAfterSamples();
        recoverBelowFraction = limits.guard().recoverBelowFraction();
        maxLevel = GuardLevel.values()[limits.guard().maxLevel()];
        if (level.compareTo(maxLevel) > 0) {
            level = maxLevel;
            overStreak = 0;
            underStreak = 0;
            lastReason = "limits.guard.max_level is now " + maxLevel.number();
        }
    }

    /**
     * Feeds one sample: CPU used over the last interval (in cores; NaN when unknown) and the current
     * RSS (negative when unknown). Returns the level after the sample.
     */
    public GuardLevel onSample(double cpuCores, long rssBytes) {
        boolean cpuKnown = !Double.isNaN(cpuCores);
        boolean rssKnown = rssBytes >= 0;
        boolean over = (cpuKnown && cpuCores > maxCpuCores) || (rssKnown && rssBytes > maxMemoryBytes);
        boolean under = (!cpuKnown || cpuCores < maxCpuCores * recoverBelowFraction)
                && (!rssKnown || rssBytes < maxMemoryBytes * recoverBelowFraction);
        if (over) {
            overStreak++;
            underStreak = 0;
            if (overStreak >= shedAfterSamples && level.compareTo(maxLevel) < 0) {
                level = level.up();
                overStreak = 0;
                lastReason = describe("over budget", cpuCores, rssBytes);
            }
        } else if (under) {
            underStreak++;
            overStreak = 0;
            if (underStreak >= recoverAfterSamples && level != GuardLevel.NORMAL) {
                level = level.down();
                underStreak = 0;
                lastReason = describe("below " + Math.round(recoverBelowFraction * 100) + "% of budget",
                        cpuCores, rssBytes);
            }
        } else {
            overStreak = 0;
            underStreak = 0;
        }
        return level;
    }

    private String describe(String verdict, double cpuCores, long rssBytes) {
        return String.format(Locale.ROOT, "%s: cpu %.2f of %.2f cores, rss %.0f of %.0f MiB", verdict, cpuCores,
                maxCpuCores, rssBytes / BYTES_PER_MIB, maxMemoryBytes / BYTES_PER_MIB);
    }

    /** The current level. */
    public GuardLevel level() {
        return level;
    }

    /** Why the level last changed (for the log line). */
    public String lastReason() {
        return lastReason;
    }
}
