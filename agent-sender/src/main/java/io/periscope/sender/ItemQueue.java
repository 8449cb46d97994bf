package io.periscope.sender;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded queue of the low-rate signals (log records, metric requests): items that already
 * are protobuf objects, each weighing a number of OTLP items (data points, log records) for the
 * counters.
 */
final class ItemQueue<T> {
    /** An item with the resource it belongs to and the number of OTLP items it holds. */
    record Entry<T>(T item, ProcessResource resource, int weight) {
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final ArrayDeque<Entry<T>> deque = new ArrayDeque<>();
    private final int capacity;
    private final DropPolicy policy;
    private final int batchSize;
    private final SignalCounters counters;
    private long firstEnqueueNanos;
    private boolean closed;
    private boolean flushRequested;

    ItemQueue(int capacity, DropPolicy policy, int batchSize, SignalCounters counters) {
        this.capacity = capacity;
        this.policy = policy;
        this.batchSize = batchSize;
        this.counters = counters;
    }

    boolean offer(T item, ProcessResource resource, int weight) {
        counters.offered.addAndGet(weight);
        lock.lock();
        try {
            if (closed) {
                counters.dropped.addAndGet(weight);
                return false;
            }
            if (deque.size() == capacity) {
                if (policy == DropPolicy.DROP_NEWEST) {
                    counters.dropped.addAndGet(weight);
                    return false;
                }
                Entry<T> evicted = deque.pollFirst();
                counters.dropped.addAndGet(evicted.weight());
                counters.pending.addAndGet(-evicted.weight());
            }
            deque.addLast(new Entry<>(item, resource, weight));
            counters.accepted.addAndGet(weight);
            counters.pending.addAndGet(weight);
            if (deque.size() == 1) {
                firstEnqueueNanos = System.nanoTime();
                ready.signal();
            } else if (deque.size() == batchSize) {
                ready.signal();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Like {@link SpanQueue#takeBatch}: waits for a due batch and moves it into {@code out}. */
    int takeBatch(List<Entry<T>> out, long maxDelayNanos) {
        lock.lock();
        try {
            while (true) {
                int size = deque.size();
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
            int n = 0;
            while (n < batchSize && !deque.isEmpty()) {
                out.add(deque.pollFirst());
                n++;
            }
            if (deque.isEmpty()) {
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

    void flush() {
        lock.lock();
        try {
            flushRequested = true;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Empties the queue and returns the weight it held. */
    long discard() {
        lock.lock();
        try {
            long w = 0;
            for (Entry<T> e : deque) {
                w += e.weight();
            }
            deque.clear();
            return w;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return deque.size();
        } finally {
            lock.unlock();
        }
    }
}
