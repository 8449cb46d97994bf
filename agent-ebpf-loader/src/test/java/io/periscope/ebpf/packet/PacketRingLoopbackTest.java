package io.periscope.ebpf.packet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A TPACKET_V3 ring on loopback with a real TCP exchange between two Java sockets. */
@Tag("kernel")
class PacketRingLoopbackTest {
    private static final int PORT = 18110;
    private static final int OTHER_PORT = 18111;
    private static final int PAYLOAD_BYTES = 200_000;

    /**
     * Bytes of TCP stream per direction of port PORT (highest sequence end minus the SYN's
     * sequence, so a TCP retransmission does not count twice), and every (sequence, length,
     * timestamp) seen, to prove the ring never hands out the same packet twice.
     */
    static final class Tally implements PacketHandler {
        final java.util.Set<String> seen = new java.util.HashSet<>();
        long duplicates;
        long toServer;
        long fromServer;
        long isnToServer = -1;
        long isnFromServer = -1;
        long packets;
        long otherPort;
        long outgoing;
        long lastTs;

        @Override
        public void onPacket(org.agrona.DirectBuffer b, int offset, int captured, int wire, long ts, int ifindex,
                             int direction) {
            packets++;
            lastTs = ts;
            if (direction == PACKET_OUTGOING) {
                outgoing++;
            }
            if ((b.getShort(offset + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF) != 0x0800) {
                return;
            }
            int ip = offset + 14;
            int ihl = (b.getByte(ip) & 0xF) * 4;
            int total = b.getShort(ip + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            int tcp = ip + ihl;
            int sport = b.getShort(tcp, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            int dport = b.getShort(tcp + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            int payload = total - ihl - ((b.getByte(tcp + 12) >> 4) & 0xF) * 4;
            long seq = b.getInt(tcp + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
            boolean syn = (b.getByte(tcp + 13) & 0x02) != 0;
            if (!seen.add(sport + "/" + seq + "/" + payload + "/" + ts + "/" + b.getByte(tcp + 13))) {
                duplicates++;
            }
            if (dport == PORT) {
                if (syn) {
                    isnToServer = seq + 1;
                }
                if (payload > 0) {
                    toServer = Math.max(toServer, seq + payload - isnToServer);
                }
            } else if (sport == PORT) {
                if (syn) {
                    isnFromServer = seq + 1;
                }
                if (payload > 0) {
                    fromServer = Math.max(fromServer, seq + payload - isnFromServer);
                }
            } else {
                otherPort++;
            }
        }
    }

    @Test
    void shouldSeeEveryLoopbackPacketOnceThroughTheFilter() throws Exception {
        assertThat(PacketCapture.unavailabilityCause()).as("packet capture availability").isNull();
        assertThat(PacketCapture.isAvailable()).isTrue();
        CaptureInterface lo = CaptureInterface.byName("lo");
        PacketRingConfig config = PacketRingConfig.builder().blockBytes(1 << 16).blockCount(64)
                .filter("tcp port " + PORT).build();
        Tally tally = new Tally();
        try (PacketRing ring = PacketRing.open(lo, config);
                ServerSocket server = new ServerSocket(PORT, 50, InetAddress.getLoopbackAddress());
                ServerSocket other = new ServerSocket(OTHER_PORT, 50, InetAddress.getLoopbackAddress())) {
            Thread echo = new Thread(() -> {
                try (Socket s = server.accept();
                        InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream()) {
                    byte[] buf = new byte[65536];
                    long total = 0;
                    while (total < PAYLOAD_BYTES) {
                        int n = in.read(buf);
                        if (n < 0) {
                            break;
                        }
                        total += n;
                    }
                    out.write(new byte[1000]);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            echo.start();
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), PORT);
                    Socket noise = new Socket(InetAddress.getLoopbackAddress(), other.getLocalPort())) {
                noise.getOutputStream().write(new byte[5000]);
                client.getOutputStream().write(new byte[PAYLOAD_BYTES]);
                client.getInputStream().readNBytes(1000);
            }
            echo.join(10_000);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((tally.toServer < PAYLOAD_BYTES || tally.fromServer < 1000) && System.nanoTime() < deadline) {
                if (ring.poll(tally, 256) == 0) {
                    ring.awaitPackets(50);
                }
            }
            // Let the FIN exchange arrive, then drain.
            for (int i = 0; i < 5; i++) {
                ring.awaitPackets(20);
                ring.poll(tally, 10_000);
            }
            ring.updateKernelStatistics();
            assertThat(tally.toServer).as("client stream bytes").isEqualTo(PAYLOAD_BYTES);
            assertThat(tally.fromServer).as("server stream bytes").isEqualTo(1000);
            assertThat(tally.duplicates).as("packets handed out twice").isZero();
            assertThat(tally.otherPort).as("filter keeps port %d out", OTHER_PORT).isZero();
            assertThat(tally.outgoing).as("outgoing copies on loopback are skipped").isZero();
            assertThat(ring.outgoingSkipped()).isEqualTo(tally.packets);
            assertThat(ring.packets()).isEqualTo(tally.packets);
            assertThat(ring.kernelPackets()).isGreaterThanOrEqualTo(tally.packets);
            assertThat(ring.kernelDrops()).isZero();
            long nowNanos = System.currentTimeMillis() * 1_000_000L;
            assertThat(tally.lastTs).as("CLOCK_REALTIME timestamps").isBetween(nowNanos - 60_000_000_000L, nowNanos);
        }
    }
}
