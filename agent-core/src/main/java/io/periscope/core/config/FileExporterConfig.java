package io.periscope.core.config;

/**
 * The file exporter: OTLP JSON lines (the Collector's {@code otlpjsonfile} format). It runs when no
 * OTLP endpoint is configured, or always when {@code always} is true. The file is rotated at
 * {@code max_bytes}, keeping {@code max_files} old files.
 */
public record FileExporterConfig(String path, @Range(min = 4096, max = Long.MAX_VALUE) long maxBytes,
                                 @Range(min = 0, max = 1000) int maxFiles, boolean always) {
    /** Where spans, metrics and logs go when no collector is configured. */
    public static final String DEFAULT_PATH = "/var/log/periscope/otlp.jsonl";
    private static final long DEFAULT_MAX_BYTES = 100L * 1024 * 1024;
    private static final int DEFAULT_MAX_FILES = 5;

    public FileExporterConfig {
        if (path.isEmpty()) {
            throw new ConfigValueException("path", "must name a file, e.g. " + DEFAULT_PATH);
        }
    }

    /** {@value #DEFAULT_PATH}, 100 MiB per file, 5 old files kept. */
    public static FileExporterConfig defaults() {
        return new FileExporterConfig(DEFAULT_PATH, DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, false);
    }
}
