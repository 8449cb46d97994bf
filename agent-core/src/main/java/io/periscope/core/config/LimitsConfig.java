package io.periscope.core.config;

/**
 * The agent's resource budget. The launcher sizes the JVM from {@code max_memory_mb}; the resource
 * guard sheds load when the process goes over either budget.
 */
public record LimitsConfig(@Range(min = 128, max = 1L << 20) int maxMemoryMb, double maxCpuCores,
                           GuardConfig guard) {
    private static final int DEFAULT_MAX_MEMORY_MB = 768;
    private static final double MAX_CPU_CORES_CEILING = 1024.0;

    public LimitsConfig {
        if (!(maxCpuCores > 0.0 && maxCpuCores <= MAX_CPU_CORES_CEILING)) {
            throw new ConfigValueException("max_cpu_cores",
                    "must be a positive number of cores such as 1.0 or 0.5, got " + maxCpuCores);
        }
    }

    /** 768 MB and one core, like the DeepFlow agent's defaults. */
    public static LimitsConfig defaults() {
        return new LimitsConfig(DEFAULT_MAX_MEMORY_MB, 1.0, GuardConfig.defaults());
    }
}
