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

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

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

    @Test
    void shouldLeaveTheTableMappedForAReaderStillFlushingAtClose(@TempDir Path dir) throws Exception {
        int connections = 8;
        OtlpExporter exporter = exporter(dir);
        List<Socket> sockets = new ArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            PacketRingConfig ring = PacketRingConfig.builder().blockBytes(1 << 16).blockCount(2)
                    .blockTimeoutMillis(10).filter("tcp port " + server.getLocalPort()).build();
            PacketPipeline pipeline = new PacketPipeline(List.of(CaptureInterface.byName("lo")), 1, ring, table(),
                    exporter);
            AtomicInteger exported = new AtomicInteger();
            // Each export takes 100 ms, so flushing the open flows outlasts close()'s 200 ms wait.
            pipeline.testHooks(200, () -> {
                sleepMillis(100);
                exported.incrementAndGet();
            });
            pipeline.start();
            for (int i = 0; i < connections; i++) {
                Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
                sockets.add(client);
                sockets.add(server.accept());
                OutputStream out = client.getOutputStream();
                out.write('x');
                out.flush();
            }
            assertThat(awaitTrue(() -> pipeline.activeFlows() == connections))
                    .as("the held connections are tracked: %s flows", pipeline.activeFlows()).isTrue();
            assertThat(exported).as("no flow ended before close").hasValue(0);

            pipeline.close();

            assertThat(pipeline.readersLeftRunning()).as("close() returned before the reader finished").isEqualTo(1);
            // The reader goes on reading the table it was left: a table unmapped under it would
            // crash this JVM (SIGSEGV) instead of exporting every open flow.
            assertThat(awaitTrue(() -> exported.get() == connections))
                    .as("every open flow exported after close: %s", exported.get()).isTrue();
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
            exporter.shutdown(Duration.ofSeconds(5));
        }
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits up to 20 s for the condition (bounded; the test asserts the result, not the time). */
    private static boolean awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
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
