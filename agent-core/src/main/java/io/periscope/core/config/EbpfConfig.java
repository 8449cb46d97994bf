package io.periscope.core.config;

/** The eBPF socket tracer: how much payload to copy per message and which traffic to see. */
public record EbpfConfig(boolean enabled,
                         @Range(min = 1, max = EbpfConfig.MAX_PAYLOAD_BYTES) int payloadBytes,
                         PortFilter ports, ProcessFilter processes,
                         @Range(min = 4096, max = 1L << 30) int ringBufferBytes) {
    /** The kernel side copies at most this many bytes of a message. */
    public static final int MAX_PAYLOAD_BYTES = 16_384;
    private static final int DEFAULT_PAYLOAD_BYTES = 1024;
    private static final int DEFAULT_RING_BUFFER_BYTES = 8 * 1024 * 1024;

    public EbpfConfig {
        if (Integer.bitCount(ringBufferBytes) != 1) {
            throw new ConfigValueException("ring_buffer_bytes",
                    "the BPF ring buffer size must be a power of two (e.g. 8388608), got " + ringBufferBytes);
        }
    }

    /** On, 1 KiB payload, every port and process, 8 MiB ring. */
    public static EbpfConfig defaults() {
        return new EbpfConfig(true, DEFAULT_PAYLOAD_BYTES, PortFilter.defaults(), ProcessFilter.defaults(),
                DEFAULT_RING_BUFFER_BYTES);
    }
}
