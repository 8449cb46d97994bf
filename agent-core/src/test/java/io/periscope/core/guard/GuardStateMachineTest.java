package io.periscope.core.guard;

import io.periscope.core.config.GuardConfig;
import io.periscope.core.config.LimitsConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class GuardStateMachineTest {
    private static final long MIB = 1024L * 1024;
    // 1 core, 100 MiB; shed after 2 samples over, recover after 3 samples below 80 %.
    private static final LimitsConfig LIMITS = new LimitsConfig(128, 1.0,
            new GuardConfig(true, Duration.ofSeconds(1), 2, 3, 0.8, 0.1, 3));
    private static final long BUDGET_BYTES = 128 * MIB;
    private static final long CALM_BYTES = 50 * MIB;

    private final GuardStateMachine machine = new GuardStateMachine(LIMITS);

    private GuardLevel feed(int samples, double cores, long rss) {
        GuardLevel level = machine.level();
        for (int i = 0; i < samples; i++) {
            level = machine.onSample(cores, rss);
        }
        return level;
    }

    @Test
    void shouldStayNormalWithinBudget() {
        assertThat(feed(100, 0.9, BUDGET_BYTES - 1)).isEqualTo(GuardLevel.NORMAL);
    }

    @Test
    void shouldStepUpOneLevelPerStreakOverBudget() {
        assertThat(machine.onSample(1.5, CALM_BYTES)).isEqualTo(GuardLevel.NORMAL);
        assertThat(machine.onSample(1.5, CALM_BYTES)).isEqualTo(GuardLevel.SHALLOW_PARSING);
        assertThat(machine.onSample(1.5, CALM_BYTES)).as("a new streak is needed")
                .isEqualTo(GuardLevel.SHALLOW_PARSING);
        assertThat(machine.onSample(1.5, CALM_BYTES)).isEqualTo(GuardLevel.SAMPLE_REQUEST_LOGS);
        assertThat(feed(2, 1.5, CALM_BYTES)).isEqualTo(GuardLevel.STOP_PAYLOAD_CAPTURE);
        assertThat(feed(10, 1.5, CALM_BYTES)).as("the top level holds").isEqualTo(GuardLevel.STOP_PAYLOAD_CAPTURE);
        assertThat(machine.lastReason()).startsWith("over budget: cpu 1.50 of 1.00 cores");
    }

    @Test
    void shouldShedOnMemoryAlone() {
        assertThat(feed(2, 0.1, BUDGET_BYTES + 1)).isEqualTo(GuardLevel.SHALLOW_PARSING);
    }

    @Test
    void shouldNeedAnUnbrokenStreakToShed() {
        machine.onSample(1.5, CALM_BYTES);
        machine.onSample(0.9, CALM_BYTES);
        assertThat(machine.onSample(1.5, CALM_BYTES)).isEqualTo(GuardLevel.NORMAL);
    }

    @Test
    void shouldStepDownOnlyBelowTheRecoveryFractionWithHysteresis() {
        feed(4, 2.0, CALM_BYTES);
        assertThat(machine.level()).isEqualTo(GuardLevel.SAMPLE_REQUEST_LOGS);
        // 0.9 cores is inside the budget but above 80 % of it: the band where the level holds.
        assertThat(feed(50, 0.9, CALM_BYTES)).isEqualTo(GuardLevel.SAMPLE_REQUEST_LOGS);
        assertThat(feed(2, 0.5, CALM_BYTES)).isEqualTo(GuardLevel.SAMPLE_REQUEST_LOGS);
        assertThat(machine.onSample(0.5, CALM_BYTES)).isEqualTo(GuardLevel.SHALLOW_PARSING);
        assertThat(feed(3, 0.5, CALM_BYTES)).isEqualTo(GuardLevel.NORMAL);
        assertThat(feed(10, 0.5, CALM_BYTES)).isEqualTo(GuardLevel.NORMAL);
        assertThat(machine.lastReason()).startsWith("below 80% of budget");
    }

    @Test
    void shouldNotRecoverWhileMemoryStaysHigh() {
        feed(2, 2.0, CALM_BYTES);
        assertThat(feed(20, 0.1, (long) (BUDGET_BYTES * 0.9))).isEqualTo(GuardLevel.SHALLOW_PARSING);
    }

    @Test
    void shouldTreatUnknownReadingsAsNoEvidence() {
        assertThat(feed(5, Double.NaN, -1)).isEqualTo(GuardLevel.NORMAL);
        feed(2, Double.NaN, BUDGET_BYTES * 2);
        assertThat(machine.level()).isEqualTo(GuardLevel.SHALLOW_PARSING);
    }

    private static LimitsConfig maxLevel(int level) {
        return new LimitsConfig(128, 1.0, new GuardConfig(true, Duration.ofSeconds(1), 2, 3, 0.8, 0.1, level));
    }

    @Test
    void shouldNotShedPastMaxLevelAndComeDownWhenItIsLowered() {
        machine.applyLimits(maxLevel(2));
        assertThat(feed(20, 1.5, CALM_BYTES)).isEqualTo(GuardLevel.SAMPLE_REQUEST_LOGS);
        machine.applyLimits(maxLevel(1));
        assertThat(machine.level()).as("at once, without waiting for a recovery streak")
                .isEqualTo(GuardLevel.SHALLOW_PARSING);
        assertThat(machine.lastReason()).contains("max_level is now 1");
        machine.applyLimits(maxLevel(0));
        assertThat(feed(20, 1.5, CALM_BYTES)).as("max_level 0: never shed").isEqualTo(GuardLevel.NORMAL);
    }

    @Test
    void shouldApplyANewBudget() {
        machine.applyLimits(new LimitsConfig(128, 4.0, LIMITS.guard()));
        assertThat(feed(10, 2.0, CALM_BYTES)).isEqualTo(GuardLevel.NORMAL);
    }

    @Test
    void shouldDescribeWhatEachLevelSheds() {
        assertThat(GuardLevel.NORMAL.shallowParsing()).isFalse();
        assertThat(GuardLevel.SHALLOW_PARSING.shallowParsing()).isTrue();
        assertThat(GuardLevel.SHALLOW_PARSING.sampleRequestLogs()).isFalse();
        assertThat(GuardLevel.SAMPLE_REQUEST_LOGS.sampleRequestLogs()).isTrue();
        assertThat(GuardLevel.SAMPLE_REQUEST_LOGS.payloadCapture()).isTrue();
        assertThat(GuardLevel.STOP_PAYLOAD_CAPTURE.payloadCapture()).isFalse();
        assertThat(GuardLevel.STOP_PAYLOAD_CAPTURE.shallowParsing()).isTrue();
    }
}
