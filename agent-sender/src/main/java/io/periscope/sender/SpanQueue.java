package io.periscope.sender;

import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The bounded span queue: a ring of byte-array slots, each holding one span already encoded as
 * an OTLP {@code Span} message (a few hundred bytes, where a {@code RequestLog} copy was several
 * KB), that any number of pipeline threads fill without a lock. A producer claims the next
 * position with one CAS on {@link #tail}, copies its span's bytes into that slot and publishes it
 * through the slot's sequence number (Vyukov's bounded queue): no lock, never waiting for I/O,
 * and no allocation in steady state. The export worker takes whole slots by swapping arrays with
 * spare ones of its own, so a drained batch costs no copy either.
 *
 * <p>Arrays follow the spans, not the slots: a slot the worker empties is left without one, and
 * the worker's previous spares go to a small pool that producers draw from. Parking the spares in
 * the emptied slots instead (as at first) left an array in every slot after one trip round the
 * ring, ~10 MB held for good at the default 8192 slots; now the arrays in existence are those of
 * the queued spans plus the worker's spares plus the pool (at most two batches), and the rest of a
 * burst's arrays go back to the collector.
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
    /** A span encoding larger than this is dropped (and counted): no slot grows beyond it. */
    static final int MAX_SPAN_BYTES = 64 * 1024;
    /** Slot arrays start at this size (rounded up to a power of two for larger spans). */
    private static final int MIN_SLOT_BYTES = 512;

    private final byte[][] slots;
    /** Emptied arrays waiting for a producer; bounded, so a burst's extra arrays are let go. */
    private final ManyToManyConcurrentArrayQueue<byte[]> freeArrays;
    private final int[] lengths;
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
    private final LongAdder oversized = new LongAdder();

    SpanQueue(int capacity, DropPolicy policy, int batchSize, SignalCounters counters) {
        super(batchSize, counters);
        this.capacity = capacity;
        this.slots = new byte[capacity][];
        // Two batches: the worker hands back a whole batch of spares while producers are still
        // filling the next one, and a queue that ran deeper than a batch while an export call was
        // out needs its extra arrays again on the next call. With one batch the overflow was let go
        // and allocated again (4% of offers in bench B, ~70% of the agent's allocation), and those
        // arrays had waited up to a batch delay, so the young collections promoted them.
        this.freeArrays = new ManyToManyConcurrentArrayQueue<>(Math.max(2, Math.min(capacity, 2 * batchSize)));
        this.lengths = new int[capacity];
        this.resources = new ProcessResource[capacity];
        this.sequences = new AtomicLongArray(capacity);
        // Slots get an array when a span is put in (from the pool, or new while the queue is
        // deeper than it has been): heap follows the backlog, and steady state allocates nothing.
        for (int i = 0; i < capacity; i++) {
            sequences.set(i, i);
        }
        this.policy = policy;
    }

    private int index(long position) {
        return (int) (position % capacity);
    }

    /**
     * Copies the encoded span {@code span[0, length)} in; returns false when it was dropped (full
     * queue, closed, or longer than {@link #MAX_SPAN_BYTES}).
     */
    boolean offer(byte[] span, int length, ProcessResource resource) {
        counters.offered.increment();
        if (length > MAX_SPAN_BYTES) {
            counters.dropped.increment();
            oversized.increment();
            return false;
        }
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
        byte[] slot = slots[i];
        if (slot == null || slot.length < length) {
            // This producer owns slot i until it publishes the sequence below.
            slot = freeArrays.poll();
            if (slot == null || slot.length < length) {
                // A pooled array too short for this span is let go: the new one replaces it.
                slot = new byte[Math.max(MIN_SLOT_BYTES, Integer.highestOneBit(Math.max(1, length - 1)) << 1)];
            }
            slots[i] = slot;
        }
        System.arraycopy(span, 0, slot, 0, length);
        lengths[i] = length;
        resources[i] = resource;
        sequences.set(i, t + 1);
        long size = t + 1 - head.get();
        if (size == 1 || size == batchSize) {
            wakeConsumers();
        }
        return true;
    }

    /**
     * With drop-newest, refuses (and counts) an offer up front when the queue is full or closed,
     * so that a span about to be dropped is not encoded first. A slot freed meanwhile makes this
     * a drop of a span that would just have fit: the same as arriving a moment earlier.
     */
    boolean refuseIfFull() {
        long t = tail.get();
        boolean refuse = (t & CLOSED) != 0
                || (policy == DropPolicy.DROP_NEWEST && sequences.get(index(t)) < t);
        if (refuse) {
            counters.offered.increment();
            counters.dropped.increment();
        }
        return refuse;
    }

    /** Counts a span that could not be encoded as offered and dropped. */
    void countUnencodable() {
        counters.offered.increment();
        counters.dropped.increment();
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
     * to {@code spare.length} spans out by taking their slot arrays into {@code spare} (span
     * {@code k} is then {@code spare[k][0, lengthsOut[k])}); the arrays {@code spare} held before go
     * to the producers' pool (or to the collector when it is full). A spare entry may be null.
     * Returns 0 only when the queue is closed and empty, or on interrupt.
     */
    int takeBatch(byte[][] spare, int[] lengthsOut, ProcessResource[] resourcesOut, long maxDelayNanos) {
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
                    byte[] taken = slots[i];
                    slots[i] = null;
                    if (spare[k] != null) {
                        freeArrays.offer(spare[k]);
                    }
                    spare[k] = taken;
                    lengthsOut[k] = lengths[i];
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

    /** Slot arrays held by the queue: in slots (queued spans, or evicted ones) and in the pool. */
    int heldArrays() {
        int n = freeArrays.size();
        for (byte[] slot : slots) {
            if (slot != null) {
                n++;
            }
        }
        return n;
    }

    /** Spans dropped because their encoding was longer than {@link #MAX_SPAN_BYTES}. */
    long oversized() {
        return oversized.sum();
    }

    @Override
    int size() {
        long h = head.get();
        return (int) Math.max(0, (tail.get() & ~CLOSED) - h);
    }
}
