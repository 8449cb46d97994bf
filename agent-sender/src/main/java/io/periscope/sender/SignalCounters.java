package io.periscope.sender;

import java.util.concurrent.atomic.LongAdder;

/**
 * What happened to the items of one signal, counted in items (spans, data points, log records).
 *
 * <p>At any moment {@code offered = exported + rejected + failed + dropped + pending}, where
 * pending is what sits in the queue or in a request on its way. Nothing leaves uncounted.
 * The counts are {@link LongAdder}s: every pipeline thread adds to them per span, and a shared
 * atomic would bounce its cache line between the cores on each one.
 */
public final class SignalCounters {
    private final Signal signal;
    final LongAdder offered = new LongAdder();
    final LongAdder accepted = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder exported = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder retried = new LongAdder();
    final LongAdder requests = new LongAdder();
    final LongAdder pending = new LongAdder();

    SignalCounters(Signal signal) {
        this.signal = signal;
    }

    public Signal signal() {
        return signal;
    }

    /** Items handed to the exporter. */
    public long offered() {
        return offered.sum();
    }

    /** Items that entered the queue (with drop-oldest, later evictions count in {@link #dropped()}). */
    public long accepted() {
        return accepted.sum();
    }

    /** Items lost because the queue was full (the new one or the evicted old one), or after shutdown. */
    public long dropped() {
        return dropped.sum();
    }

    /** Items the receiver took (partial-success rejections excluded). */
    public long exported() {
        return exported.sum();
    }

    /** Items the receiver reported as rejected in a partial-success response. */
    public long rejected() {
        return rejected.sum();
    }

    /** Items lost to a non-retryable error, to retries running out of time, or to shutdown. */
    public long failed() {
        return failed.sum();
    }

    /** Export attempts repeated after a retryable error (counted in requests, not items). */
    public long retried() {
        return retried.sum();
    }

    /** Export requests that completed successfully. */
    public long requests() {
        return requests.sum();
    }

    /** Items queued or in flight right now. */
    public long pending() {
        return pending.sum();
    }

    @Override
    public String toString() {
        return signal.label() + "{offered=" + offered() + ", accepted=" + accepted() + ", dropped=" + dropped()
                + ", exported=" + exported() + ", rejected=" + rejected() + ", failed=" + failed()
                + ", retried=" + retried() + ", pending=" + pending() + "}";
    }
}
