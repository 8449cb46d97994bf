package io.periscope.ebpf.packet;

import java.util.ArrayList;
import java.util.List;

import com.sun.jna.Memory;
import com.sun.jna.Native;

/**
 * One reader's packet source over several interfaces: a {@link PacketRing} per interface, polled
 * in turn. With fanout, {@link #openReaders} gives N readers whose rings on each interface share
 * a PACKET_FANOUT group (flow hash by default), so each flow's packets reach one reader and the
 * reader's flow table keeps a single writer.
 */
public final class PacketCapture implements AutoCloseable {
    private final List<PacketRing> rings;
    private final PacketRing[] ringArray;
    private final Memory pollFds;
    private int next;

    /**
     * Null when packet capture can be used here, else why not (in the style of Netty's
     * {@code Epoll.unavailabilityCause()}): libpcap must load and compile a filter, and an
     * AF_PACKET socket must open (CAP_NET_RAW).
     */
    public static String unavailabilityCause() {
        try {
            PacketFilter.compile("", CaptureInterface.DLT_EN10MB, 128);
        } catch (RuntimeException | LinkageError e) {
            return "libpcap: " + e.getMessage();
        }
        int fd = LibC.INSTANCE.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return LibC.lastError("socket(AF_PACKET, SOCK_RAW) (needs CAP_NET_RAW)");
        }
        LibC.INSTANCE.close(fd);
        return null;
    }

    /** True when {@link #unavailabilityCause()} is null. */
    public static boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    private PacketCapture(List<PacketRing> rings) {
        this.rings = List.copyOf(rings);
        this.ringArray = rings.toArray(new PacketRing[0]);
        this.pollFds = new Memory(8L * Math.max(1, ringArray.length));
    }

    /**
     * Opens one ring per interface for a single reader.
     *
     * @throws IllegalArgumentException when no interface is given
     */
    public static PacketCapture open(List<CaptureInterface> interfaces, PacketRingConfig config) {
        if (interfaces.isEmpty()) {
            throw new IllegalArgumentException("packet capture: no interface selected");
        }
        List<PacketRing> opened = new ArrayList<>();
        try {
            for (CaptureInterface i : interfaces) {
                opened.add(PacketRing.open(i, config));
            }
        } catch (RuntimeException e) {
            opened.forEach(PacketRing::close);
            throw e;
        }
        return new PacketCapture(opened);
    }

    /**
     * Opens {@code readers} captures whose rings on each interface join one fanout group
     * ({@code fanoutGroupBase + interface position}).
     */
    public static List<PacketCapture> openReaders(List<CaptureInterface> interfaces, PacketRingConfig config,
                                                  int readers, int fanoutGroupBase) {
        if (readers < 1) {
            throw new IllegalArgumentException("packet capture: readers must be >= 1, got " + readers);
        }
        List<PacketCapture> out = new ArrayList<>();
        try {
            for (int r = 0; r < readers; r++) {
                List<PacketRing> opened = new ArrayList<>();
                try {
                    for (int i = 0; i < interfaces.size(); i++) {
                        PacketRingConfig c = readers == 1 ? config : config.withFanoutGroup(fanoutGroupBase + i);
                        opened.add(PacketRing.open(interfaces.get(i), c));
                    }
                } catch (RuntimeException e) {
                    opened.forEach(PacketRing::close);
                    throw e;
                }
                out.add(new PacketCapture(opened));
            }
        } catch (RuntimeException e) {
            out.forEach(PacketCapture::close);
            throw e;
        }
        return out;
    }

    /** Polls the rings in turn, up to {@code limit} packets in all; never blocks. */
    public int poll(PacketHandler handler, int limit) {
        int handled = 0;
        PacketRing[] r = ringArray;
        for (int k = 0; k < r.length && handled < limit; k++) {
            PacketRing ring = r[next];
            next = next + 1 == r.length ? 0 : next + 1;
            handled += ring.poll(handler, limit - handled);
        }
        return handled;
    }

    /** Waits (poll(2) over every ring's socket) until a ring has packets or the timeout passes. */
    public boolean awaitPackets(int timeoutMillis) {
        for (PacketRing ring : ringArray) {
            if (ring.hasPackets()) {
                return true;
            }
        }
        for (int i = 0; i < ringArray.length; i++) {
            pollFds.setInt(8L * i, ringArray[i].fd());
            pollFds.setShort(8L * i + 4, (short) (LibC.POLLIN | LibC.POLLERR));
            pollFds.setShort(8L * i + 6, (short) 0);
        }
        int n = LibC.INSTANCE.poll(pollFds, ringArray.length, timeoutMillis);
        if (n < 0 && Native.getLastError() != LibC.EINTR) {
            throw new IllegalStateException(LibC.lastError("poll on packet sockets"));
        }
        for (PacketRing ring : ringArray) {
            if (ring.hasPackets()) {
                return true;
            }
        }
        return false;
    }

    /** Reads PACKET_STATISTICS of every ring (system calls: call periodically). */
    public void updateKernelStatistics() {
        rings.forEach(PacketRing::updateKernelStatistics);
    }

    /** The rings, one per interface. */
    public List<PacketRing> rings() {
        return rings;
    }

    /** Packets handed to handlers, all rings. */
    public long packets() {
        return rings.stream().mapToLong(PacketRing::packets).sum();
    }

    /** Kernel drops (ring full), all rings, as of the last statistics update. */
    public long kernelDrops() {
        return rings.stream().mapToLong(PacketRing::kernelDrops).sum();
    }

    /** Kernel queue freezes, all rings, as of the last statistics update. */
    public long kernelFreezes() {
        return rings.stream().mapToLong(PacketRing::kernelFreezes).sum();
    }

    /** Closes every ring. */
    @Override
    public void close() {
        rings.forEach(PacketRing::close);
    }
}
