package io.periscope.core.telemetry;

/** A value that goes up and down (queue depth, guard level); a volatile write to update. */
public final class Gauge {
    private volatile long value;

    Gauge() {
    }

    /** Replaces the value. */
    public void set(long newValue) {
        value = newValue;
    }

    /** The current value. */
    public long get() {
        return value;
    }
}
