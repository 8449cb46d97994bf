package io.periscope.core.guard;

import io.periscope.core.config.GuardConfig;
import io.periscope.core.config.LimitsConfig;
import io.periscope.core.telemetry.MetricsRegistry;
import io.periscope.core.telemetry.ProcessStats;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ResourceGuardTest {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final long RSS_BYTES = 10L * 1024 * 1024;

    private final MetricsRegistry registry = new MetricsRegistry();
    private final ResourceGuard guard = new ResourceGuard(
            new LimitsConfig(256, 1.0, new GuardConfig(true, Duration.ofSeconds(1), 2, 2, 0.8, 0.1, 3)),
            ProcessStats.self(), registry);

    @Test
    void shouldTurnCpuSecondsIntoCoresAndNotifyEachStep() {
        List<GuardLevel> seen = new ArrayList<>();
        guard.onLevelChange(seen::add);
        double cpuSeconds = 0;
        long now = 0;
        guard.sample(cpuSeconds, RSS_BYTES, now);
        // 1.5 CPU seconds per wall second = 1.5 cores, over the 1-core budget.
        for (int i = 0; i < 4; i++) {
            cpuSeconds += 1.5;
            now += NANOS_PER_SECOND;
            guard.sample(cpuSeconds, RSS_BYTES, now);
        }
        assertThat(seen).containsExactly(GuardLevel.SHALLOW_PARSING, GuardLevel.SAMPLE_REQUEST_LOGS);
        assertThat(guard.level()).isEqualTo(GuardLevel.SAMPLE_REQUEST_LOGS);
        assertThat(registry.value("periscope_guard_level")).isEqualTo(2.0);
        assertThat(registry.value("periscope_guard_cpu_cores")).isEqualTo(1.5);

        for (int i = 0; i < 4; i++) {
            cpuSeconds += 0.1;
            now += NANOS_PER_SECOND;
            guard.sample(cpuSeconds, RSS_BYTES, now);
        }
        assertThat(seen).containsExactly(GuardLevel.SHALLOW_PARSING, GuardLevel.SAMPLE_REQUEST_LOGS,
                GuardLevel.SHALLOW_PARSING, GuardLevel.NORMAL);
        assertThat(registry.value("periscope_guard_level")).isZero();
        assertThat(registry.value("periscope_guard_level_changes_total", "direction", "up")).isEqualTo(2.0);
        assertThat(registry.value("periscope_guard_level_changes_total", "direction", "down")).isEqualTo(2.0);
    }

    @Test
    void shouldNotifyWhenALowerMaxLevelBringsTheLevelDown() {
        List<GuardLevel> seen = new ArrayList<>();
        guard.onLevelChange(seen::add);
        for (int i = 0; i < 4; i++) {
            guard.sample(0, RSS_BYTES * 1000, i * NANOS_PER_SECOND);
        }
        assertThat(guard.level()).isEqualTo(GuardLevel.SAMPLE_REQUEST_LOGS);
        guard.applyLimits(new LimitsConfig(256, 1.0, new GuardConfig(true, Duration.ofSeconds(1), 2, 2, 0.8, 0.1, 0)));
        assertThat(seen).containsExactly(GuardLevel.SHALLOW_PARSING, GuardLevel.SAMPLE_REQUEST_LOGS, GuardLevel.NORMAL);
        assertThat(registry.value("periscope_guard_level")).isZero();
    }

    @Test
    void shouldKeepGoingWhenAListenerThrows() {
        guard.onLevelChange(level -> {
            throw new IllegalStateException("listener bug");
        });
        List<GuardLevel> seen = new ArrayList<>();
        guard.onLevelChange(seen::add);
        guard.sample(0, RSS_BYTES * 1000, 0);
        guard.sample(0, RSS_BYTES * 1000, NANOS_PER_SECOND);
        assertThat(seen).containsExactly(GuardLevel.SHALLOW_PARSING);
    }
}
