package io.periscope.core.config;

/** Where telemetry goes: an OTLP collector, a local file, or both. */
public record ExportersConfig(OtlpExporterConfig otlp, FileExporterConfig file) {
    /** File exporter only. */
    public static ExportersConfig defaults() {
        return new ExportersConfig(OtlpExporterConfig.defaults(), FileExporterConfig.defaults());
    }

    /** The file exporter runs when no collector is configured, or when asked to always run. */
    public boolean fileEnabled() {
        return file.always() || !otlp.enabled();
    }
}
