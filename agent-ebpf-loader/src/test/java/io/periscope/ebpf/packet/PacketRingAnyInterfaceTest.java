package io.periscope.ebpf.packet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * One ring for every interface ({@link CaptureInterface#any}): it sees a veth made after it was
 * opened, keeps loopback out unless asked, and then sees each loopback packet once.
 */
@Tag("kernel")
class PacketRingAnyInterfaceTest {
    private static final String NETNS = "psfany";
    private static final String HOST_SIDE = "psfany0";
    private static final int PORT = 18130;
    private static final int DATAGRAMS = 20;
    private static final String FILTER = "udp dst port " + PORT;

    /** Datagrams to PORT by ifindex and direction. */
    static final class Count implements PacketHandler {
        final Map<Integer, Integer> byIfindex = new HashMap<>();
        int outgoing;

        @Override
        public void onPacket(DirectBuffer buffer, int offset, int capturedLength, int wireLength, long timestampNanos,
                int ifindex, int direction) {
            byIfindex.merge(ifindex, 1, Integer::sum);
            if (direction == PACKET_OUTGOING) {
                outgoing++;
            }
        }

        int on(int ifindex) {
            return byIfindex.getOrDefault(ifindex, 0);
        }
    }

    @BeforeEach
    @AfterEach
    void removeNetns() throws Exception {
        run(false, "ip", "netns", "del", NETNS);
    }

    @Test
    void shouldCaptureAVethMadeAfterOpeningAndLeaveLoopbackOut() throws Exception {
        PacketRingConfig config = PacketRingConfig.builder().blockBytes(1 << 16).blockCount(8).filter(FILTER).build();
        try (PacketRing ring = PacketRing.open(CaptureInterface.any(false), config)) {
            assertThat(ring.captureInterface().isAny()).isTrue();
            int veth = makeVeth();
            send(new InetSocketAddress("10.231.7.2", PORT));
            send(new InetSocketAddress(InetAddress.getLoopbackAddress(), PORT));
            Count count = drain(ring, c -> c.on(veth) >= DATAGRAMS);
            assertThat(count.on(veth)).as("datagrams out of the veth made after the ring opened").isEqualTo(DATAGRAMS);
            assertThat(count.outgoing).as("sent by this host").isEqualTo(DATAGRAMS);
            assertThat(count.on(CaptureInterface.loopbackIfindex())).as("loopback kept out in the kernel").isZero();
            assertThat(count.byIfindex).as("nothing else matches the filter").containsOnlyKeys(veth);
            assertThat(ring.outgoingSkipped()).isZero();
        }
    }

    @Test
    void shouldSeeEachLoopbackPacketOnceWhenLoopbackIsIncluded() throws Exception {
        PacketRingConfig config = PacketRingConfig.builder().blockBytes(1 << 16).blockCount(8).filter(FILTER).build();
        try (PacketRing ring = PacketRing.open(CaptureInterface.any(true), config)) {
            int veth = makeVeth();
            int lo = CaptureInterface.loopbackIfindex();
            send(new InetSocketAddress(InetAddress.getLoopbackAddress(), PORT));
            send(new InetSocketAddress("10.231.7.2", PORT));
            Count count = drain(ring, c -> c.on(lo) >= DATAGRAMS && c.on(veth) >= DATAGRAMS);
            assertThat(count.on(lo)).as("each loopback datagram once (its outgoing copy skipped)").isEqualTo(DATAGRAMS);
            assertThat(ring.outgoingSkipped()).as("the outgoing copies on loopback").isEqualTo(DATAGRAMS);
            assertThat(count.on(veth)).as("outgoing on the veth is not a copy: kept").isEqualTo(DATAGRAMS);
        }
    }

    @Test
    void shouldSelectOneAnyCaptureForTheDefaultPattern() {
        List<CaptureInterface> captures = CaptureInterface.selectForCapture(List.of(CaptureInterface.ALL), false);
        assertThat(captures.get(0).isAny()).isTrue();
        assertThat(captures.get(0).loopback()).isFalse();
        assertThat(captures.subList(1, captures.size())).as("only what the any capture leaves out")
                .allMatch(i -> i.arpHardwareType() != CaptureInterface.ARPHRD_ETHER
                        && i.arpHardwareType() != CaptureInterface.ARPHRD_LOOPBACK && i.up());
        assertThat(CaptureInterface.selectForCapture(List.of("lo"), false)).extracting(CaptureInterface::name)
                .containsExactly("lo");
    }

    private interface Done {
        boolean test(Count c);
    }

    private static Count drain(PacketRing ring, Done done) {
        Count count = new Count();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.test(count) && System.nanoTime() < deadline) {
            if (ring.poll(count, 256) == 0) {
                ring.awaitPackets(50);
            }
        }
        // Anything late (a duplicate would show here) is drained too.
        for (int i = 0; i < 3; i++) {
            ring.awaitPackets(50);
            ring.poll(count, 10_000);
        }
        return count;
    }

    private static void send(InetSocketAddress to) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            byte[] payload = new byte[32];
            for (int i = 0; i < DATAGRAMS; i++) {
                socket.send(new DatagramPacket(payload, payload.length, to));
            }
        }
    }

    /** A veth pair to a new netns (10.231.7.1/30 here, .2 there); returns the host side's ifindex. */
    private static int makeVeth() throws Exception {
        run(true, "ip", "netns", "add", NETNS);
        run(true, "ip", "link", "add", HOST_SIDE, "type", "veth", "peer", "name", "psfany1", "netns", NETNS);
        run(true, "ip", "addr", "add", "10.231.7.1/30", "dev", HOST_SIDE);
        run(true, "ip", "link", "set", HOST_SIDE, "up");
        run(true, "ip", "-n", NETNS, "addr", "add", "10.231.7.2/30", "dev", "psfany1");
        run(true, "ip", "-n", NETNS, "link", "set", "psfany1", "up");
        // The first datagrams wait in the neighbour queue (unres_qlen_bytes, ~200 KB) for ARP.
        return CaptureInterface.byName(HOST_SIDE).ifindex();
    }

    private static void run(boolean check, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + ": timed out");
        }
        if (check && p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
    }
}
