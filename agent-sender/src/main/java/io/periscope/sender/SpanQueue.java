package io.periscope.sender;

import io.periscope.protocols.RequestLog;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The bounded span queue: a ring of pre-allocated {@link RequestLog} slots that any number of
 * pipeline threads fill without a lock. A producer claims the next position with one CAS on
 * {@link #tail}, copies its record into that slot and publishes it through the slot's sequence
 * number (Vyukov's bounded queue): no allocation, no lock, never waiting for I/O. The export
 * worker takes whole slots by swapping them with spare records of its own, so a drained batch
 * costs no copy either.
 *
 * <p>Slot {@code i} serves positions {@code i, i + capacity, ...}; its sequence is {@code p}
 * when free for position {@code p}, {@code p + 1} once the record for {@code p} is published,
 * and {@code p + capacity} once the worker took it. A producer that finds the sequence behind
 * its position finds the queue full. Closing sets a bit in {@link #tail}, so a claim either
 * happened before the close (and the worker drains it) or fails.
 */
final class SpanQueue extends BatchQueue {
    private static final long CLOSED = 1L << 62;
    /** Spins on a slot whose producer is still copying before yielding the CPU to it. */
    private static final int SPINS_BEFORE_YIELD = 64;

    private final RequestLog[] slots;
    private final ProcessResource[] resources;
    private final AtomicLongArray sequences;
    private final int capacity;
    private final DropPolicy policy;
    /** Next position to claim, with {@link #CLOSED} set once closed. */
    private final AtomicLong tail = new AtomicLong();
    /**
     * Next position to take. Workers (in turn, under consumerLock) and evicting producers claim
     * positions from it by CAS, then free their slots; so {@code tail - head} may briefly count
     * slots that are being emptied, which producers wait out instead of evicting again.
     */
    private final AtomicLong head = new AtomicLong();

    SpanQueue(int capacity, DropPolicy policy, int batchSize, SignalCounters counters) {
        super(batchSize, counters);
        this.capacity = capacity;
        this.slots = new RequestLog[capacity];
        this.resources = new ProcessResource[capacity];
        this.sequences = new AtomicLongArray(capacity);
        // Slots get their record on first use: a deep queue costs heap only as deep as the
        // backlog has ever been, and steady state still allocates nothing.
        for (int i = 0; i < capacity; i++) {
            sequences.set(i, i);
        }
        this.policy = policy;
    }

    private int index(long position) {
        return (int) (position % capacity);
    }

    /** Copies {@code record} in; returns false when it was dropped (full queue, or closed). */
    boolean offer(RequestLog record, ProcessResource resource) {
        counters.offered.increment();
        long t;
        int i;
        while (true) {
            t = tail.get();
            if ((t & CLOSED) != 0) {
                counters.dropped.increment();
                return false;
            }
            i = index(t);
            long seq = sequences.get(i);
            if (seq == t) {
                if (tail.compareAndSet(t, t + 1)) {
                    break;
                }
            } else if (seq < t) {
                // The slot still holds the record of position t - capacity: full.
                if (policy == DropPolicy.DROP_NEWEST) {
                    counters.dropped.increment();
                    return false;
                }
                evictOldest();
            }
            // Otherwise another producer claimed t first: try the next position.
        }
        // Counted before publishing, so that a worker can never settle a span not yet counted.
        counters.accepted.increment();
        counters.pending.increment();
        RequestLog slot = slots[i];
        if (slot == null) {
            // This producer owns slot i until it publishes the sequence below.
            slot = new RequestLog();
            slots[i] = slot;
        }
        slot.copyFrom(record);
        resources[i] = resource;
        sequences.set(i, t + 1);
        long size = t + 1 - head.get();
        if (size == 1 || size == batchSize) {
            wakeConsumers();
        }
        return true;
    }

    /**
     * Drop-oldest on a full queue: claims the oldest position and frees its slot, counted as
     * dropped. No lock: a producer never waits for a worker, only (briefly) for another
     * producer still copying into the slot it evicts.
     */
    private void evictOldest() {
        long h = head.get();
        if ((tail.get() & ~CLOSED) - h < capacity) {
            // Not full any more, or a worker is emptying slots it took: claim again.
            Thread.onSpinWait();
            return;
        }
        if (!head.compareAndSet(h, h + 1)) {
            return;
        }
        int i = index(h);
        awaitPublished(i, h);
        resources[i] = null;
        sequences.set(i, h + capacity);
        counters.dropped.increment();
        counters.pending.decrement();
    }

    /** Waits out the producer that claimed {@code position} and is still copying into slot i. */
    private void awaitPublished(int i, long position) {
        int spins = 0;
        while (sequences.get(i) != position + 1) {
            if (++spins < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /**
     * Waits until a batch is due (full, old enough, flush requested or queue closed) and moves up
     * to {@code spare.length} records out by swapping slots with {@code spare}; returns how many.
     * Returns 0 only when the queue is closed and empty, or on interrupt.
     */
    int takeBatch(RequestLog[] spare, ProcessResource[] resourcesOut, long maxDelayNanos) {
        while (true) {
            int size = awaitBatch(maxDelayNanos);
            if (size == 0) {
                return 0;
            }
            try {
                int n;
                long h;
                do {
                    h = head.get();
                    n = (int) Math.min(Math.min(size, Math.min(spare.length, batchSize)),
                            (tail.get() & ~CLOSED) - h);
                } while (n > 0 && !head.compareAndSet(h, h + n));
                if (n <= 0) {
                    // Evicting producers emptied the queue meanwhile: wait for the next batch.
                    continue;
                }
                for (int k = 0; k < n; k++) {
                    long position = h + k;
                    int i = index(position);
                    awaitPublished(i, position);
                    RequestLog taken = slots[i];
                    slots[i] = spare[k];
                    spare[k] = taken;
                    resourcesOut[k] = resources[i];
                    resources[i] = null;
                    sequences.set(i, position + capacity);
                }
                afterTake(size());
                return n;
            } finally {
                consumerLock.unlock();
            }
        }
    }

    @Override
    protected void refuseOffers() {
        long t;
        do {
            t = tail.get();
        } while ((t & CLOSED) == 0 && !tail.compareAndSet(t, t | CLOSED));
    }

    @Override
    boolean isClosed() {
        return (tail.get() & CLOSED) != 0;
    }

    /** Empties the queue, returning how many records it held (at shutdown, after the deadline). */
    int discard() {
        consumerLock.lock();
        try {
            long h;
            long end;
            do {
                h = head.get();
                end = tail.get() & ~CLOSED;
            } while (!head.compareAndSet(h, end));
            for (long p = h; p < end; p++) {
                int i = index(p);
                awaitPublished(i, p);
                resources[i] = null;
                sequences.set(i, p + capacity);
            }
            return (int) (end - h);
        } finally {
            consumerLock.unlock();
        }
    }

    @Override
    int size() {
        long h = head.get();
        return (int) Math.max(0, (tail.get() & ~CLOSED) - h);
    }
}
