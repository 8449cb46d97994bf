package io.periscope.core.metadata;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ContainerIdTest {
    private static final String ID = "3f1c2a7b9e8d4c5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b";

    private static String sample(String name) throws IOException {
        try (InputStream in = ContainerIdTest.class.getResourceAsStream("/cgroup/" + name)) {
            assertThat(in).as("test resource /cgroup/" + name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @CsvSource({
        "docker-v1.txt, docker",
        "docker-v2-systemd.txt, docker",
        "docker-v2-cgroupfs.txt, docker",
        "containerd-k8s-v2-systemd.txt, containerd",
        "containerd-k8s-v1-systemd-colon.txt, containerd",
        "containerd-k8s-v1-cgroupfs.txt, unknown",
        "crio-v2.txt, cri-o",
        "podman-v2.txt, podman",
        "podman-v1.txt, podman",
    })
    void shouldFindTheContainerAndItsRuntime(String file, String runtime) throws IOException {
        ContainerId container = ContainerId.fromCgroup(sample(file));
        assertThat(container).isEqualTo(new ContainerId(runtime, ID));
        assertThat(container.shortId()).isEqualTo(ID.substring(0, 12));
    }

    @ParameterizedTest
    @CsvSource({"host-v1.txt", "host-v2.txt", "crio-conmon-v2.txt"})
    void shouldFindNoContainerForHostProcessesAndMonitors(String file) throws IOException {
        assertThat(ContainerId.fromCgroup(sample(file))).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"''", "garbage", "0::/", "12:memory", "0::/docker/abc"})
    void shouldIgnoreMalformedOrShortInput(String text) {
        assertThat(ContainerId.fromCgroup(text)).isNull();
    }
}
