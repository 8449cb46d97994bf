package io.periscope.ebpf.tracer;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("kernel")
class SocketTracerPayloadTest {
    private static final int PORT = 18032;
    private static final int WRITE_BYTES = 20_000;

    @Test
    void shouldCaptureUpToSixteenKibAndFlagTheRestAsTruncated() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        SocketTracerConfig config = SocketTracerConfig.builder().targetPid(self).ignoreSelf(false).ports(PORT)
                .payloadBytes(SocketEvent.MAX_PAYLOAD_BYTES).build();
        byte[] data = new byte[WRITE_BYTES];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) ('a' + i % 26);
        }
        try (SocketTracer tracer = SocketTracer.open(config);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", PORT));
            try (SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", PORT));
                    SocketChannel conn = server.accept()) {
                ByteBuffer out = ByteBuffer.wrap(data);
                while (out.hasRemaining()) {
                    client.write(out);
                }
                ByteBuffer in = ByteBuffer.allocate(WRITE_BYTES);
                while (in.hasRemaining()) {
                    conn.read(in);
                }
            }
            List<CapturedEvent> events = new EventCollector(tracer).until(
                    e -> e.isData() && e.direction() == SocketEvent.DIRECTION_EGRESS);
            CapturedEvent first = events.stream()
                    .filter(e -> e.isData() && e.direction() == SocketEvent.DIRECTION_EGRESS)
                    .findFirst().orElseThrow();

            long written = first.returnBytes();
            assertThat(written).as("one write syscall moved more than the capture limit")
                    .isGreaterThan(SocketEvent.MAX_PAYLOAD_BYTES);
            int expected = (int) Math.min(written, SocketEvent.MAX_PAYLOAD_BYTES);
            assertThat(first.payload()).hasSize(expected);
            assertThat(first.payload()).isEqualTo(new String(data, 0, expected, "ISO-8859-1"));
            assertThat((first.flags() & SocketEvent.FLAG_TRUNCATED) != 0).isEqualTo(written > expected);
            assertThat(tracer.lostEvents()).isZero();
        }
    }
}
