package io.periscope.sender;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What the span queue and the item queue share: the export workers' side. A worker waits until
 * a batch is due (full, old enough, flush requested, or the queue closed) and then takes it
 * while holding {@link #consumerLock}, so that several workers of one signal take turns.
 *
 * <p>The lock is never held while waiting: a waiting worker parks, and producers wake it with
 * {@link #wakeConsumers()} when the queue goes from empty to non-empty or reaches a full batch,
 * the two moments a parked worker can be waiting for (otherwise it wakes on its own when the
 * oldest item is due). A worker registers itself before it first looks at the queue, so a
 * producer that adds an item after that look always sees the worker to wake.
 */
abstract class BatchQueue {
    /** Serialises the workers' takes (and, for the span queue, evictions and discards). */
    protected final ReentrantLock consumerLock = new ReentrantLock();
    protected final int batchSize;
    protected final SignalCounters counters;
    private volatile Thread[] consumers = new Thread[0];
    private volatile boolean flushRequested;
    /** Under consumerLock: when the workers first saw the oldest item waiting. */
    private long firstSeenNanos;
    private boolean sawItems;

    BatchQueue(int batchSize, SignalCounters counters) {
        this.batchSize = batchSize;
        this.counters = counters;
    }

    /** Items in the queue, including those a producer has claimed room for and is still copying. */
    abstract int size();

    /** Whether {@link #close()} was called. */
    abstract boolean isClosed();

    /** Makes every later offer fail (counted as dropped); offers already accepted stay queued. */
    protected abstract void refuseOffers();

    /** Sends what is queued now without waiting for the batch to fill. */
    final void flush() {
        flushRequested = true;
        wakeConsumers();
    }

    /** Refuses further offers (they count as dropped) and wakes the workers to drain the rest. */
    final void close() {
        refuseOffers();
        wakeConsumers();
    }

    /** Called by producers at the moments a parked worker may be waiting for. */
    protected final void wakeConsumers() {
        for (Thread t : consumers) {
            LockSupport.unpark(t);
        }
    }

    private synchronized void register(Thread t) {
        Thread[] now = consumers;
        for (Thread c : now) {
            if (c == t) {
                return;
            }
        }
        Thread[] more = Arrays.copyOf(now, now.length + 1);
        more[now.length] = t;
        consumers = more;
    }

    /**
     * Waits until a batch is due. Returns {@link #size()} (&gt; 0) with {@link #consumerLock}
     * held, which the caller takes from and then releases (after {@link #afterTake}); returns 0,
     * lock not held, when the queue is closed and empty or the thread was interrupted.
     */
    protected final int awaitBatch(long maxDelayNanos) {
        Thread self = Thread.currentThread();
        register(self);
        while (true) {
            if (self.isInterrupted()) {
                return 0;
            }
            try {
                consumerLock.lockInterruptibly();
            } catch (InterruptedException e) {
                self.interrupt();
                return 0;
            }
            long parkNanos;
            boolean due = false;
            try {
                int size = size();
                if (size == 0) {
                    if (isClosed()) {
                        return 0;
                    }
                    flushRequested = false;
                    sawItems = false;
                    parkNanos = 0;
                } else {
                    long now = System.nanoTime();
                    if (!sawItems) {
                        sawItems = true;
                        firstSeenNanos = now;
                    }
                    parkNanos = firstSeenNanos + maxDelayNanos - now;
                    if (size >= batchSize || isClosed() || flushRequested || parkNanos <= 0) {
                        due = true;
                        return size;
                    }
                }
            } finally {
                if (!due) {
                    consumerLock.unlock();
                }
            }
            if (parkNanos == 0) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, Math.min(parkNanos, TimeUnit.SECONDS.toNanos(1)));
            }
        }
    }

    /** Under consumerLock, after a take that left {@code remaining} items: restarts the age clock. */
    protected final void afterTake(int remaining) {
        if (remaining == 0) {
            flushRequested = false;
            sawItems = false;
        } else {
            firstSeenNanos = System.nanoTime();
        }
    }
}
