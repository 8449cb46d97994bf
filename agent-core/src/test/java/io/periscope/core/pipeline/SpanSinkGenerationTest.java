package io.periscope.core.pipeline;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SpanSinkGenerationTest {
    @Test
    void shouldHandBackExactlyThePidsAdvancedSinceTheSinkLastLooked() {
        SpanSink.Generation generation = new SpanSink.Generation();
        generation.advance(10);
        long seen = generation.current();
        generation.advance(11);
        generation.advance(12);
        generation.advance(11);
        List<Integer> forgotten = new ArrayList<>();
        assertThat(generation.catchUp(seen, generation.current(), forgotten::add)).isTrue();
        assertThat(forgotten).containsExactly(11, 12, 11);
    }

    @Test
    void shouldCatchUpAcrossTheWrapOfItsRecentPids() {
        SpanSink.Generation generation = new SpanSink.Generation();
        for (int pid = 1; pid <= 100; pid++) {
            generation.advance(pid);
        }
        long seen = generation.current() - SpanSink.Generation.RECENT_PIDS;
        List<Integer> forgotten = new ArrayList<>();
        assertThat(generation.catchUp(seen, generation.current(), forgotten::add)).isTrue();
        assertThat(forgotten).hasSize(SpanSink.Generation.RECENT_PIDS).startsWith(37).endsWith(100);
    }

    @Test
    void shouldAskForAFullClearWhenTooFarBehind() {
        SpanSink.Generation generation = new SpanSink.Generation();
        for (int pid = 1; pid <= SpanSink.Generation.RECENT_PIDS + 1; pid++) {
            generation.advance(pid);
        }
        List<Integer> forgotten = new ArrayList<>();
        assertThat(generation.catchUp(0, generation.current(), forgotten::add)).isFalse();
        // A sink whose filters changed (seen = -1) clears too.
        assertThat(generation.catchUp(-1, generation.current(), forgotten::add)).isFalse();
        assertThat(forgotten).isEmpty();
    }

    @Test
    void shouldAskForAFullClearWhenThePidsWereOverwrittenWhileBeingRead() {
        SpanSink.Generation generation = new SpanSink.Generation();
        generation.advance(7);
        generation.advance(8);
        long now = generation.current();
        boolean[] once = {false};
        boolean kept = generation.catchUp(0, now, pid -> {
            if (!once[0]) {
                once[0] = true;
                // Another thread's execs overwrite the slots this sink is reading.
                for (int i = 0; i < SpanSink.Generation.RECENT_PIDS; i++) {
                    generation.advance(1000 + i);
                }
            }
        });
        assertThat(kept).isFalse();
    }
}
