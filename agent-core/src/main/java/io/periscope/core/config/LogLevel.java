package io.periscope.core.config;

/** The agent's log threshold. */
public enum LogLevel {
    TRACE,
    DEBUG,
    INFO,
    WARN,
    ERROR
}
