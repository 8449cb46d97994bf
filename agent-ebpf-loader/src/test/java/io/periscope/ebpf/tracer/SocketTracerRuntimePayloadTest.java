package io.periscope.ebpf.tracer;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The resource guard's last level: payload capture switched off and back on while attached. */
@Tag("kernel")
class SocketTracerRuntimePayloadTest {
    private static final int PORT = 18051;
    private static final int CONFIGURED_BYTES = 1024;

    @Test
    void shouldDeliverMetadataOnlyEventsWhilePayloadCaptureIsOffAndCaptureAgainWhenRestored() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        SocketTracerConfig config = SocketTracerConfig.builder().targetPid(self).ignoreSelf(false).ports(PORT)
                .payloadBytes(CONFIGURED_BYTES).build();
        SocketTracer closedTracer;
        try (SocketTracer tracer = SocketTracer.open(config);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            closedTracer = tracer;
            server.bind(new InetSocketAddress("127.0.0.1", PORT));
            try (SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", PORT));
                    SocketChannel conn = server.accept()) {
                assertThat(tracer.payloadCaptureBytes()).isEqualTo(CONFIGURED_BYTES);
                String before = message('a', 100);
                CapturedEvent[] on = exchange(tracer, client, conn, before);
                assertThat(on[0].payload()).isEqualTo(before);
                assertThat(on[1].payload()).isEqualTo(before);

                assertThat(tracer.setPayloadCaptureBytes(0)).isTrue();
                assertThat(tracer.payloadCaptureBytes()).isZero();
                String during = message('b', 200);
                CapturedEvent[] off = exchange(tracer, client, conn, during);
                for (CapturedEvent e : off) {
                    assertThat(e.payload()).as("no payload captured at 0").isEmpty();
                    assertThat(e.returnBytes()).as("true length still reported").isEqualTo(during.length());
                    assertThat(e.flags() & SocketEvent.FLAG_TRUNCATED).isEqualTo(SocketEvent.FLAG_TRUNCATED);
                    assertThat(e.enterNanos()).isPositive().isLessThanOrEqualTo(e.exitNanos());
                    assertThat(e.socketId()).isNotZero();
                    assertThat(e.localAddress()).isEqualTo("127.0.0.1");
                }
                CapturedEvent sent = off[0];
                CapturedEvent received = off[1];
                assertThat(sent.remotePort()).isEqualTo(PORT);
                assertThat(received.localPort()).isEqualTo(PORT);
                assertThat(received.remotePort()).isEqualTo(sent.localPort());
                assertThat(sent.socketId()).isEqualTo(on[0].socketId());
                // Sequence numbers keep counting the uncaptured bytes: both ends agree.
                assertThat(received.tcpSeq()).isEqualTo(sent.tcpSeq());
                assertThat(sent.tcpSeq()).isEqualTo((on[0].tcpSeq() + before.length()) & 0xffffffffL);

                assertThat(tracer.setPayloadCaptureBytes(CONFIGURED_BYTES)).isTrue();
                String after = message('c', 300);
                CapturedEvent[] restored = exchange(tracer, client, conn, after);
                assertThat(restored[0].payload()).isEqualTo(after);
                assertThat(restored[1].payload()).isEqualTo(after);
                assertThat(restored[0].flags() & SocketEvent.FLAG_TRUNCATED).isZero();
            }
            assertThatThrownBy(() -> tracer.setPayloadCaptureBytes(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("0..16384");
            assertThatThrownBy(() -> tracer.setPayloadCaptureBytes(SocketEvent.MAX_PAYLOAD_BYTES + 1))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(tracer.lostEvents()).isZero();
        }
        assertThat(closedTracer.setPayloadCaptureBytes(0)).as("a closed tracer ignores the guard").isFalse();
    }

    /** Client sends {@code text}, server reads it all; returns {client egress, server ingress}. */
    private static CapturedEvent[] exchange(SocketTracer tracer, SocketChannel client, SocketChannel conn,
            String text) throws Exception {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer out = ByteBuffer.wrap(bytes);
        while (out.hasRemaining()) {
            client.write(out);
        }
        ByteBuffer in = ByteBuffer.allocate(bytes.length);
        while (in.hasRemaining()) {
            conn.read(in);
        }
        long length = bytes.length;
        List<CapturedEvent> events = new EventCollector(tracer).until(
                e -> isData(e, SocketEvent.DIRECTION_EGRESS, length),
                e -> isData(e, SocketEvent.DIRECTION_INGRESS, length));
        return new CapturedEvent[] {
            events.stream().filter(e -> isData(e, SocketEvent.DIRECTION_EGRESS, length)).findFirst().orElseThrow(),
            events.stream().filter(e -> isData(e, SocketEvent.DIRECTION_INGRESS, length)).findFirst().orElseThrow(),
        };
    }

    private static boolean isData(CapturedEvent e, int direction, long length) {
        return e.isData() && e.direction() == direction && e.returnBytes() == length;
    }

    private static String message(char c, int length) {
        return String.valueOf(c).repeat(length);
    }
}
