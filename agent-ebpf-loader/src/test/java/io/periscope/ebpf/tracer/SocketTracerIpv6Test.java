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

@Tag("kernel")
class SocketTracerIpv6Test {
    private static final int PORT = 18031;

    @Test
    void shouldReportIpv6AddressesPortsAndSequenceNumbers() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        SocketTracerConfig config = SocketTracerConfig.builder().targetPid(self).ignoreSelf(false).ports(PORT).build();
        String request = "PING over IPv6";
        int clientPort;
        try (SocketTracer tracer = SocketTracer.open(config);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("::1", PORT));
            try (SocketChannel client = SocketChannel.open(new InetSocketAddress("::1", PORT));
                    SocketChannel conn = server.accept()) {
                clientPort = ((InetSocketAddress) client.getLocalAddress()).getPort();
                ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
                while (out.hasRemaining()) {
                    client.write(out);
                }
                ByteBuffer in = ByteBuffer.allocate(request.length());
                while (in.hasRemaining()) {
                    conn.read(in);
                }
            }
            List<CapturedEvent> events = new EventCollector(tracer).until(
                    e -> e.isData() && e.direction() == SocketEvent.DIRECTION_INGRESS);
            CapturedEvent sent = events.stream()
                    .filter(e -> e.isData() && e.direction() == SocketEvent.DIRECTION_EGRESS).findFirst().orElseThrow();
            CapturedEvent received = events.stream()
                    .filter(e -> e.isData() && e.direction() == SocketEvent.DIRECTION_INGRESS)
                    .findFirst().orElseThrow();

            assertThat(sent.family()).isEqualTo(SocketEvent.AF_INET6);
            assertThat(sent.localAddress()).isEqualTo("0:0:0:0:0:0:0:1");
            assertThat(sent.remoteAddress()).isEqualTo("0:0:0:0:0:0:0:1");
            assertThat(sent.localPort()).isEqualTo(clientPort);
            assertThat(sent.remotePort()).isEqualTo(PORT);
            assertThat(sent.role()).isEqualTo(SocketEvent.ROLE_CLIENT);
            assertThat(received.localPort()).isEqualTo(PORT);
            assertThat(received.remotePort()).isEqualTo(clientPort);
            assertThat(received.role()).isEqualTo(SocketEvent.ROLE_SERVER);
            assertThat(received.payload()).isEqualTo(request);
            assertThat(received.tcpSeq()).isEqualTo(sent.tcpSeq());
        }
    }
}
