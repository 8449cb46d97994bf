package io.periscope.ebpf.packet;

import java.util.concurrent.atomic.AtomicLong;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A TPACKET_V3 receive ring on an AF_PACKET socket bound to one interface, or to every interface
 * ({@link CaptureInterface#any}: one ring for all Ethernet interfaces, present and future, so
 * memory does not grow with a node's veth count). The socket is set up
 * through libc over JNA (socket, SO_ATTACH_FILTER, PACKET_VERSION, PACKET_RX_RING, mmap, bind,
 * PACKET_FANOUT); packets are then read in Java straight from the mapped blocks through an Agrona
 * {@link UnsafeBuffer}: a block belongs to user space when its {@code block_status} has
 * TP_STATUS_USER (read with acquire semantics), and is handed back by an ordered (release) write
 * of TP_STATUS_KERNEL. No JNA call per packet; {@link #awaitPackets} (poll(2)) only when idle.
 *
 * <p>On loopback every packet passes the tap twice (once outgoing, once incoming): outgoing
 * copies are skipped there (also when an any-interface ring includes loopback) and counted, so
 * each packet is seen once.
 *
 * <p>Single reader: {@link #poll} and {@link #close} from one thread (closing unmaps the ring
 * a concurrent poll would read). Counters may be read from any thread.
 */
public final class PacketRing implements AutoCloseable {
    // struct tpacket_block_desc: version, offset_to_priv, then struct tpacket_hdr_v1.
    private static final int BLOCK_STATUS = 8;
    private static final int BLOCK_NUM_PKTS = 12;
    private static final int BLOCK_OFFSET_TO_FIRST_PKT = 16;
    // struct tpacket3_hdr
    private static final int PKT_NEXT_OFFSET = 0;
    private static final int PKT_SEC = 4;
    private static final int PKT_NSEC = 8;
    private static final int PKT_SNAPLEN = 12;
    private static final int PKT_LEN = 16;
    private static final int PKT_MAC = 24;
    /** TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): where struct sockaddr_ll follows the header. */
    private static final int PKT_SOCKADDR_LL = 48;
    private static final int SLL_IFINDEX = 4;
    private static final int SLL_PKTTYPE = 10;

    private static final int TP_STATUS_KERNEL = 0;
    private static final int TP_STATUS_USER = 1;
    private static final int TP_STATUS_COPY = 1 << 1;
    private static final int TP_STATUS_LOSING = 1 << 2;
    private static final int TP_STATUS_BLK_TMO = 1 << 5;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final CaptureInterface iface;
    private final PacketRingConfig config;
    private final int fd;
    private final Pointer mapping;
    private final long mappingBytes;
    private final UnsafeBuffer ring;
    private final int blockBytes;
    private final int blockCount;
    /** Outgoing packets on this interface are the loopback's second copies: skipped (0: none). */
    private final int skipOutgoingIfindex;
    private final Memory pollFd = new Memory(8);
    private final Memory stats = new Memory(12);
    private final Memory statsLength = new Memory(4);

    private int block;
    private int packetInBlock;
    private int packetOffset;
    private boolean closed;

    private final AtomicLong packets = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong blocks = new AtomicLong();
    private final AtomicLong blocksByTimeout = new AtomicLong();
    private final AtomicLong blocksLosing = new AtomicLong();
    private final AtomicLong blocksCopy = new AtomicLong();
    private final AtomicLong outgoingSkipped = new AtomicLong();
    private final AtomicLong kernelPackets = new AtomicLong();
    private final AtomicLong kernelDrops = new AtomicLong();
    private final AtomicLong kernelFreezes = new AtomicLong();

    private PacketRing(CaptureInterface iface, PacketRingConfig config, int fd, Pointer mapping, long mappingBytes,
            int skipOutgoingIfindex) {
        this.iface = iface;
        this.config = config;
        this.fd = fd;
        this.mapping = mapping;
        this.mappingBytes = mappingBytes;
        this.ring = new UnsafeBuffer(Pointer.nativeValue(mapping), (int) mappingBytes);
        this.blockBytes = config.blockBytes();
        this.blockCount = config.blockCount();
        this.skipOutgoingIfindex = skipOutgoingIfindex;
        pollFd.clear();
        pollFd.setInt(0, fd);
        pollFd.setShort(4, (short) (LibC.POLLIN | LibC.POLLERR));
    }

    /**
     * Opens a ring on an interface.
     *
     * @throws IllegalStateException naming the failed step and errno (e.g. EPERM without CAP_NET_RAW)
     * @throws IllegalArgumentException when the filter does not compile
     */
    public static PacketRing open(CaptureInterface iface, PacketRingConfig config) {
        PacketFilter filter = PacketFilter.compile(config.filter(), iface.linkType(), config.snapLengthBytes());
        int skipOutgoingIfindex = iface.loopback() ? iface.ifindex() : 0;
        if (iface.isAny()) {
            // An unbound socket sees every interface: keep Ethernet frames (what the filter and
            // the decoder expect), and loopback's (a zero Ethernet header) only when asked.
            filter = iface.loopback()
                    ? filter.onlyHardwareTypes(CaptureInterface.ARPHRD_ETHER, CaptureInterface.ARPHRD_LOOPBACK)
                    : filter.onlyHardwareTypes(CaptureInterface.ARPHRD_ETHER);
            skipOutgoingIfindex = iface.loopback() ? CaptureInterface.loopbackIfindex() : 0;
        }
        LibC c = LibC.INSTANCE;
        // Protocol 0: the socket receives nothing until bind(), so no packet escapes the filter.
        int fd = c.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IllegalStateException(LibC.lastError("socket(AF_PACKET, SOCK_RAW) for " + iface.name()
                    + " (needs CAP_NET_RAW)"));
        }
        Pointer mapping = null;
        long mappingBytes = (long) config.blockBytes() * config.blockCount();
        try {
            filter.attach(fd);
            setInt(fd, LibC.SOL_PACKET, LibC.PACKET_VERSION, LibC.TPACKET_V3, "PACKET_VERSION TPACKET_V3");
            Memory req = new Memory(28);
            req.clear();
            req.setInt(0, config.blockBytes());
            req.setInt(4, config.blockCount());
            req.setInt(8, config.frameBytes());
            req.setInt(12, (int) (mappingBytes / config.frameBytes()));
            req.setInt(16, config.blockTimeoutMillis());
            if (c.setsockopt(fd, LibC.SOL_PACKET, LibC.PACKET_RX_RING, req, 28) != 0) {
                throw new IllegalStateException(LibC.lastError("setsockopt(PACKET_RX_RING " + config.blockCount()
                        + " x " + config.blockBytes() + " B)"));
            }
            mapping = c.mmap(null, mappingBytes, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
            if (mapping == null || Pointer.nativeValue(mapping) == -1L) {
                mapping = null;
                throw new IllegalStateException(LibC.lastError("mmap of the packet ring (" + mappingBytes + " B)"));
            }
            Memory sll = new Memory(20);
            sll.clear();
            sll.setShort(0, (short) LibC.AF_PACKET);
            sll.setShort(2, Short.reverseBytes((short) LibC.ETH_P_ALL));
            sll.setInt(4, iface.ifindex());
            if (c.bind(fd, sll, 20) != 0) {
                throw new IllegalStateException(LibC.lastError("bind(AF_PACKET) to " + iface.name() + " ifindex "
                        + iface.ifindex()));
            }
            if (config.fanoutGroup() >= 0) {
                boolean symmetric = config.fanoutMode() == PacketRingConfig.FANOUT_SYMMETRIC;
                int mode = symmetric ? LibC.PACKET_FANOUT_CBPF : config.fanoutMode();
                setInt(fd, LibC.SOL_PACKET, LibC.PACKET_FANOUT, (config.fanoutGroup() & 0xFFFF) | (mode << 16),
                        "PACKET_FANOUT group " + config.fanoutGroup());
                if (symmetric) {
                    PacketFilter.setProgram(fd, LibC.SOL_PACKET, LibC.PACKET_FANOUT_DATA,
                            SymmetricFanoutProgram.instructions(), "PACKET_FANOUT_DATA symmetric flow hash");
                }
            }
            return new PacketRing(iface, config, fd, mapping, mappingBytes, skipOutgoingIfindex);
        } catch (RuntimeException e) {
            if (mapping != null) {
                c.munmap(mapping, mappingBytes);
            }
            c.close(fd);
            throw e;
        }
    }

    private static void setInt(int fd, int level, int option, int value, String what) {
        Memory v = new Memory(4);
        v.setInt(0, value);
        if (LibC.INSTANCE.setsockopt(fd, level, option, v, 4) != 0) {
            throw new IllegalStateException(LibC.lastError("setsockopt(" + what + ")"));
        }
    }

    /**
     * Hands up to {@code limit} packets to the handler, without blocking.
     *
     * @return packets handled (0 when the ring is empty)
     */
    public int poll(PacketHandler handler, int limit) {
        if (closed) {
            throw new IllegalStateException("packet ring on " + iface.name() + " is closed");
        }
        UnsafeBuffer r = ring;
        int handled = 0;
        long byteCount = 0;
        long skipped = 0;
        int ifindexDefault = iface.ifindex();
        int skipIfindex = skipOutgoingIfindex;
        while (handled < limit) {
            int blockBase = block * blockBytes;
            int status = r.getIntVolatile(blockBase + BLOCK_STATUS);
            if ((status & TP_STATUS_USER) == 0) {
                break;
            }
            int count = r.getInt(blockBase + BLOCK_NUM_PKTS);
            if (packetInBlock == 0) {
                packetOffset = blockBase + r.getInt(blockBase + BLOCK_OFFSET_TO_FIRST_PKT);
            }
            while (packetInBlock < count && handled < limit) {
                int p = packetOffset;
                int snap = r.getInt(p + PKT_SNAPLEN);
                int len = r.getInt(p + PKT_LEN);
                int mac = r.getShort(p + PKT_MAC) & 0xFFFF;
                int pktType = r.getByte(p + PKT_SOCKADDR_LL + SLL_PKTTYPE) & 0xFF;
                int ifindex = r.getInt(p + PKT_SOCKADDR_LL + SLL_IFINDEX);
                if (ifindex == 0) {
                    ifindex = ifindexDefault;
                }
                // Advance first: a handler that throws skips its packet instead of seeing it again.
                packetInBlock++;
                packetOffset = p + r.getInt(p + PKT_NEXT_OFFSET);
                if (pktType == PacketHandler.PACKET_OUTGOING && ifindex == skipIfindex) {
                    skipped++;
                } else {
                    long ts = (r.getInt(p + PKT_SEC) & 0xFFFF_FFFFL) * NANOS_PER_SECOND
                            + (r.getInt(p + PKT_NSEC) & 0xFFFF_FFFFL);
                    handled++;
                    byteCount += len;
                    handler.onPacket(r, p + mac, snap, len, ts, ifindex, pktType);
                }
            }
            if (packetInBlock >= count) {
                retire(blockBase, status);
            }
        }
        if (handled > 0 || skipped > 0) {
            packets.lazySet(packets.get() + handled);
            bytes.lazySet(bytes.get() + byteCount);
            outgoingSkipped.lazySet(outgoingSkipped.get() + skipped);
        }
        return handled;
    }

    private void retire(int blockBase, int status) {
        blocks.lazySet(blocks.get() + 1);
        if ((status & TP_STATUS_BLK_TMO) != 0) {
            blocksByTimeout.lazySet(blocksByTimeout.get() + 1);
        }
        if ((status & TP_STATUS_LOSING) != 0) {
            blocksLosing.lazySet(blocksLosing.get() + 1);
        }
        if ((status & TP_STATUS_COPY) != 0) {
            blocksCopy.lazySet(blocksCopy.get() + 1);
        }
        ring.putIntOrdered(blockBase + BLOCK_STATUS, TP_STATUS_KERNEL);
        packetInBlock = 0;
        block = block + 1 == blockCount ? 0 : block + 1;
    }

    /** True when the next block is ready (no system call). */
    public boolean hasPackets() {
        return (ring.getIntVolatile(block * blockBytes + BLOCK_STATUS) & TP_STATUS_USER) != 0;
    }

    /**
     * Waits until a block is ready or the timeout passes (poll(2); for idle readers only).
     *
     * @return true when packets are ready
     */
    public boolean awaitPackets(int timeoutMillis) {
        if (hasPackets()) {
            return true;
        }
        int n = LibC.INSTANCE.poll(pollFd, 1, timeoutMillis);
        if (n < 0 && com.sun.jna.Native.getLastError() != LibC.EINTR) {
            throw new IllegalStateException(LibC.lastError("poll on packet socket of " + iface.name()));
        }
        return hasPackets();
    }

    /**
     * Reads PACKET_STATISTICS (which the kernel resets on read) into the cumulative kernel
     * counters. A system call: call it periodically (e.g. once a second), not per poll.
     */
    public void updateKernelStatistics() {
        if (closed) {
            return;
        }
        statsLength.setInt(0, 12);
        if (LibC.INSTANCE.getsockopt(fd, LibC.SOL_PACKET, LibC.PACKET_STATISTICS, stats, statsLength) != 0) {
            throw new IllegalStateException(LibC.lastError("getsockopt(PACKET_STATISTICS) on " + iface.name()));
        }
        kernelPackets.addAndGet(stats.getInt(0) & 0xFFFF_FFFFL);
        kernelDrops.addAndGet(stats.getInt(4) & 0xFFFF_FFFFL);
        kernelFreezes.addAndGet(stats.getInt(8) & 0xFFFF_FFFFL);
    }

    int fd() {
        return fd;
    }

    /** The interface. */
    public CaptureInterface captureInterface() {
        return iface;
    }

    /** The configuration. */
    public PacketRingConfig config() {
        return config;
    }

    /** pcap link type of the frames handed out (what to decode). */
    public int linkType() {
        return iface.linkType();
    }

    /** Mapped ring bytes. */
    public long ringBytes() {
        return mappingBytes;
    }

    /** Packets handed to handlers. */
    public long packets() {
        return packets.get();
    }

    /** Wire bytes of the packets handed to handlers. */
    public long bytes() {
        return bytes.get();
    }

    /** Blocks consumed. */
    public long blocks() {
        return blocks.get();
    }

    /** Blocks the kernel retired on the block timeout (partly filled: a quiet link). */
    public long blocksRetiredByTimeout() {
        return blocksByTimeout.get();
    }

    /** Blocks flagged TP_STATUS_LOSING: the kernel dropped packets since the previous statistics read. */
    public long blocksLosing() {
        return blocksLosing.get();
    }

    /** Blocks flagged TP_STATUS_COPY (a packet truncated to fit the block). */
    public long blocksCopy() {
        return blocksCopy.get();
    }

    /** Outgoing duplicates skipped on loopback. */
    public long outgoingSkipped() {
        return outgoingSkipped.get();
    }

    /** Packets the kernel counted (PACKET_STATISTICS tp_packets, cumulative; see {@link #updateKernelStatistics}). */
    public long kernelPackets() {
        return kernelPackets.get();
    }

    /** Packets the kernel dropped because the ring was full (tp_drops, cumulative). */
    public long kernelDrops() {
        return kernelDrops.get();
    }

    /** Times the ring queue froze because no block was free (tp_freeze_q_cnt, cumulative). */
    public long kernelFreezes() {
        return kernelFreezes.get();
    }

    /** Unmaps the ring and closes the socket. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.INSTANCE.munmap(mapping, mappingBytes);
            LibC.INSTANCE.close(fd);
        }
    }

    @Override
    public String toString() {
        return "PacketRing{" + iface.name() + " #" + iface.ifindex() + ", " + blockCount + " x " + blockBytes
                + " B, filter '" + config.filter() + "'}";
    }
}
