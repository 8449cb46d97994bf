package io.periscope.sender;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lock-free span queue under several producers and workers at once: every accepted span is
 * taken exactly once (or, with drop-oldest, evicted and counted), order per producer is kept,
 * the counters add up, and nothing accepted before a close is lost.
 */
class QueueConcurrencyTest {
    private static final int PRODUCERS = 3;
    private static final int OFFERS_PER_PRODUCER = 40_000;
    private final ProcessResource app = ProcessResource.builder("app").build();

    /** What one run saw: the spans each producer had accepted and each worker took, in order. */
    private static final class Run {
        final List<List<Long>> accepted = new ArrayList<>();
        final List<List<Long>> taken = new ArrayList<>();
    }

    private static long key(int producer, int seq) {
        return ((long) producer << 32) | seq;
    }

    private Run run(SpanQueue q, SignalCounters c, int workers, int offersPerProducer) throws Exception {
        Run run = new Run();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            List<Long> mine = new ArrayList<>();
            run.accepted.add(mine);
            int id = p;
            producers.add(new Thread(() -> {
                byte[] span = new byte[8];
                await(start);
                for (int s = 0; s < offersPerProducer; s++) {
                    long k = key(id, s);
                    for (int b = 0; b < 8; b++) {
                        span[b] = (byte) (k >>> (8 * b));
                    }
                    if (q.offer(span, span.length, app)) {
                        mine.add(key(id, s));
                    }
                    if (s % 1000 == 0) {
                        Thread.yield();
                    }
                }
            }));
        }
        List<Thread> consumers = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            List<Long> mine = new ArrayList<>();
            run.taken.add(mine);
            consumers.add(new Thread(() -> {
                byte[][] spare = new byte[16][];
                int[] lengths = new int[spare.length];
                ProcessResource[] res = new ProcessResource[spare.length];
                while (true) {
                    int n = q.takeBatch(spare, lengths, res, TimeUnit.MILLISECONDS.toNanos(1));
                    if (n == 0) {
                        return;
                    }
                    for (int i = 0; i < n; i++) {
                        assertThat(res[i]).isSameAs(app);
                        assertThat(lengths[i]).isEqualTo(8);
                        long k = 0;
                        for (int b = 0; b < 8; b++) {
                            k |= (spare[i][b] & 0xFFL) << (8 * b);
                        }
                        mine.add(k);
                    }
                    c.pending.add(-n);
                    c.exported.add(n);
                }
            }));
        }
        producers.forEach(Thread::start);
        consumers.forEach(Thread::start);
        start.countDown();
        for (Thread t : producers) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(t.isAlive()).as("producer finished").isFalse();
        }
        q.close();
        for (Thread t : consumers) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(t.isAlive()).as("worker drained and stopped after close").isFalse();
        }
        return run;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void assertOrderPerProducer(List<Long> taken) {
        long[] last = new long[PRODUCERS];
        java.util.Arrays.fill(last, -1);
        for (long k : taken) {
            int p = (int) (k >>> 32);
            int s = (int) k;
            assertThat(s).as("producer %d's spans in order", p).isGreaterThan((int) last[p]);
            last[p] = s;
        }
    }

    @Test
    void shouldTakeEveryAcceptedSpanExactlyOnceWithDropNewest() throws Exception {
        SignalCounters c = new SignalCounters(Signal.TRACES);
        SpanQueue q = new SpanQueue(64, DropPolicy.DROP_NEWEST, 16, c);

        Run run = run(q, c, 2, OFFERS_PER_PRODUCER);

        Set<Long> accepted = new HashSet<>();
        run.accepted.forEach(accepted::addAll);
        Set<Long> taken = ConcurrentHashMap.newKeySet();
        long takenCount = 0;
        for (List<Long> w : run.taken) {
            taken.addAll(w);
            takenCount += w.size();
            assertOrderPerProducer(w);
        }
        assertThat(takenCount).as("no span taken twice").isEqualTo(taken.size());
        assertThat(taken).isEqualTo(accepted);
        assertThat(c.offered()).isEqualTo((long) PRODUCERS * OFFERS_PER_PRODUCER);
        assertThat(c.accepted()).isEqualTo(accepted.size());
        assertThat(c.dropped()).isEqualTo(c.offered() - c.accepted());
        assertThat(c.pending()).isZero();
        assertThat(q.size()).isZero();
    }

    @Test
    void shouldEvictAndCountExactlyWithDropOldest() throws Exception {
        SignalCounters c = new SignalCounters(Signal.TRACES);
        SpanQueue q = new SpanQueue(32, DropPolicy.DROP_OLDEST, 16, c);

        // Every offer evicts here, and an eviction waits for the producer still copying into the
        // oldest slot: on a loaded 2-core machine that is slow, so fewer offers.
        Run run = run(q, c, 1, OFFERS_PER_PRODUCER / 4);

        List<Long> taken = run.taken.get(0);
        assertThat(new HashSet<>(taken)).hasSize(taken.size());
        assertOrderPerProducer(taken);
        Set<Long> accepted = new HashSet<>();
        run.accepted.forEach(accepted::addAll);
        assertThat(accepted).as("drop-oldest accepts every offer").hasSize(PRODUCERS * OFFERS_PER_PRODUCER / 4);
        assertThat(accepted).containsAll(taken);
        assertThat(c.accepted()).isEqualTo(c.offered());
        // Every span was either taken by the worker or evicted (and counted as dropped).
        assertThat(c.dropped()).isEqualTo(c.offered() - taken.size());
        assertThat(c.pending()).isZero();
    }

    @Test
    void shouldDrainWhatWasAcceptedBeforeCloseAndDropAfter() throws Exception {
        SignalCounters c = new SignalCounters(Signal.TRACES);
        SpanQueue q = new SpanQueue(8, DropPolicy.DROP_NEWEST, 100, c);
        for (int i = 0; i < 5; i++) {
            assertThat(q.offer(new byte[] {(byte) i}, 1, app)).isTrue();
        }
        q.close();
        assertThat(q.offer(new byte[1], 1, app)).isFalse();
        byte[][] spare = new byte[4][];
        int[] lengths = new int[spare.length];
        ProcessResource[] res = new ProcessResource[spare.length];

        // Closed: due at once although the batch is not full and the delay is an hour.
        assertThat(q.takeBatch(spare, lengths, res, TimeUnit.HOURS.toNanos(1))).isEqualTo(4);
        assertThat(q.discard()).isEqualTo(1);
        assertThat(q.takeBatch(spare, lengths, res, TimeUnit.HOURS.toNanos(1))).isZero();
        assertThat(c.dropped()).isEqualTo(1);
        assertThat(c.accepted()).isEqualTo(5);
    }
}
