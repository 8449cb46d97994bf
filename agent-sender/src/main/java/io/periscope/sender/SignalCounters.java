package io.periscope.sender;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What happened to the items of one signal, counted in items (spans, data points, log records).
 *
 * <p>At any moment {@code offered = exported + rejected + failed + dropped + pending}, where
 * pending is what sits in the queue or in a request on its way. Nothing leaves uncounted.
 */
public final class SignalCounters {
    private final Signal signal;
    final AtomicLong offered = new AtomicLong();
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong exported = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong retried = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong pending = new AtomicLong();

    SignalCounters(Signal signal) {
        this.signal = signal;
    }

    public Signal signal() {
        return signal;
    }

    /** Items handed to the exporter. */
    public long offered() {
        return offered.get();
    }

    /** Items that entered the queue (with drop-oldest, later evictions count in {@link #dropped()}). */
    public long accepted() {
        return accepted.get();
    }

    /** Items lost because the queue was full (the new one or the evicted old one), or after shutdown. */
    public long dropped() {
        return dropped.get();
    }

    /** Items the receiver took (partial-success rejections excluded). */
    public long exported() {
        return exported.get();
    }

    /** Items the receiver reported as rejected in a partial-success response. */
    public long rejected() {
        return rejected.get();
    }

    /** Items lost to a non-retryable error, to retries running out of time, or to shutdown. */
    public long failed() {
        return failed.get();
    }

    /** Export attempts repeated after a retryable error (counted in requests, not items). */
    public long retried() {
        return retried.get();
    }

    /** Export requests that completed successfully. */
    public long requests() {
        return requests.get();
    }

    /** Items queued or in flight right now. */
    public long pending() {
        return pending.get();
    }

    @Override
    public String toString() {
        return signal.label() + "{offered=" + offered() + ", accepted=" + accepted() + ", dropped=" + dropped()
                + ", exported=" + exported() + ", rejected=" + rejected() + ", failed=" + failed()
                + ", retried=" + retried() + ", pending=" + pending() + "}";
    }
}
