package io.periscope.ebpf.packet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A growing ring on loopback: a reader that lags by more than half the ring makes it double, and
 * the hand-over from the old socket to the new one, while datagrams keep coming, loses none and
 * hands none out twice (every numbered datagram is seen exactly once, in order).
 */
@Tag("kernel")
class PacketRingGrowthTest {
    private static final int BLOCK_BYTES = 1 << 16;
    private static final int PAYLOAD_BYTES = 64;
    private static final int INITIAL_BLOCKS = 8;
    /**
     * About six of the eight starting blocks of ~300 frames (each datagram is two frames on
     * loopback): more than half, with room for a block the kernel's timeout retires part-filled.
     */
    private static final int STALLED_DATAGRAMS = 950;
    private static final int FLOWING_DATAGRAMS = 10_000;

    /** The sequence numbers of the datagrams to the receiver's port, in the order seen. */
    static final class Numbers implements PacketHandler {
        private final int port;
        final List<Integer> seen = new ArrayList<>();

        Numbers(int port) {
            this.port = port;
        }

        @Override
        public void onPacket(DirectBuffer b, int offset, int captured, int wire, long ts, int ifindex, int direction) {
            int ip = offset + 14;
            int udp = ip + (b.getByte(ip) & 0xF) * 4;
            if ((b.getShort(udp + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF) == port) {
                seen.add(b.getInt(udp + 8, ByteOrder.BIG_ENDIAN));
            }
        }
    }

    /** On loopback, and on the any-interface ring (an unbound socket: the agent's default capture). */
    @ParameterizedTest
    @ValueSource(strings = {"lo", "any"})
    void shouldDoubleWhenTheReaderLagsAndHandOverWithoutLossOrDuplicates(String name) throws Exception {
        assertThat(PacketCapture.unavailabilityCause()).as("packet capture availability").isNull();
        try (DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                DatagramSocket sender = new DatagramSocket()) {
            int port = receiver.getLocalPort();
            PacketRingConfig config = PacketRingConfig.builder().blockBytes(BLOCK_BYTES).blockCount(16)
                    .initialBlockCount(INITIAL_BLOCKS).filter("udp and dst port " + port).build();
            Numbers numbers = new Numbers(port);
            CaptureInterface iface = name.equals("any") ? CaptureInterface.any(true) : CaptureInterface.byName(name);
            try (PacketRing ring = PacketRing.open(iface, config)) {
                assertThat(ring.blockCount()).isEqualTo(INITIAL_BLOCKS);
                assertThat(ring.ringBytes()).isEqualTo((long) INITIAL_BLOCKS * BLOCK_BYTES);
                // The reader stalls while three quarters of the ring fill up.
                send(sender, port, 0, STALLED_DATAGRAMS, Integer.MAX_VALUE);
                Thread flow = new Thread(() -> send(sender, port, STALLED_DATAGRAMS, FLOWING_DATAGRAMS, 10));
                flow.start();
                int total = STALLED_DATAGRAMS + FLOWING_DATAGRAMS;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (numbers.seen.size() < total && System.nanoTime() < deadline) {
                    if (ring.poll(numbers, 256) == 0) {
                        ring.awaitPackets(20);
                    }
                }
                flow.join(10_000);
                ring.updateKernelStatistics();
                assertThat(ring.kernelDrops()).as("kernel drops").isZero();
                assertThat(ring.growthFailures()).as("growth failures: %s", ring.lastGrowthFailure()).isZero();
                assertThat(ring.growths()).as("growths").isPositive();
                assertThat(ring.blockCount()).isEqualTo(16);
                assertThat(ring.ringBytes()).as("the old ring is released")
                        .isEqualTo((long) ring.blockCount() * BLOCK_BYTES);
                assertThat(numbers.seen).as("every datagram once, in order").hasSize(total);
                // Each datagram passes the loopback tap twice; each copy entered exactly one ring.
                assertThat(ring.kernelPackets()).as("frames the kernel queued, both rings").isEqualTo(2L * total);
                assertThat(ring.outgoingSkipped()).isEqualTo(total);
                for (int i = 0; i < total; i++) {
                    if (numbers.seen.get(i) != i) {
                        assertThat(numbers.seen.get(i)).as("datagram at position %d", i).isEqualTo(i);
                    }
                }
            }
        }
    }

    @Test
    void shouldKeepAFixedRingAtItsSize() throws Exception {
        assertThat(PacketCapture.unavailabilityCause()).as("packet capture availability").isNull();
        try (DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                DatagramSocket sender = new DatagramSocket()) {
            int port = receiver.getLocalPort();
            PacketRingConfig config = PacketRingConfig.builder().blockBytes(BLOCK_BYTES).blockCount(4)
                    .filter("udp and dst port " + port).build();
            assertThat(config.grows()).isFalse();
            Numbers numbers = new Numbers(port);
            try (PacketRing ring = PacketRing.open(CaptureInterface.byName("lo"), config)) {
                send(sender, port, 0, STALLED_DATAGRAMS / 2, Integer.MAX_VALUE);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (numbers.seen.size() < STALLED_DATAGRAMS / 2 && System.nanoTime() < deadline) {
                    if (ring.poll(numbers, 256) == 0) {
                        ring.awaitPackets(20);
                    }
                }
                assertThat(numbers.seen).hasSize(STALLED_DATAGRAMS / 2);
                assertThat(ring.kernelDrops()).isZero();
                assertThat(ring.growths()).isZero();
                assertThat(ring.blockCount()).isEqualTo(4);
                assertThat(ring.ringBytes()).isEqualTo(4L * BLOCK_BYTES);
            }
        }
    }

    @Test
    void shouldRefuseAGrowingRingInASharedFanoutGroup() {
        assertThatThrownBy(() -> PacketRingConfig.builder().blockCount(8).initialBlockCount(2)
                .fanout(7, PacketRingConfig.FANOUT_HASH).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot grow");
        PacketRingConfig growing = PacketRingConfig.builder().blockCount(8).initialBlockCount(2).build();
        assertThat(growing.grows()).isTrue();
        assertThat(growing.withFanoutGroup(7).initialBlockCount()).as("fanout readers keep a fixed ring")
                .isEqualTo(8);
        assertThatThrownBy(() -> PacketRingConfig.builder().blockCount(8).initialBlockCount(9).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("initialBlockCount");
    }

    /** Sends datagrams numbered from {@code from}, pausing 1 ms after every {@code pauseEvery}. */
    private static void send(DatagramSocket sender, int port, int from, int count, int pauseEvery) {
        byte[] payload = new byte[PAYLOAD_BYTES];
        DatagramPacket packet = new DatagramPacket(payload, payload.length, InetAddress.getLoopbackAddress(), port);
        ByteBuffer b = ByteBuffer.wrap(payload);
        try {
            for (int i = from; i < from + count; i++) {
                b.putInt(0, i);
                sender.send(packet);
                if ((i - from) % pauseEvery == pauseEvery - 1) {
                    // A steady flow (~10K/s at most), not a flood: the test is about the hand-over,
                    // not the capacity of a ring of a few hundred datagrams while it grows.
                    Thread.sleep(1);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
