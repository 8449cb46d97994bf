package io.periscope.core.config;

/** The agent's log: threshold and whether each line is a JSON object (for log shippers). */
public record LoggingConfig(LogLevel level, boolean json) {
    /** INFO, plain text. */
    public static LoggingConfig defaults() {
        return new LoggingConfig(LogLevel.INFO, false);
    }
}
