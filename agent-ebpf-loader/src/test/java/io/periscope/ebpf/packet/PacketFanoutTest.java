package io.periscope.ebpf.packet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Two fanout readers on loopback: each connection, both directions, lands on exactly one reader. */
@Tag("kernel")
class PacketFanoutTest {
    private static final int CONNECTIONS = 32;

    /** Client ports (the non-server side) of the TCP packets a reader saw, per direction. */
    static final class Ports implements PacketHandler {
        final int serverPort;
        final Set<Integer> toServer = new HashSet<>();
        final Set<Integer> fromServer = new HashSet<>();

        @Override
        public void onPacket(DirectBuffer b, int offset, int captured, int wire, long ts, int ifindex, int dir) {
            int ip = offset + 14;
            boolean v6 = (b.getShort(offset + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF) == 0x86DD;
            int tcp = v6 ? ip + 40 : ip + (b.getByte(ip) & 0xF) * 4;
            int sport = b.getShort(tcp, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            int dport = b.getShort(tcp + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            if (dport == serverPort) {
                toServer.add(sport);
            } else {
                fromServer.add(dport);
            }
        }

        Ports(int serverPort) {
            this.serverPort = serverPort;
        }

        Set<Integer> all() {
            Set<Integer> s = new HashSet<>(toServer);
            s.addAll(fromServer);
            return s;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void shouldKeepBothDirectionsOfEachFlowOnOneReader(String address) throws Exception {
        InetAddress loopback = InetAddress.getByName(address);
        Set<Integer> clientPorts = new HashSet<>();
        // An ephemeral server port: a fixed one collides with another checkout running this test.
        try (ServerSocket server = new ServerSocket(0, 64, loopback)) {
            int port = server.getLocalPort();
            // A short block timeout: the reads below wait 10 x 20 ms for partly filled blocks.
            PacketRingConfig config = PacketRingConfig.builder().blockBytes(1 << 16).blockCount(16)
                    .blockTimeoutMillis(10).filter("tcp port " + port).build();
            List<PacketCapture> readers = PacketCapture.openReaders(List.of(CaptureInterface.byName("lo")), config, 2,
                    (int) (ProcessHandle.current().pid() & 0x7FFF));
            try {
                Thread echo = new Thread(() -> {
                    for (int i = 0; i < CONNECTIONS; i++) {
                        try (Socket s = server.accept();
                                InputStream in = s.getInputStream();
                                OutputStream out = s.getOutputStream()) {
                            out.write(in.readNBytes(100));
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                });
                echo.start();
                for (int i = 0; i < CONNECTIONS; i++) {
                    try (Socket c = new Socket(loopback, port)) {
                        clientPorts.add(c.getLocalPort());
                        c.getOutputStream().write(new byte[100]);
                        c.getInputStream().readNBytes(100);
                    }
                }
                echo.join(10_000);
                Ports a = new Ports(port);
                Ports b = new Ports(port);
                for (int round = 0; round < 10; round++) {
                    readers.get(0).awaitPackets(20);
                    readers.get(0).poll(a, 100_000);
                    readers.get(1).poll(b, 100_000);
                }
                assertThat(a.all()).as("reader 0 got some flows").isNotEmpty();
                assertThat(b.all()).as("reader 1 got some flows").isNotEmpty();
                Set<Integer> both = new HashSet<>(a.all());
                both.retainAll(b.all());
                assertThat(both).as("flows split across readers").isEmpty();
                Set<Integer> union = new HashSet<>(a.all());
                union.addAll(b.all());
                assertThat(union).containsAll(clientPorts);
                assertThat(a.toServer).isEqualTo(a.fromServer);
                assertThat(b.toServer).isEqualTo(b.fromServer);
            } finally {
                readers.forEach(PacketCapture::close);
            }
        }
    }
}
