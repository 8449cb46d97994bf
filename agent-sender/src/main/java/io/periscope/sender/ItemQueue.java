package io.periscope.sender;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The bounded queue of the low-rate signals (log records, metric requests): items that already
 * are protobuf objects, each weighing a number of OTLP items (data points, log records) for the
 * counters. Producers and workers share {@link #consumerLock} here: at this rate a lock costs
 * nothing worth avoiding, and it keeps drop-oldest eviction exact.
 */
final class ItemQueue<T> extends BatchQueue {
    /** An item with the resource it belongs to and the number of OTLP items it holds. */
    record Entry<T>(T item, ProcessResource resource, int weight) {
    }

    private final ArrayDeque<Entry<T>> deque = new ArrayDeque<>();
    private final int capacity;
    private final DropPolicy policy;
    /** deque.size(), readable without the lock. */
    private volatile int size;
    private volatile boolean closed;

    ItemQueue(int capacity, DropPolicy policy, int batchSize, SignalCounters counters) {
        super(batchSize, counters);
        this.capacity = capacity;
        this.policy = policy;
    }

    boolean offer(T item, ProcessResource resource, int weight) {
        counters.offered.add(weight);
        int now;
        consumerLock.lock();
        try {
            if (closed) {
                counters.dropped.add(weight);
                return false;
            }
            if (deque.size() == capacity) {
                if (policy == DropPolicy.DROP_NEWEST) {
                    counters.dropped.add(weight);
                    return false;
                }
                Entry<T> evicted = deque.pollFirst();
                counters.dropped.add(evicted.weight());
                counters.pending.add(-evicted.weight());
            }
            deque.addLast(new Entry<>(item, resource, weight));
            counters.accepted.add(weight);
            counters.pending.add(weight);
            now = deque.size();
            size = now;
        } finally {
            consumerLock.unlock();
        }
        if (now == 1 || now == batchSize) {
            wakeConsumers();
        }
        return true;
    }

    /** Like {@link SpanQueue#takeBatch}: waits for a due batch and moves it into {@code out}. */
    int takeBatch(List<Entry<T>> out, long maxDelayNanos) {
        if (awaitBatch(maxDelayNanos) == 0) {
            return 0;
        }
        try {
            int n = 0;
            while (n < batchSize && !deque.isEmpty()) {
                out.add(deque.pollFirst());
                n++;
            }
            size = deque.size();
            afterTake(deque.size());
            return n;
        } finally {
            consumerLock.unlock();
        }
    }

    @Override
    protected void refuseOffers() {
        consumerLock.lock();
        try {
            closed = true;
        } finally {
            consumerLock.unlock();
        }
    }

    @Override
    boolean isClosed() {
        return closed;
    }

    /** Empties the queue and returns the weight it held. */
    long discard() {
        consumerLock.lock();
        try {
            long w = 0;
            for (Entry<T> e : deque) {
                w += e.weight();
            }
            deque.clear();
            size = 0;
            return w;
        } finally {
            consumerLock.unlock();
        }
    }

    @Override
    int size() {
        return size;
    }
}
