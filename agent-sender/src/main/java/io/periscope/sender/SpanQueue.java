package io.periscope.sender;

import io.periscope.protocols.RequestLog;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded span queue: a ring of pre-allocated {@link RequestLog} slots. Producers copy their
 * record into a slot (no allocation, never waiting for I/O); the export worker takes whole slots
 * by swapping them with spare records of its own, so a drained batch costs no copy either.
 *
 * <p>The lock is held for one record copy or one pointer swap per slot; any number of pipeline
 * threads may offer, and any number of export workers take batches (each with its own spares).
 */
final class SpanQueue {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final RequestLog[] slots;
    private final ProcessResource[] resources;
    private final DropPolicy policy;
    private final int batchSize;
    private final SignalCounters counters;
    private int head;
    private int size;
    private long firstEnqueueNanos;
    private boolean closed;
    private boolean flushRequested;

    SpanQueue(int capacity, DropPolicy policy, int batchSize, SignalCounters counters) {
        this.slots = new RequestLog[capacity];
        this.resources = new ProcessResource[capacity];
        for (int i = 0; i < capacity; i++) {
            slots[i] = new RequestLog();
        }
        this.policy = policy;
        this.batchSize = batchSize;
        this.counters = counters;
    }

    /** Copies {@code record} in; returns false when it was dropped (full queue, or closed). */
    boolean offer(RequestLog record, ProcessResource resource) {
        counters.offered.incrementAndGet();
        lock.lock();
        try {
            if (closed) {
                counters.dropped.incrementAndGet();
                return false;
            }
            int capacity = slots.length;
            if (size == capacity) {
                counters.dropped.incrementAndGet();
                if (policy == DropPolicy.DROP_NEWEST) {
                    return false;
                }
                // Evict the oldest: its slot becomes the newest.
                slots[head].copyFrom(record);
                resources[head] = resource;
                head = head + 1 == capacity ? 0 : head + 1;
                counters.accepted.incrementAndGet();
                return true;
            }
            int tail = head + size;
            if (tail >= capacity) {
                tail -= capacity;
            }
            slots[tail].copyFrom(record);
            resources[tail] = resource;
            size++;
            counters.accepted.incrementAndGet();
            counters.pending.incrementAndGet();
            if (size == 1) {
                firstEnqueueNanos = System.nanoTime();
                ready.signal();
            } else if (size == batchSize) {
                ready.signal();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until a batch is due (full, old enough, flush requested or queue closed) and moves up
     * to {@code spare.length} records out by swapping slots with {@code spare}; returns how many.
     * Returns 0 only when the queue is closed and empty, or on interrupt.
     */
    int takeBatch(RequestLog[] spare, ProcessResource[] resourcesOut, long maxDelayNanos) {
        lock.lock();
        try {
            while (true) {
                if (size >= batchSize || (size > 0 && (closed || flushRequested))) {
                    break;
                }
                if (size == 0) {
                    if (closed) {
                        return 0;
                    }
                    flushRequested = false;
                    ready.await();
                    continue;
                }
                long waitNanos = firstEnqueueNanos + maxDelayNanos - System.nanoTime();
                if (waitNanos <= 0) {
                    break;
                }
                ready.awaitNanos(waitNanos);
            }
            int n = Math.min(Math.min(size, spare.length), batchSize);
            int capacity = slots.length;
            for (int i = 0; i < n; i++) {
                RequestLog taken = slots[head];
                slots[head] = spare[i];
                spare[i] = taken;
                resourcesOut[i] = resources[head];
                resources[head] = null;
                head = head + 1 == capacity ? 0 : head + 1;
            }
            size -= n;
            if (size == 0) {
                flushRequested = false;
            } else {
                firstEnqueueNanos = System.nanoTime();
            }
            return n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** Sends what is queued now without waiting for the batch to fill. */
    void flush() {
        lock.lock();
        try {
            flushRequested = true;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Refuses further offers (they count as dropped) and wakes the worker to drain the rest. */
    void close() {
        lock.lock();
        try {
            closed = true;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Empties the queue, returning how many records it held (at shutdown, after the deadline). */
    int discard() {
        lock.lock();
        try {
            int n = size;
            for (int i = 0; i < slots.length; i++) {
                resources[i] = null;
            }
            size = 0;
            return n;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }
}
