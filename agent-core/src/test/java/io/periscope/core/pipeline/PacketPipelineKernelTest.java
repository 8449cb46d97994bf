package io.periscope.core.pipeline;

import io.periscope.ebpf.packet.CaptureInterface;
import io.periscope.ebpf.packet.PacketRingConfig;
import io.periscope.flowmap.FlowTableConfig;
import io.periscope.sender.OtlpExporter;
import io.periscope.sender.ProcessResource;
import io.periscope.sender.SenderConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Tag("kernel")
class PacketPipelineKernelTest {
    /** An interface that was listed but is gone by the time its ring is bound. */
    private static final CaptureInterface VANISHED = new CaptureInterface("psgone0", 999_999, 1, true, false);

    @Test
    void shouldSkipAnInterfaceThatVanishedAndCaptureOnTheOthers(@TempDir Path dir) {
        OtlpExporter exporter = exporter(dir);
        try {
            CaptureInterface lo = CaptureInterface.byName("lo");
            PacketPipeline pipeline = new PacketPipeline(List.of(VANISHED, lo), 1, ring(), table(), exporter);
            try {
                assertThat(pipeline.interfaceNames()).containsExactly("lo");
                assertThat(pipeline.interfacesSkipped()).isEqualTo(1);
            } finally {
                pipeline.close();
            }
        } finally {
            exporter.shutdown(Duration.ofSeconds(5));
        }
    }

    @Test
    void shouldFailClearlyWhenNoInterfaceCanBeOpened(@TempDir Path dir) {
        OtlpExporter exporter = exporter(dir);
        try {
            assertThatThrownBy(() -> new PacketPipeline(List.of(VANISHED), 1, ring(), table(), exporter))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("psgone0");
        } finally {
            exporter.shutdown(Duration.ofSeconds(5));
        }
    }

    private static OtlpExporter exporter(Path dir) {
        return OtlpExporter.start(SenderConfig.builder().file(dir.resolve("out.jsonl"), 1 << 20, 1).build(),
                ProcessResource.builder("periscope-test").build());
    }

    private static PacketRingConfig ring() {
        return PacketRingConfig.builder().blockBytes(1 << 16).blockCount(2).build();
    }

    private static FlowTableConfig table() {
        return FlowTableConfig.builder().maxFlows(1024).build();
    }
}
