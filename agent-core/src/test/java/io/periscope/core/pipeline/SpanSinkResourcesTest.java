package io.periscope.core.pipeline;

import io.periscope.sender.ProcessResource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SpanSinkResourcesTest {
    private static ProcessResource nginx(int pid) {
        return ProcessResource.builder("nginx").hostName("h").pid(pid).executableName("nginx").build();
    }

    @Test
    void shouldHandEveryShardTheSameObjectForTheSameProcess() {
        SpanSink.Resources resources = new SpanSink.Resources();
        ProcessResource first = resources.intern(nginx(42));
        assertThat(resources.intern(nginx(42))).isSameAs(first);
        assertThat(resources.intern(nginx(43))).isNotSameAs(first);
        ProcessResource inContainer = resources.intern(ProcessResource.builder("nginx").hostName("h").pid(42)
                .executableName("nginx").containerId("abc").build());
        assertThat(inContainer).isNotSameAs(first);
        assertThat(resources.size()).isEqualTo(3);
    }

    @Test
    void shouldKeepAProcessNamedBeforeItsPodWasKnownApartFromItsPodResource() {
        SpanSink.Resources resources = new SpanSink.Resources();
        ProcessResource beforePod = resources.intern(nginx(42));
        ProcessResource withPod = resources.intern(ProcessResource.builder("nginx").hostName("h").pid(42)
                .executableName("nginx").attribute("k8s.pod.name", "web-1").build());
        assertThat(withPod).isNotSameAs(beforePod);
        assertThat(withPod.extraAttributes()).containsEntry("k8s.pod.name", "web-1");
    }

    @Test
    void shouldStayBounded() {
        SpanSink.Resources resources = new SpanSink.Resources();
        for (int pid = 1; pid <= 100_000; pid++) {
            resources.intern(nginx(pid));
        }
        assertThat(resources.size()).isLessThanOrEqualTo(16_384);
    }
}
