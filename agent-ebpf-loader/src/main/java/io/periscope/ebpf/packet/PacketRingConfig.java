package io.periscope.ebpf.packet;

/**
 * Immutable settings of a TPACKET_V3 ring; build with {@link #builder()}.
 * Ring memory is {@code blockBytes * blockCount} per interface per reader, or, for a growing
 * ring ({@link Builder#initialBlockCount}), {@code blockBytes * initialBlockCount} until the
 * traffic needs more.
 */
public final class PacketRingConfig {
    /** Fanout mode: packets of one flow go to one reader (flow hash). */
    public static final int FANOUT_HASH = LibC.PACKET_FANOUT_HASH;
    /** Fanout mode: round robin. */
    public static final int FANOUT_LB = LibC.PACKET_FANOUT_LB;
    /** Fanout mode: by receiving CPU. */
    public static final int FANOUT_CPU = LibC.PACKET_FANOUT_CPU;
    /**
     * Fanout mode: a classic BPF program of ours picks the reader from a symmetric hash of the
     * IPv4/IPv6 addresses and TCP/UDP ports, so both directions of a flow reach the same reader.
     * The kernel's flow hash ({@link #FANOUT_HASH}) is not symmetric for locally generated packets
     * (each socket has its own random tx hash), which would split a flow's directions. Non-IP
     * packets all go to the first reader.
     */
    public static final int FANOUT_SYMMETRIC = 0x100 | LibC.PACKET_FANOUT_CBPF;

    private final int blockBytes;
    private final int blockCount;
    private final int initialBlockCount;
    private final int frameBytes;
    private final int blockTimeoutMillis;
    private final int snapLengthBytes;
    private final String filter;
    private final int fanoutGroup;
    private final int fanoutMode;

    private PacketRingConfig(Builder b) {
        this.blockBytes = b.blockBytes;
        this.blockCount = b.blockCount;
        this.initialBlockCount = b.initialBlockCount == 0 ? b.blockCount : b.initialBlockCount;
        this.frameBytes = b.frameBytes;
        this.blockTimeoutMillis = b.blockTimeoutMillis;
        this.snapLengthBytes = b.snapLengthBytes;
        this.filter = b.filter;
        this.fanoutGroup = b.fanoutGroup;
        this.fanoutMode = b.fanoutMode;
    }

    /** A builder with the defaults: 16 blocks of 1 MiB, 100 ms block timeout, snap length 65535, no filter. */
    public static Builder builder() {
        return new Builder();
    }

    /** Bytes per block (a power of two, multiple of the page size). */
    public int blockBytes() {
        return blockBytes;
    }

    /** Number of blocks. */
    public int blockCount() {
        return blockCount;
    }

    /**
     * Blocks the ring starts with: {@link #blockCount} for a fixed ring; fewer for a ring that
     * doubles (up to {@link #blockCount}) when it fills past half or the kernel drops packets.
     */
    public int initialBlockCount() {
        return initialBlockCount;
    }

    /** Whether the ring starts smaller than {@link #blockCount} and grows on demand. */
    public boolean grows() {
        return initialBlockCount < blockCount;
    }

    /** Nominal frame size (TPACKET_V3 packs variable-size frames; this only sizes tp_frame_nr). */
    public int frameBytes() {
        return frameBytes;
    }

    /** The kernel retires a partly filled block after this long, so quiet links still deliver. */
    public int blockTimeoutMillis() {
        return blockTimeoutMillis;
    }

    /** Bytes captured of each packet. */
    public int snapLengthBytes() {
        return snapLengthBytes;
    }

    /** tcpdump filter expression ("" for all). */
    public String filter() {
        return filter;
    }

    /** PACKET_FANOUT group id (per interface), or -1 for no fanout. */
    public int fanoutGroup() {
        return fanoutGroup;
    }

    /** PACKET_FANOUT mode ({@link #FANOUT_SYMMETRIC} by default). */
    public int fanoutMode() {
        return fanoutMode;
    }

