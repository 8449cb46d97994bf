package io.periscope.ebpf;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class KernelFeaturesTest {
    @Test
    void shouldReportEachMissingFacilityWithItsFix(@TempDir Path root) throws IOException {
        write(root.resolve("proc/sys/kernel/osrelease"), "5.4.0-old\n");
        write(root.resolve("proc/mounts"), "proc /proc proc rw 0 0\n");
        write(root.resolve("proc/self/status"), "Name:\tjava\nCapEff:\t0000000000000000\n");

        KernelFeatures features = KernelFeatures.probe(root);

        assertThat(features.kernelRelease()).isEqualTo("5.4.0-old");
        assertThat(features.facility("BTF").orElseThrow().available()).isFalse();
        assertThat(features.facility("BTF").orElseThrow().line()).contains("CONFIG_DEBUG_INFO_BTF");
        assertThat(features.facility("tracefs mounted").orElseThrow().line())
                .isEqualTo("tracefs mounted: unavailable: not mounted at /sys/kernel/tracing; "
                        + "mount -t tracefs tracefs /sys/kernel/tracing (./periscope run does it)");
        assertThat(features.facility("CAP_BPF").orElseThrow().available()).isFalse();
        assertThat(features.summary()).contains("0/" + features.facilities().size());
    }

    @Test
    void shouldReadCapabilitiesAndMountsFromProc(@TempDir Path root) throws IOException {
        write(root.resolve("proc/sys/kernel/osrelease"), "6.18.0\n");
        write(root.resolve("sys/kernel/btf/vmlinux"), "btf");
        write(root.resolve("proc/mounts"), "tracefs /sys/kernel/tracing tracefs rw 0 0\nbpf /sys/fs/bpf bpf rw 0 0\n");
        // CAP_BPF (39) and CAP_NET_RAW (13) only.
        long caps = (1L << 39) | (1L << 13);
        write(root.resolve("proc/self/status"), "CapEff:\t" + String.format("%016x", caps) + "\n");

        KernelFeatures features = KernelFeatures.probe(root);

        assertThat(features.facility("BTF").orElseThrow().available()).isTrue();
        assertThat(features.facility("tracefs mounted").orElseThrow().available()).isTrue();
        assertThat(features.facility("bpffs mounted").orElseThrow().available()).isTrue();
        assertThat(features.facility("CAP_BPF").orElseThrow().available()).isTrue();
        assertThat(features.facility("CAP_NET_RAW").orElseThrow().available()).isTrue();
        assertThat(features.facility("CAP_PERFMON").orElseThrow().available()).isFalse();
    }

    @Test
    @Tag("kernel")
    void shouldFindBtfMountsAndCapabilitiesOnThisMachine() {
        KernelFeatures features = KernelFeatures.probe();

        assertThat(features.facility("BTF").orElseThrow().available()).as(features.report()).isTrue();
        assertThat(features.facility("tracefs mounted").orElseThrow().available()).as(features.report()).isTrue();
        assertThat(features.facility("bpffs mounted").orElseThrow().available()).as(features.report()).isTrue();
        assertThat(features.facility("CAP_BPF").orElseThrow().available()).as(features.report()).isTrue();
    }

    @Test
    @Tag("kernel")
    void shouldProveEachFacilityByUsingIt() {
        KernelFeatures features = KernelFeatures.probe();
        String report = features.report();

        // What DESIGN.md lists as present on the machines this project is built and tested on.
        for (String present : new String[] {"libbpf", "tracepoints", "BPF ring buffer", "uprobes", "tc/clsact",
                "AF_PACKET"}) {
            assertThat(features.facility(present).orElseThrow().available()).as(report).isTrue();
        }
        // kprobes/fentry may or may not exist; either way the line says which and why.
        for (String optional : new String[] {"kprobes", "fentry"}) {
            Facility f = features.facility(optional).orElseThrow();
            assertThat(f.detail()).as(report).isNotBlank();
        }
        assertThat(report.lines().count()).isEqualTo(features.facilities().size() + 1L);
    }

    private static void write(Path path, String content) throws IOException {
        Files.createDirectories(path.getParent());
        Files.writeString(path, content);
    }
}
