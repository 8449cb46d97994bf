package io.periscope.ebpf.tracer;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("kernel")
class SocketTracerOverloadTest {
    private static final int PORT = 18020;
    private static final int ROUNDS = 500;

    @Test
    void shouldCountLostEventsWhenTheRingOverflowsAndKeepWorking() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        SocketTracerConfig config = SocketTracerConfig.builder().ringBytes(4096).payloadBytes(1024)
                .targetPid(self).ignoreSelf(false).ports(PORT).build();
        try (SocketTracer tracer = SocketTracer.open(config);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", PORT));
            try (SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", PORT));
                    SocketChannel conn = server.accept()) {
                ByteBuffer out = ByteBuffer.allocate(1024);
                ByteBuffer in = ByteBuffer.allocate(1024);
                // Nobody polls while this runs: a 4 KiB ring holds three 1 KiB events.
                for (int i = 0; i < ROUNDS; i++) {
                    out.clear();
                    while (out.hasRemaining()) {
                        client.write(out);
                    }
                    in.clear();
                    while (in.hasRemaining()) {
                        conn.read(in);
                    }
                }
            }
            long lost = tracer.lostEvents();
            assertThat(lost).isGreaterThan(0);

            int[] wellFormed = new int[1];
            int delivered = 0;
            for (int i = 0; i < 100; i++) {
                int n = tracer.poll(e -> {
                    if (e.kind() == SocketEvent.KIND_DATA && e.payloadLength() <= 1024 && e.pid() == self) {
                        wellFormed[0]++;
                    }
                }, 1000);
                delivered += n;
                if (n == 0) {
                    break;
                }
            }
            assertThat(delivered).isBetween(1, 2 * ROUNDS);
            assertThat(wellFormed[0]).isPositive();
            assertThat(tracer.malformedEvents()).isZero();
            assertThat(tracer.deliveredEvents()).isEqualTo(delivered);
            assertThat(delivered + lost).isGreaterThanOrEqualTo(2 * ROUNDS);
            assertThat(tracer.lostEvents()).isGreaterThanOrEqualTo(lost);
        }
    }
}
