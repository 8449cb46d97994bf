package io.periscope.ebpf.tracer;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ring's data pages are mapped once (not twice as libbpf maps them), so the events that cross
 * the end of the ring are joined by the reader: through a one-page ring, every byte of every
 * payload arrives as written, in order.
 */
@Tag("kernel")
class SocketTracerRingWrapTest {
    private static final int PORT = 18098;
    private static final int ROUNDS = 300;

    @Test
    void shouldDeliverEveryPayloadIntactThroughARingMappedOnce() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        SocketTracerConfig config = SocketTracerConfig.builder().ringBytes(4096).payloadBytes(1024).wakeupBytes(0)
                .targetPid(self).ignoreSelf(false).ports(PORT).build();
        List<byte[]> sent = new ArrayList<>();
        List<byte[]> seen = new ArrayList<>();
        SocketEventHandler collectEgress = e -> {
            if (e.kind() == SocketEvent.KIND_DATA && e.direction() == SocketEvent.DIRECTION_EGRESS
                    && e.localPort() != PORT) {
                byte[] payload = new byte[e.payloadLength()];
                e.buffer().getBytes(e.payloadOffset(), payload);
                seen.add(payload);
            }
        };
        try (SocketTracer tracer = SocketTracer.open(config);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", PORT));
            try (SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", PORT));
                    SocketChannel conn = server.accept()) {
                for (int round = 0; round < ROUNDS; round++) {
                    // Lengths vary so that records end at every 8-byte alignment before the ring's end.
                    byte[] bytes = new byte[200 + (round * 37) % 800];
                    for (int i = 0; i < bytes.length; i++) {
                        bytes[i] = (byte) (round * 31 + i);
                    }
                    sent.add(bytes);
                    ByteBuffer out = ByteBuffer.wrap(bytes);
                    while (out.hasRemaining()) {
                        client.write(out);
                    }
                    ByteBuffer in = ByteBuffer.allocate(bytes.length);
                    while (in.hasRemaining()) {
                        conn.read(in);
                    }
                    // Two events per round; drain before the one-page ring could fill.
                    while (tracer.poll(collectEgress, 100) > 0) {
                        assertThat(seen.size()).isLessThanOrEqualTo(sent.size());
                    }
                }
            }
            assertThat(tracer.lostEvents()).isZero();
            assertThat(tracer.malformedEvents()).isZero();
            assertThat(tracer.wrappedRecords()).isPositive();
            assertThat(seen).hasSameSizeAs(sent);
            for (int i = 0; i < sent.size(); i++) {
                assertThat(seen.get(i)).as("payload of round %d", i).isEqualTo(sent.get(i));
            }
        }
    }
}