    /**
     * A copy with another fanout group. Readers sharing a fanout group keep a fixed ring of
     * {@link #blockCount} blocks (growing swaps a reader's socket, which a shared group cannot do).
     */
    public PacketRingConfig withFanoutGroup(int group) {
        Builder b = new Builder();
        b.blockBytes = blockBytes;
        b.blockCount = blockCount;
        b.initialBlockCount = group >= 0 ? blockCount : initialBlockCount;
        b.frameBytes = frameBytes;
        b.blockTimeoutMillis = blockTimeoutMillis;
        b.snapLengthBytes = snapLengthBytes;
        b.filter = filter;
        b.fanoutGroup = group;
        b.fanoutMode = fanoutMode;
        return b.build();
    }

    /** Builder of {@link PacketRingConfig}. */
    public static final class Builder {
        private int blockBytes = 1 << 20;
        private int blockCount = 16;
        /** 0: as many as blockCount (a fixed ring). */
        private int initialBlockCount;
        private int frameBytes = 2048;
        // Each retired block is a wakeup of the reader (poll(2), a context switch, cold caches): at
        // 10 ms a slow link costs 100 of them a second. Flows are reported per second at the finest,
        // so holding a partly filled block for 100 ms is invisible; at high rates blocks fill first.
        private int blockTimeoutMillis = 100;
        private int snapLengthBytes = 65535;
        private String filter = "";
        private int fanoutGroup = -1;
        private int fanoutMode = FANOUT_SYMMETRIC;

        private Builder() {
        }

        /** Bytes per block. */
        public Builder blockBytes(int value) {
            this.blockBytes = value;
            return this;
        }

        /** Number of blocks. */
        public Builder blockCount(int value) {
            this.blockCount = value;
            return this;
        }

        /**
         * Blocks to start with (0, the default: {@link #blockCount}, a fixed ring). Fewer: the
         * ring doubles up to blockCount when more than half of it waits for the reader or the
         * kernel reports drops, so a quiet node does not keep the whole ring resident.
         */
        public Builder initialBlockCount(int value) {
            this.initialBlockCount = value;
            return this;
        }

        /** Block retire timeout. */
        public Builder blockTimeoutMillis(int value) {
            this.blockTimeoutMillis = value;
            return this;
        }

        /** Snap length. */
        public Builder snapLengthBytes(int value) {
            this.snapLengthBytes = value;
            return this;
        }

        /** tcpdump filter. */
        public Builder filter(String value) {
            this.filter = value == null ? "" : value;
            return this;
        }

        /** Fanout group id (0..65535) and mode. */
        public Builder fanout(int group, int mode) {
            this.fanoutGroup = group;
            this.fanoutMode = mode;
            return this;
        }

        /** Validates and builds; throws {@link IllegalArgumentException} naming the setting. */
        public PacketRingConfig build() {
            if (blockBytes < 4096 || Integer.bitCount(blockBytes) != 1) {
                throw new IllegalArgumentException("packet ring: blockBytes must be a power of two >= 4096, got "
                        + blockBytes);
            }
            if (blockCount < 2 || (long) blockBytes * blockCount > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("packet ring: blockCount must be >= 2 and the ring < 2 GiB, got "
                        + blockCount + " x " + blockBytes);
            }
            if (initialBlockCount != 0 && (initialBlockCount < 2 || initialBlockCount > blockCount)) {
                throw new IllegalArgumentException("packet ring: initialBlockCount must be in [2, blockCount "
                        + blockCount + "] (or 0 for a fixed ring), got " + initialBlockCount);
            }
            if (initialBlockCount != 0 && initialBlockCount < blockCount && fanoutGroup >= 0) {
                throw new IllegalArgumentException("packet ring: a ring in a fanout group cannot grow: "
                        + "initialBlockCount " + initialBlockCount + " < blockCount " + blockCount);
            }
            if (snapLengthBytes < 64 || snapLengthBytes > 262144) {
                throw new IllegalArgumentException("packet ring: snapLengthBytes must be in [64, 262144], got "
                        + snapLengthBytes);
            }
            if (blockTimeoutMillis < 1) {
                throw new IllegalArgumentException("packet ring: blockTimeoutMillis must be >= 1");
            }
            if (fanoutGroup > 0xFFFF) {
                throw new IllegalArgumentException("packet ring: fanout group must be in [0, 65535], got "
                        + fanoutGroup);
            }
            return new PacketRingConfig(this);
        }
    }
}
