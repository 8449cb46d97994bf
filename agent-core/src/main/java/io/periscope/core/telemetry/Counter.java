package io.periscope.core.telemetry;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A monotonically increasing count. {@link #increment()} and {@link #add(long)} are atomic from any
 * thread; a counter with one writer (one pipeline shard) should use the {@code Ordered} forms, a
 * plain store with release semantics instead of a locked read-modify-write, as Agrona's
 * {@code AtomicCounter.incrementOrdered()} does.
 */
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

    /** Adds one; only for a counter with a single writer thread. */
    public void incrementOrdered() {
        value.lazySet(value.get() + 1);
    }

    /** Adds {@code delta}; only for a counter with a single writer thread. */
    public void addOrdered(long delta) {
        if (delta > 0) {
            value.lazySet(value.get() + delta);
        }
    }

    /** The current count. */
    public long get() {
        return value.get();
    }
}
