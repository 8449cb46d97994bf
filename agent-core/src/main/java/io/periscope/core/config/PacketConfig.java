package io.periscope.core.config;

import java.util.List;

/**
 * AF_PACKET capture: interfaces by name or glob ({@code eth*}), a pcap filter expression, fanout
 * readers, the TPACKET_V3 ring geometry, and whether L7 parsing also runs on packet streams.
 * A ring starts with {@code initialBlockCount} blocks and doubles up to {@code blockCount} when
 * the traffic needs it (equal counts: a fixed ring; readers in a fanout group always are).
 */
public record PacketConfig(boolean enabled, List<String> interfaces, boolean includeLoopback, String filter,
                           @Range(min = 1, max = 64) int fanoutReaders,
                           @Range(min = 4096, max = 1L << 30) int blockBytes,
                           @Range(min = 2, max = 65_536) int blockCount,
                           @Range(min = 2, max = 65_536) int initialBlockCount,
                           boolean l7Parsing) {
    // 1 MiB blocks, starting with 4 (a quiet node's ring was 16 MiB, all resident) and doubling up
    // to 16 MiB. Each retired block is a wake-up of the reader: 128 KiB blocks (2 MiB start) cost
    // scenario F's flood ~70 ns more agent CPU per packet on the quiet machine (bench README,
    // session 7), while 1 MiB blocks grown to 16 are the fixed ring's geometry again.
    private static final int DEFAULT_BLOCK_BYTES = 1024 * 1024;
    private static final int DEFAULT_BLOCK_COUNT = 16;
    private static final int DEFAULT_INITIAL_BLOCK_COUNT = 4;

    public PacketConfig {
        interfaces = List.copyOf(interfaces);
        if (Integer.bitCount(blockBytes) != 1) {
            throw new ConfigValueException("block_bytes",
                    "a TPACKET_V3 block is a power of two of at least a page (e.g. 1048576), got " + blockBytes);
        }
        // A ring configured smaller than the default start is simply a fixed ring of that size.
        initialBlockCount = Math.min(initialBlockCount, blockCount);
    }

    /**
     * Every interface except loopback, no filter, one reader, a ring of 1 MiB blocks starting at
     * 4 (4 MiB) and growing up to 16 (16 MiB), flows only.
     */
    public static PacketConfig defaults() {
        return new PacketConfig(true, List.of("*"), false, "", 1, DEFAULT_BLOCK_BYTES, DEFAULT_BLOCK_COUNT,
                DEFAULT_INITIAL_BLOCK_COUNT, false);
    }
}
