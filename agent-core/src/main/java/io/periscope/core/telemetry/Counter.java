package io.periscope.core.telemetry;

import java.util.concurrent.atomic.AtomicLong;

/** A monotonically increasing count; lock-free to update from any thread. */
public final class Counter {
    private final AtomicLong value = new AtomicLong();

    Counter() {
    }

    /** Adds one. */
    public void increment() {
        value.incrementAndGet();
    }

    /** Adds {@code delta} (non-negative: counters only go up). */
    public void add(long delta) {
        if (delta > 0) {
            value.addAndGet(delta);
        }
    }

    /** The current count. */
    public long get() {
        return value.get();
    }
}
