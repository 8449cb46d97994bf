package io.periscope.core.config;

/** The Disruptor rings between sources, parsers and exporters (sizes are event slots, powers of two). */
public record PipelineConfig(@Range(min = 64, max = 1L << 24) int eventRingSize,
                             @Range(min = 64, max = 1L << 24) int exportRingSize,
                             WaitStrategy waitStrategy, @Range(min = 1, max = 64) int shards) {
    private static final int DEFAULT_EVENT_RING_SIZE = 2_048;
    private static final int DEFAULT_EXPORT_RING_SIZE = 8_192;
    private static final int DEFAULT_SHARDS = 1;

    public PipelineConfig {
        powerOfTwo("event_ring_size", eventRingSize);
        powerOfTwo("export_ring_size", exportRingSize);
    }

    private static void powerOfTwo(String key, int value) {
        if (Integer.bitCount(value) != 1) {
            throw new ConfigValueException(key, "must be a power of two (Disruptor ring), got " + value);
        }
    }

    /** 8 Ki event slots, 8 Ki export (span queue) slots, blocking wait, two parser shards. */
    public static PipelineConfig defaults() {
        return new PipelineConfig(DEFAULT_EVENT_RING_SIZE, DEFAULT_EXPORT_RING_SIZE, WaitStrategy.BLOCKING,
                DEFAULT_SHARDS);
    }
}
