package io.periscope.core.telemetry;

/** Registers the process-level gauges every scrape shows: CPU seconds, RSS, JVM heap, build info. */
public final class ProcessMetrics {
    private ProcessMetrics() {
    }

    /** Adds {@code periscope_process_*}, {@code periscope_jvm_*} and {@code periscope_build_info}. */
    public static void register(MetricsRegistry registry, ProcessStats stats, String version) {
        registry.counter("periscope_process_cpu_seconds_total", "User plus system CPU time of the agent, seconds",
                stats::cpuSeconds);
        registry.gauge("periscope_process_resident_memory_bytes", "Resident set size of the agent, bytes",
                () -> stats.rssBytes());
        Runtime runtime = Runtime.getRuntime();
        registry.gauge("periscope_jvm_heap_used_bytes", "Java heap in use, bytes",
                () -> runtime.totalMemory() - runtime.freeMemory());
        registry.gauge("periscope_jvm_heap_max_bytes", "Java heap limit (-Xmx), bytes", () -> runtime.maxMemory());
        registry.gauge("periscope_build_info", "Always 1; the version is a label", () -> 1, "version", version);
    }
}
