package io.periscope.core.guard;

import io.periscope.core.config.LimitsConfig;
import io.periscope.core.telemetry.Counter;
import io.periscope.core.telemetry.Gauge;
import io.periscope.core.telemetry.MetricsRegistry;
import io.periscope.core.telemetry.ProcessStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Keeps the agent inside its CPU and memory budget: samples /proc/self every
 * {@code limits.guard.sample_interval}, runs the {@link GuardStateMachine}, logs each step, shows it as
 * {@code periscope_guard_level} and tells the listeners (the pipeline switches parsers to shallow,
 * samples request logs, or stops payload capture).
 */
public final class ResourceGuard implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ResourceGuard.class);
    private static final double NANOS_PER_SECOND = 1e9;

    private final ProcessStats stats;
    private final GuardStateMachine machine;
    private final List<Consumer<GuardLevel>> listeners = new CopyOnWriteArrayList<>();
    private final Gauge levelGauge;
    private final Counter stepsUp;
    private final Counter stepsDown;
    private volatile LimitsConfig limits;
    private volatile GuardLevel level = GuardLevel.NORMAL;
    private volatile double lastCpuCores = Double.NaN;
    private double previousCpuSeconds = Double.NaN;
    private long previousNanos;
    private ScheduledExecutorService timer;

    /** A guard over {@code stats} (normally {@link ProcessStats#self()}) with the budget of {@code limits}. */
    public ResourceGuard(LimitsConfig limits, ProcessStats stats, MetricsRegistry registry) {
        this.limits = limits;
        this.stats = stats;
        this.machine = new GuardStateMachine(limits);
        this.levelGauge = registry.gauge("periscope_guard_level",
                "Load shedding: 0 normal, 1 shallow parsing, 2 sampled request logs, 3 no payload capture");
        String help = "Resource guard level changes by direction";
        this.stepsUp = registry.counter("periscope_guard_level_changes_total", help, "direction", "up");
        this.stepsDown = registry.counter("periscope_guard_level_changes_total", help, "direction", "down");
        registry.gauge("periscope_guard_cpu_cores", "CPU the agent used over the last guard sample, cores",
                () -> lastCpuCores);
        registry.gauge("periscope_guard_cpu_budget_cores", "limits.max_cpu_cores", () -> this.limits.maxCpuCores());
        registry.gauge("periscope_guard_memory_budget_bytes", "limits.max_memory_mb in bytes",
                () -> this.limits.maxMemoryMb() * 1024.0 * 1024.0);
    }

    /** Calls {@code listener} on the guard's thread each time the level changes. */
    public void onLevelChange(Consumer<GuardLevel> listener) {
        listeners.add(listener);
    }

    /** The current level; cheap (a volatile read), fine to poll per batch. */
    public GuardLevel level() {
        return level;
    }

    /** Starts sampling on a daemon thread; a guard disabled in the config stays at NORMAL. */
    public synchronized void start() {
        if (!limits.guard().enabled() || timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "periscope-resource-guard");
            thread.setDaemon(true);
            return thread;
        });
        long periodMillis = limits.guard().sampleInterval().toMillis();
        timer.scheduleAtFixedRate(this::sampleNow, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        LOG.info("resource guard on: budget {} cores, {} MiB", limits.maxCpuCores(), limits.maxMemoryMb());
    }

    /** A new budget from a config reload; the interval stays (it needs a restart). */
    public synchronized void applyLimits(LimitsConfig newLimits) {
        limits = newLimits;
        machine.applyLimits(newLimits);
        // A lower max_level can bring the level down at once.
        changeLevel(machine.level());
    }

    private void sampleNow() {
        try {
            sample(stats.cpuSeconds(), stats.rssBytes(), System.nanoTime());
        } catch (RuntimeException e) {
            LOG.warn("resource guard sample failed", e);
        }
    }

    /** One sample: total CPU seconds of the process so far, RSS, and a monotonic clock reading. */
    synchronized void sample(double cpuSecondsTotal, long rssBytes, long nowNanos) {
        double cpuCores = Double.NaN;
        if (!Double.isNaN(previousCpuSeconds) && !Double.isNaN(cpuSecondsTotal) && nowNanos > previousNanos) {
            cpuCores = (cpuSecondsTotal - previousCpuSeconds) / ((nowNanos - previousNanos) / NANOS_PER_SECOND);
        }
        previousCpuSeconds = cpuSecondsTotal;
        previousNanos = nowNanos;
        lastCpuCores = cpuCores;
        changeLevel(machine.onSample(cpuCores, rssBytes));
    }

    private void changeLevel(GuardLevel after) {
        GuardLevel before = level;
        if (after == before) {
            return;
        }
        level = after;
        levelGauge.set(after.number());
        if (after.compareTo(before) > 0) {
            stepsUp.increment();
            LOG.warn("resource guard: level {} -> {} ({}); {}", before.number(), after.number(), after,
                    machine.lastReason());
        } else {
            stepsDown.increment();
            LOG.info("resource guard: level {} -> {} ({}); {}", before.number(), after.number(), after,
                    machine.lastReason());
        }
        for (Consumer<GuardLevel> listener : listeners) {
            try {
                listener.accept(after);
            } catch (RuntimeException e) {
                LOG.error("resource guard listener {} failed", listener, e);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}
