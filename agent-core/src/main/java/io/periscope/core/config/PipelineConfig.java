package io.periscope.core.config;

import io.periscope.core.sched.CpuPlacement;

import java.util.BitSet;

/** The Disruptor rings between sources, parsers and exporters (sizes are event slots, powers of two). */
public record PipelineConfig(@Range(min = 64, max = 1L << 24) int eventRingSize,
                             @Range(min = 64, max = 1L << 24) int exportRingSize,
                             WaitStrategy waitStrategy, @Range(min = 1, max = 64) int shards,
                             @Range(min = 0, max = CpuPlacement.MAX_SLICE_MICROS) int cpuSliceUs,
                             @Range(min = 0, max = CpuPlacement.MAX_NICE) int cpuNice, String cpus) {
    private static final int DEFAULT_EVENT_RING_SIZE = 2_048;
    private static final int DEFAULT_EXPORT_RING_SIZE = 8_192;
    private static final int DEFAULT_SHARDS = 1;
    /** The shortest slice the kernel allows: a traced thread waking on the agent's CPU waits at most ~this. */
    private static final int DEFAULT_CPU_SLICE_US = 100;
    /**
     * Opt-in: nice 5 lets woken traced threads overtake the agent's at once, but on a saturated
     * node the agent then falls behind (export-queue drops in B-like runs at 20K req/s, load 4-6).
     */
    private static final int DEFAULT_CPU_NICE = 0;

    public PipelineConfig {
        powerOfTwo("event_ring_size", eventRingSize);
        powerOfTwo("export_ring_size", exportRingSize);
        if (cpuSliceUs != 0 && cpuSliceUs < CpuPlacement.MIN_SLICE_MICROS) {
            throw new ConfigValueException("cpu_slice_us", "must be 0 (the kernel's default slice) or "
                    + CpuPlacement.MIN_SLICE_MICROS + "-" + CpuPlacement.MAX_SLICE_MICROS + " µs, got " + cpuSliceUs);
        }
        cpus = cpus == null ? "" : cpus.trim();
        try {
            CpuPlacement.parseCpuList(cpus);
        } catch (IllegalArgumentException e) {
            throw new ConfigValueException("cpus", e.getMessage());
        }
    }

    /** The CPUs the agent's threads may run on; empty: any. */
    public BitSet cpuSet() {
        return CpuPlacement.parseCpuList(cpus);
    }

    private static void powerOfTwo(String key, int value) {
        if (Integer.bitCount(value) != 1) {
            throw new ConfigValueException(key, "must be a power of two (Disruptor ring), got " + value);
        }
    }

    /** 2 Ki event slots, 8 Ki export (span queue) slots, blocking wait, one shard, 100 µs slices, any CPU. */
    public static PipelineConfig defaults() {
        return new PipelineConfig(DEFAULT_EVENT_RING_SIZE, DEFAULT_EXPORT_RING_SIZE, WaitStrategy.BLOCKING,
                DEFAULT_SHARDS, DEFAULT_CPU_SLICE_US,
                DEFAULT_CPU_NICE, "");
    }
}
