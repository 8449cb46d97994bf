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

@Tag("kernel")
class SocketTracerPrefilterTest {
    private static final int PORT = 18030;

    @Test
    void shouldDropSocketsWhoseFirstBytesMatchNoPrefix() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        SocketTracerConfig config = SocketTracerConfig.builder().targetPid(self).ignoreSelf(false).ports(PORT)
                .prefixes("GET ", "POST", "HTTP/1.").build();
        try (SocketTracer tracer = SocketTracer.open(config);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", PORT));
            exchange(server, "GET /wanted HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n");
            exchange(server, "HELO smtp.example\r\n", "250 hello\r\n");

            List<CapturedEvent> events = new EventCollector(tracer).until(
                    e -> e.isData() && e.payload().startsWith("HTTP/1.1 200"));
            List<String> payloads = events.stream().filter(CapturedEvent::isData).map(CapturedEvent::payload)
                    .toList();

            // Client write + server read of the request, server write + client read of the response.
            assertThat(payloads).containsOnly("GET /wanted HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n")
                    .hasSize(4);
        }
    }

    @Test
    void shouldRejectPrefixesTheKernelTableCannotHold() {
        assertThatThrownBy(() -> SocketTracerConfig.builder().prefixes("TOO-LONG-PREFIX").build())
                .hasMessageContaining("1..8 bytes");
        assertThatThrownBy(() -> SocketTracerConfig.builder().prefixes("a", "b", "c", "d", "e", "f", "g", "h", "i")
                .build()).hasMessageContaining("at most 8");
    }

    private static void exchange(ServerSocketChannel server, String request, String response) throws Exception {
        try (SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", PORT));
                SocketChannel conn = server.accept()) {
            write(client, request);
            read(conn, request.length());
            write(conn, response);
            read(client, response.length());
        }
    }

    private static void write(SocketChannel ch, String s) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void read(SocketChannel ch, int n) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IllegalStateException("closed early");
            }
        }
    }
}
