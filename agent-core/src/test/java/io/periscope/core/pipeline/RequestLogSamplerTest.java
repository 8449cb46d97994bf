package io.periscope.core.pipeline;

import io.periscope.protocols.RequestLog;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class RequestLogSamplerTest {
    private static final int REQUESTS = 100_000;

    private static RequestLog withTraceId(SplittableRandom random) {
        RequestLog log = new RequestLog().hasTraceContext(true);
        byte[] id = log.traceId();
        for (int i = 0; i < id.length; i++) {
            id[i] = (byte) random.nextInt(256);
        }
        return log;
    }

    @Test
    void shouldKeepExactlyTheRatioWithNoTraceIdsByCounting() {
        RequestLogSampler sampler = new RequestLogSampler();
        RequestLog log = new RequestLog();
        int kept = 0;
        for (int i = 0; i < 1000; i++) {
            kept += sampler.keep(log, 0.1) ? 1 : 0;
        }
        assertThat(kept).isEqualTo(100);
        int keptQuarter = 0;
        for (int i = 0; i < 1000; i++) {
            keptQuarter += sampler.keep(log, 0.25) ? 1 : 0;
        }
        assertThat(keptQuarter).as("a new ratio applies at once").isEqualTo(250);
    }

    @Test
    void shouldKeepAboutTheRatioOfRandomTraceIds() {
        RequestLogSampler sampler = new RequestLogSampler();
        SplittableRandom random = new SplittableRandom(42);
        int kept = 0;
        for (int i = 0; i < REQUESTS; i++) {
            kept += sampler.keep(withTraceId(random), 0.1) ? 1 : 0;
        }
        // Binomial(100000, 0.1): standard deviation about 95; 6 sigma either way.
        assertThat(kept).isBetween(9_430, 10_570);
    }

    @Test
    void shouldDecideTheSameForEverySpanOfATraceWhateverTheOrderOrSampler() {
        SplittableRandom random = new SplittableRandom(7);
        RequestLogSampler first = new RequestLogSampler();
        RequestLogSampler second = new RequestLogSampler();
        RequestLog unrelated = new RequestLog();
        int kept = 0;
        for (int i = 0; i < 10_000; i++) {
            RequestLog log = withTraceId(random);
            boolean decision = first.keep(log, 0.3);
            // Another sink (another shard or agent) with requests of its own in between.
            second.keep(unrelated, 0.3);
            assertThat(second.keep(log, 0.3)).isEqualTo(decision);
            kept += decision ? 1 : 0;
        }
        assertThat(kept).isBetween(2_700, 3_300);
    }

    @Test
    void shouldKeepNestedRatiosNested() {
        // A trace kept at 10 % is also kept at 50 %: lowering the ratio only drops more traces.
        SplittableRandom random = new SplittableRandom(3);
        RequestLogSampler sampler = new RequestLogSampler();
        for (int i = 0; i < 10_000; i++) {
            RequestLog log = withTraceId(random);
            if (sampler.keep(log, 0.1)) {
                assertThat(sampler.keep(log, 0.5)).isTrue();
            }
        }
    }

    @Test
    void shouldSampleBySyscallTraceIdWithoutTraceContext() {
        RequestLogSampler sampler = new RequestLogSampler();
        int kept = 0;
        for (long id = 1; id <= REQUESTS; id++) {
            // Sequential ids, as the kernel hands them out: the hash must still spread them.
            RequestLog log = new RequestLog().syscallTraceIdRequest(id);
            boolean decision = sampler.keep(log, 0.1);
            assertThat(sampler.keep(log, 0.1)).isEqualTo(decision);
            kept += decision ? 1 : 0;
        }
        assertThat(kept).isBetween(9_430, 10_570);
    }

    @Test
    void shouldKeepAllAtOneAndNoneAtZero() {
        SplittableRandom random = new SplittableRandom(11);
        RequestLogSampler sampler = new RequestLogSampler();
        for (int i = 0; i < 10_000; i++) {
            RequestLog log = withTraceId(random);
            assertThat(sampler.keep(log, 1.0)).isTrue();
            assertThat(sampler.keep(log, 0.0)).isFalse();
            assertThat(sampler.keep(new RequestLog(), 0.0)).isFalse();
        }
        RequestLog allOnes = new RequestLog().hasTraceContext(true);
        Arrays.fill(allOnes.traceId(), (byte) 0xFF);
        assertThat(sampler.keep(allOnes, 1.0)).isTrue();
    }
}
