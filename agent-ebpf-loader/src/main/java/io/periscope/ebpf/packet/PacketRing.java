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
 * <p>A growing ring ({@link PacketRingConfig#grows()}) starts with fewer blocks and doubles when
 * more than half of it waits for the reader, a block comes flagged TP_STATUS_LOSING, or the
 * kernel counts drops, up to {@link PacketRingConfig#blockCount()}. A mapped ring cannot be
 * resized, so growing opens a second socket with the larger ring and hands the traffic over
 * without losing or duplicating a packet: both sockets are in one PACKET_FANOUT group (of this
 * ring alone) whose classic BPF program picks the member. The new socket joins with a filter
 * that rejects everything while the program still picks the old one; then it gets the real
 * filter, and the program is switched to pick it (the kernel swaps the program under RCU and
 * waits a grace period, so once that returns nothing more is written into the old ring). The
 * reader finishes the old ring, including its last, partly filled block, before the new one,
 * so packets stay in order; then the old socket is closed.
 *
 * <p>Single reader: {@link #poll} and {@link #close} from one thread (closing unmaps the ring
 * a concurrent poll would read). Counters may be read from any thread.
 */
public final class PacketRing implements AutoCloseable {
    // struct tpacket_block_desc: version, offset_to_priv, then struct tpacket_hdr_v1.
    private static final int BLOCK_STATUS = 8;
    private static final int BLOCK_NUM_PKTS = 12;
    private static final int BLOCK_OFFSET_TO_FIRST_PKT = 16;
    /** The block's sequence number, set when the kernel opens the block for filling (aligned u64). */
    private static final int BLOCK_SEQ_NUM = 24;
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

    /** Fanout program of a growing ring: every packet to member 0, the socket being read. */
    private static final byte[] PICK_CURRENT = PacketFilter.returning(0);
    /** Fanout program during a hand-over: every packet to member 1, the socket that just joined. */
    private static final byte[] PICK_JOINED = PacketFilter.returning(1);
    /** Socket filter of a joining socket until the hand-over: accepts nothing. */
    private static final byte[] REJECT_ALL = PacketFilter.returning(0);

    private final CaptureInterface iface;
    private final PacketRingConfig config;
    private final PacketFilter filter;
    // The socket and ring being read; replaced when a grown ring takes over.
    private int fd;
    private Pointer mapping;
    private long mappingBytes;
    private UnsafeBuffer ring;
    private final int blockBytes;
    private int blockCount;
    /** PACKET_FANOUT group id of a growing ring (the kernel's unique id), or -1 for a fixed ring. */
    private final int growthGroup;
    /** The grown ring the traffic was handed to, read once the current one is finished; or null. */
    private Opened next;
    private boolean growRequested;
    /** False for a fixed ring, and once growing failed. */
    private boolean mayGrow;
    /** Sequence number of the last block handed back (0: none yet): newer blocks were opened since. */
    private long lastRetiredSeq;
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
    private final AtomicLong growths = new AtomicLong();
    private final AtomicLong growthFailures = new AtomicLong();
    private final AtomicLong ringBytesNow = new AtomicLong();
    private volatile String lastGrowthFailure = "";

    /** A socket with its mapped ring. */
    private record Opened(int fd, Pointer mapping, long bytes, int blockCount) {
    }

    private PacketRing(CaptureInterface iface, PacketRingConfig config, PacketFilter filter, Opened opened,
            int growthGroup, int skipOutgoingIfindex) {
        this.iface = iface;
        this.config = config;
        this.filter = filter;
        this.blockBytes = config.blockBytes();
        this.growthGroup = growthGroup;
        this.mayGrow = growthGroup >= 0;
        this.skipOutgoingIfindex = skipOutgoingIfindex;
        pollFd.clear();
        pollFd.setShort(4, (short) (LibC.POLLIN | LibC.POLLERR));
        readFrom(opened);
    }

    private void readFrom(Opened opened) {
        this.fd = opened.fd();
        this.mapping = opened.mapping();
        this.mappingBytes = opened.bytes();
        this.blockCount = opened.blockCount();
        this.ring = new UnsafeBuffer(Pointer.nativeValue(opened.mapping()), (int) opened.bytes());
        this.block = 0;
        this.packetInBlock = 0;
        this.lastRetiredSeq = 0;
        pollFd.setInt(0, opened.fd());
        ringBytesNow.set(opened.bytes());
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
        Opened opened = openSocket(iface, config, config.initialBlockCount(), filter, null);
        if (config.grows()) {
            try {
                int group = joinOwnGroup(opened.fd());
                return new PacketRing(iface, config, filter, opened, group, skipOutgoingIfindex);
            } catch (RuntimeException e) {
                // A kernel without unique fanout groups: a fixed ring of the full size instead.
                release(opened);
                PacketRing ring = new PacketRing(iface, config, filter,
                        openSocket(iface, config, config.blockCount(), filter, null), -1, skipOutgoingIfindex);
                ring.lastGrowthFailure = String.valueOf(e.getMessage());
                ring.growthFailures.incrementAndGet();
                return ring;
            }
        }
        try {
            if (config.fanoutGroup() >= 0) {
                boolean symmetric = config.fanoutMode() == PacketRingConfig.FANOUT_SYMMETRIC;
                int mode = symmetric ? LibC.PACKET_FANOUT_CBPF : config.fanoutMode();
                setInt(opened.fd(), LibC.SOL_PACKET, LibC.PACKET_FANOUT,
                        (config.fanoutGroup() & 0xFFFF) | (mode << 16), "PACKET_FANOUT group " + config.fanoutGroup());
                if (symmetric) {
                    PacketFilter.setProgram(opened.fd(), LibC.SOL_PACKET, LibC.PACKET_FANOUT_DATA,
                            SymmetricFanoutProgram.instructions(), "PACKET_FANOUT_DATA symmetric flow hash");
                }
            }
            return new PacketRing(iface, config, filter, opened, -1, skipOutgoingIfindex);
        } catch (RuntimeException e) {
            release(opened);
            throw e;
        }
    }

    /**
     * Puts a growing ring's socket in a PACKET_FANOUT group of its own (a kernel-chosen id), so
     * that a grown ring can take over later; the group's program picks this socket.
     *
     * @return the group id
     */
    private static int joinOwnGroup(int fd) {
        int modeAndFlags = LibC.PACKET_FANOUT_CBPF | LibC.PACKET_FANOUT_FLAG_UNIQUEID;
        setInt(fd, LibC.SOL_PACKET, LibC.PACKET_FANOUT, modeAndFlags << 16,
                "PACKET_FANOUT unique group for a growing ring");
        PacketFilter.setProgram(fd, LibC.SOL_PACKET, LibC.PACKET_FANOUT_DATA, PICK_CURRENT,
                "PACKET_FANOUT_DATA pick the current ring");
        Memory v = new Memory(4);
        Memory length = new Memory(4);
        length.setInt(0, 4);
        if (LibC.INSTANCE.getsockopt(fd, LibC.SOL_PACKET, LibC.PACKET_FANOUT, v, length) != 0) {
            throw new IllegalStateException(LibC.lastError("getsockopt(PACKET_FANOUT)"));
        }
        return v.getInt(0) & 0xFFFF;
    }

    /**
     * A bound AF_PACKET socket with a mapped TPACKET_V3 ring of {@code blockCount} blocks, its
     * filter attached ({@code rawFilter} instead of {@code filter} when not null).
     */
    private static Opened openSocket(CaptureInterface iface, PacketRingConfig config, int blockCount,
            PacketFilter filter, byte[] rawFilter) {
        LibC c = LibC.INSTANCE;
        // Protocol 0: the socket receives nothing until bind(), so no packet escapes the filter.
        int fd = c.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IllegalStateException(LibC.lastError("socket(AF_PACKET, SOCK_RAW) for " + iface.name()
                    + " (needs CAP_NET_RAW)"));
        }
        Pointer mapping = null;
        long mappingBytes = (long) config.blockBytes() * blockCount;
        try {
            if (rawFilter != null) {
                PacketFilter.setProgram(fd, LibC.SOL_SOCKET, LibC.SO_ATTACH_FILTER, rawFilter,
                        "SO_ATTACH_FILTER reject all");
            } else {
                filter.attach(fd);
            }
            setInt(fd, LibC.SOL_PACKET, LibC.PACKET_VERSION, LibC.TPACKET_V3, "PACKET_VERSION TPACKET_V3");
            Memory req = new Memory(28);
            req.clear();
            req.setInt(0, config.blockBytes());
            req.setInt(4, blockCount);
            req.setInt(8, config.frameBytes());
            req.setInt(12, (int) (mappingBytes / config.frameBytes()));
            req.setInt(16, config.blockTimeoutMillis());
            if (c.setsockopt(fd, LibC.SOL_PACKET, LibC.PACKET_RX_RING, req, 28) != 0) {
                throw new IllegalStateException(LibC.lastError("setsockopt(PACKET_RX_RING " + blockCount
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
            return new Opened(fd, mapping, mappingBytes, blockCount);
        } catch (RuntimeException e) {
            if (mapping != null) {
                c.munmap(mapping, mappingBytes);
            }
            c.close(fd);
            throw e;
        }
    }

    private static void release(Opened opened) {
        LibC.INSTANCE.munmap(opened.mapping(), opened.bytes());
        LibC.INSTANCE.close(opened.fd());
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
            boolean lastOfHandedOver = false;
            if ((status & TP_STATUS_USER) == 0) {
                if (next == null) {
                    break;
                }
                // This ring was handed over: nothing is written into it any more. Its last block
                // (opened after the last one handed back) may hold packets the kernel would only
                // retire at the block timeout: read them now, then move on to the grown ring.
                if (r.getLong(blockBase + BLOCK_SEQ_NUM) <= lastRetiredSeq
                        || packetInBlock >= r.getInt(blockBase + BLOCK_NUM_PKTS)) {
                    finishHandOver();
                    r = ring;
                    continue;
                }
                lastOfHandedOver = true;
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
                // The interface test first: it is false for every packet off loopback, so the
                // first outgoing packet of a flow does not hit a branch the JIT compiled as never
                // taken (which deoptimised the whole compiled packet path).
                if (ifindex == skipIfindex && pktType == PacketHandler.PACKET_OUTGOING) {
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
                if (lastOfHandedOver) {
                    finishHandOver();
                    r = ring;
                } else {
                    retire(r, blockBase, status);
                }
            }
        }
        if (handled > 0 || skipped > 0) {
            packets.lazySet(packets.get() + handled);
            bytes.lazySet(bytes.get() + byteCount);
            outgoingSkipped.lazySet(outgoingSkipped.get() + skipped);
        }
        if (growRequested && next == null) {
            grow();
        }
        return handled;
    }

    private void retire(UnsafeBuffer r, int blockBase, int status) {
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
        lastRetiredSeq = r.getLong(blockBase + BLOCK_SEQ_NUM);
        r.putIntOrdered(blockBase + BLOCK_STATUS, TP_STATUS_KERNEL);
        packetInBlock = 0;
        int count = blockCount;
        if (canGrow() && !growRequested) {
            // The block half a ring ahead of this one is full too, so more than half of the ring
            // waited for the reader (or the kernel lost packets): a ring twice the size would ride
            // out what this one barely did.
            int half = block + count / 2;
            int ahead = (half >= count ? half - count : half) * blockBytes;
            if ((status & TP_STATUS_LOSING) != 0 || (r.getIntVolatile(ahead + BLOCK_STATUS) & TP_STATUS_USER) != 0) {
                growRequested = true;
            }
        }
        block = block + 1 == count ? 0 : block + 1;
    }

    /** A growing ring below its full size that is not already handing over to a grown one. */
    private boolean canGrow() {
        return mayGrow && next == null && blockCount < config.blockCount();
    }

    /**
     * Opens the doubled ring and hands the traffic to it (see the class comment). On failure
     * (e.g. no memory for a larger ring) the current ring stays, the failure is counted, and
     * the ring stops trying to grow.
     */
    private void grow() {
        growRequested = false;
        int count = (int) Math.min((long) blockCount * 2, config.blockCount());
        Opened grown = null;
        try {
            grown = openSocket(iface, config, count, filter, REJECT_ALL);
            // Joining: the group's program still picks member 0, the current socket; the new
            // one's own (rejecting) filter covered it between bind and join.
            setInt(grown.fd(), LibC.SOL_PACKET, LibC.PACKET_FANOUT, growthGroup | (LibC.PACKET_FANOUT_CBPF << 16),
                    "PACKET_FANOUT join group " + growthGroup);
            filter.attach(grown.fd());
            // The switch: after this returns (an RCU grace period later) the old ring gets nothing.
            PacketFilter.setProgram(grown.fd(), LibC.SOL_PACKET, LibC.PACKET_FANOUT_DATA, PICK_JOINED,
                    "PACKET_FANOUT_DATA pick the grown ring");
            next = grown;
            ringBytesNow.set(mappingBytes + grown.bytes());
        } catch (RuntimeException e) {
            if (grown != null) {
                // The program still picks member 0 (the switch is the last step): closing the
                // joined socket takes it out of the group without touching the traffic.
                release(grown);
            }
            lastGrowthFailure = String.valueOf(e.getMessage());
            growthFailures.incrementAndGet();
            mayGrow = false;
        }
    }

    /** The old ring is read to its end: close it and read the grown one from its first block. */
    private void finishHandOver() {
        Opened grown = next;
        updateKernelStatistics();
        LibC.INSTANCE.munmap(mapping, mappingBytes);
        LibC.INSTANCE.close(fd);
        // Alone in the group again (member 0): any program picks it. Back to picking member 0
        // so that the next ring to join starts out unpicked.
        next = null;
        readFrom(grown);
        growths.incrementAndGet();
        try {
            PacketFilter.setProgram(fd, LibC.SOL_PACKET, LibC.PACKET_FANOUT_DATA, PICK_CURRENT,
                    "PACKET_FANOUT_DATA pick the current ring");
        } catch (RuntimeException e) {
            // Without the reset a later ring joining would be picked before its filter is set:
            // grow no further.
            lastGrowthFailure = String.valueOf(e.getMessage());
            growthFailures.incrementAndGet();
            mayGrow = false;
        }
    }

    /** True when the next block is ready (no system call). */
    public boolean hasPackets() {
        return next != null || (ring.getIntVolatile(block * blockBytes + BLOCK_STATUS) & TP_STATUS_USER) != 0;
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
        readStatistics(fd);
        if (next != null) {
            readStatistics(next.fd());
        }
    }

    private void readStatistics(int socket) {
        statsLength.setInt(0, 12);
        if (LibC.INSTANCE.getsockopt(socket, LibC.SOL_PACKET, LibC.PACKET_STATISTICS, stats, statsLength) != 0) {
            throw new IllegalStateException(LibC.lastError("getsockopt(PACKET_STATISTICS) on " + iface.name()));
        }
        kernelPackets.addAndGet(stats.getInt(0) & 0xFFFF_FFFFL);
        long drops = stats.getInt(4) & 0xFFFF_FFFFL;
        kernelDrops.addAndGet(drops);
        kernelFreezes.addAndGet(stats.getInt(8) & 0xFFFF_FFFFL);
        if (drops > 0 && canGrow()) {
            growRequested = true;
        }
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

    /** Mapped ring bytes now (both rings while a grown one takes over); may be read from any thread. */
    public long ringBytes() {
        return ringBytesNow.get();
    }

    /** Blocks of the ring being read. */
    public int blockCount() {
        return blockCount;
    }

    /** Times the ring grew (a doubled ring took over). */
    public long growths() {
        return growths.get();
    }

    /** Times growing failed (the ring then stays at its size); see {@link #lastGrowthFailure}. */
    public long growthFailures() {
        return growthFailures.get();
    }

    /** Why growing last failed ("" if it never did). */
    public String lastGrowthFailure() {
        return lastGrowthFailure;
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
            if (next != null) {
                release(next);
                next = null;
            }
        }
    }

    @Override
    public String toString() {
        return "PacketRing{" + iface.name() + " #" + iface.ifindex() + ", " + blockCount + " x " + blockBytes
                + " B, filter '" + config.filter() + "'}";
    }
}
