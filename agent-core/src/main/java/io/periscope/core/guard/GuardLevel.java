package io.periscope.core.guard;

/**
 * How much load the agent sheds. Levels are cumulative: at {@link #SAMPLE_REQUEST_LOGS} parsing
 * is also shallow; at {@link #STOP_PAYLOAD_CAPTURE} both of those hold as well.
 */
public enum GuardLevel {
    /** Everything on. */
    NORMAL,
    /** Parsers extract only the shallow fields (method, status, latency). */
    SHALLOW_PARSING,
    /** Request logs are sampled; RED metrics still count every request. */
    SAMPLE_REQUEST_LOGS,
    /** The kernel side stops copying payload; only flows and connection metrics remain. */
    STOP_PAYLOAD_CAPTURE;

    /** The level as a number, as the {@code periscope_guard_level} gauge shows it. */
    public int number() {
        return ordinal();
    }

    /** Whether parsers should only extract shallow fields. */
    public boolean shallowParsing() {
        return this.compareTo(SHALLOW_PARSING) >= 0;
    }

    /** Whether request logs should be sampled. */
    public boolean sampleRequestLogs() {
        return this.compareTo(SAMPLE_REQUEST_LOGS) >= 0;
    }

    /** Whether payload capture should be on. */
    public boolean payloadCapture() {
        return this.compareTo(STOP_PAYLOAD_CAPTURE) < 0;
    }

    GuardLevel up() {
        return this == STOP_PAYLOAD_CAPTURE ? this : values()[ordinal() + 1];
    }

    GuardLevel down() {
        return this == NORMAL ? this : values()[ordinal() - 1];
    }
}
