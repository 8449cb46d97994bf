package io.periscope.core.config;

/** OTLP payload compression. */
public enum Compression {
    NONE,
    GZIP
}
