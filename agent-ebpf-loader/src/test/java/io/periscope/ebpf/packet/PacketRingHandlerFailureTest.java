package io.periscope.ebpf.packet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A handler that throws loses only the packet it threw on; the ring moves on. */
@Tag("kernel")
class PacketRingHandlerFailureTest {
    private static final int PORT = 18113;

    @Test
    void shouldSkipThePacketAHandlerThrewOnAndDeliverTheRest() throws Exception {
        PacketRingConfig config = PacketRingConfig.builder().blockBytes(1 << 16).blockCount(4)
                .blockTimeoutMillis(5).filter("udp dst port " + PORT).build();
        try (PacketRing ring = PacketRing.open(CaptureInterface.byName("lo"), config);
                DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            for (int i = 1; i <= 3; i++) {
                socket.send(new DatagramPacket(new byte[] {(byte) i}, 1, InetAddress.getLoopbackAddress(), PORT));
            }
            assertThat(ring.awaitPackets(2_000)).as("packets reached the ring").isTrue();
            assertThatThrownBy(() -> ring.poll((b, off, cap, wire, ts, ifindex, dir) -> {
                throw new IllegalStateException("handler bug");
            }, 10)).hasMessage("handler bug");
            List<Integer> payloads = new ArrayList<>();
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (payloads.size() < 2 && System.nanoTime() < deadline) {
                ring.poll((b, off, cap, wire, ts, ifindex, dir) -> {
                    int ip = off + 14;
                    int udp = ip + (b.getByte(ip) & 0xF) * 4;
                    assertThat(b.getShort(udp + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF).isEqualTo(PORT);
                    payloads.add((int) b.getByte(udp + 8));
                }, 10);
                ring.awaitPackets(10);
            }
            assertThat(payloads).containsExactly(2, 3);
        }
    }
}
