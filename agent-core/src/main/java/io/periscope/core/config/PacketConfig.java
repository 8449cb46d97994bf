package io.periscope.core.config;

import java.util.List;

/**
 * AF_PACKET capture: interfaces by name or glob ({@code eth*}), a pcap filter expression, fanout
 * readers, the TPACKET_V3 ring geometry, and whether L7 parsing also runs on packet streams.
 */
public record PacketConfig(boolean enabled, List<String> interfaces, boolean includeLoopback, String filter,
                           @Range(min = 1, max = 64) int fanoutReaders,
                           @Range(min = 4096, max = 1L << 30) int blockBytes,
                           @Range(min = 2, max = 65_536) int blockCount,
                           boolean l7Parsing) {
    private static final int DEFAULT_BLOCK_BYTES = 1024 * 1024;
    private static final int DEFAULT_BLOCK_COUNT = 16;

    public PacketConfig {
        interfaces = List.copyOf(interfaces);
        if (Integer.bitCount(blockBytes) != 1) {
            throw new ConfigValueException("block_bytes",
                    "a TPACKET_V3 block is a power of two of at least a page (e.g. 1048576), got " + blockBytes);
        }
    }

    /** Every interface except loopback, no filter, one reader, 16 blocks of 1 MiB, flows only. */
    public static PacketConfig defaults() {
        return new PacketConfig(true, List.of("*"), false, "", 1, DEFAULT_BLOCK_BYTES, DEFAULT_BLOCK_COUNT, false);
    }
}
