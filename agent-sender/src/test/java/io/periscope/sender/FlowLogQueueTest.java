package io.periscope.sender;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The preallocated flow log ring: what goes in comes out, in order, and every drop is counted. */
class FlowLogQueueTest {
    private final ProcessResource app = ProcessResource.builder("app").build();

    private static TestFlow flow(int id) {
        return new TestFlow(4, new byte[] {10, 0, 0, 1}, id, new byte[] {10, 0, 0, 2}, 80, 6,
                id * 10L, id * 20L, 1, 2, 0, 0, -1, FlowRecord.CloseType.FIN, id, id + 5L, 3);
    }

    private void offer(FlowLogQueue q, int from, int to) {
        for (int i = from; i < to; i++) {
            q.offer(flow(i), app, 1000 + i);
        }
    }

    /** Takes one batch of at most {@code max} and returns the records' ids (client ports). */
    private List<Integer> drain(FlowLogQueue q, int max) {
        byte[] out = new byte[max * FlowLogQueue.RECORD_BYTES];
        ProcessResource[] res = new ProcessResource[max];
        q.flush();
        int n = q.takeBatch(out, res, 1);
        List<Integer> ids = new ArrayList<>();
        FlowLogQueue.View v = new FlowLogQueue.View();
        for (int i = 0; i < n; i++) {
            assertThat(res[i]).isSameAs(app);
            v.at(out, i * FlowLogQueue.RECORD_BYTES);
            assertThat(v.observedTimeUnixNanos()).isEqualTo(1000L + v.clientPort());
            ids.add(v.clientPort());
        }
        return ids;
    }

    @Test
    void shouldGiveBackEveryFactOfTheRecord() {
        SplittableRandom rnd = new SplittableRandom(3);
        FlowLogQueue q = new FlowLogQueue(8, DropPolicy.DROP_NEWEST, 8, new SignalCounters(Signal.LOGS));
        List<TestFlow> in = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            TestFlow f = LogEncoderTest.randomFlow(rnd);
            in.add(f);
            assertThat(q.offer(f, app, i)).isTrue();
        }
        byte[] out = new byte[8 * FlowLogQueue.RECORD_BYTES];
        q.flush();
        assertThat(q.takeBatch(out, new ProcessResource[8], 1)).isEqualTo(8);
        FlowLogQueue.View v = new FlowLogQueue.View();
        for (int i = 0; i < 8; i++) {
            TestFlow f = in.get(i);
            v.at(out, i * FlowLogQueue.RECORD_BYTES);
            int addressBytes = f.ipVersion() == 6 ? 16 : 4;
            assertThat(java.util.Arrays.copyOf(v.clientAddress(), addressBytes))
                    .isEqualTo(java.util.Arrays.copyOf(f.clientAddress(), addressBytes));
            assertThat(java.util.Arrays.copyOf(v.serverAddress(), addressBytes))
                    .isEqualTo(java.util.Arrays.copyOf(f.serverAddress(), addressBytes));
            TestFlow back = new TestFlow(v.ipVersion(), f.clientAddress(), v.clientPort(), f.serverAddress(),
                    v.serverPort(), v.l4Protocol(), v.bytesClientToServer(), v.bytesServerToClient(),
                    v.packetsClientToServer(), v.packetsServerToClient(), v.retransmissionsClientToServer(),
                    v.retransmissionsServerToClient(), v.rttNanos(), v.closeType(), v.startNanos(), v.endNanos(),
                    v.interfaceIndex());
            assertThat(back).isEqualTo(f);
            assertThat(v.observedTimeUnixNanos()).isEqualTo(i);
        }
    }

    @Test
    void shouldKeepOrderAcrossTheWrapAndRefuseNewestWhenFull() {
        SignalCounters c = new SignalCounters(Signal.LOGS);
        FlowLogQueue q = new FlowLogQueue(3, DropPolicy.DROP_NEWEST, 10, c);
        offer(q, 0, 2);
        assertThat(drain(q, 1)).containsExactly(0);
        offer(q, 2, 6);
        assertThat(drain(q, 10)).containsExactly(1, 2, 3);
        assertThat(c.offered()).isEqualTo(6);
        assertThat(c.accepted()).isEqualTo(4);
        assertThat(c.dropped()).isEqualTo(2);
        assertThat(c.pending()).isEqualTo(4);
    }

    @Test
    void shouldEvictTheOldestWhenFullWithDropOldest() {
        SignalCounters c = new SignalCounters(Signal.LOGS);
        FlowLogQueue q = new FlowLogQueue(3, DropPolicy.DROP_OLDEST, 10, c);
        offer(q, 0, 5);
        assertThat(q.size()).isEqualTo(3);
        assertThat(drain(q, 10)).containsExactly(2, 3, 4);
        assertThat(c.accepted()).isEqualTo(5);
        assertThat(c.dropped()).isEqualTo(2);
        assertThat(c.pending()).isEqualTo(3);
    }

    @Test
    void shouldDrainAfterCloseDropAfterItAndDiscard() {
        SignalCounters c = new SignalCounters(Signal.LOGS);
        FlowLogQueue q = new FlowLogQueue(4, DropPolicy.DROP_NEWEST, 2, c);
        offer(q, 0, 3);
        q.close();
        assertThat(q.offer(flow(9), app, 9)).isFalse();
        assertThat(c.dropped()).isEqualTo(1);
        assertThat(drain(q, 10)).containsExactly(0, 1);
        assertThat(q.discard()).isEqualTo(1);
        assertThat(q.size()).isZero();
        // Closed and empty: a worker is told to stop.
        assertThat(q.takeBatch(new byte[FlowLogQueue.RECORD_BYTES], new ProcessResource[1], 1)).isZero();
    }

    @Test
    void shouldCountABrokenRecordAsDroppedAndKeepGoing() {
        SignalCounters c = new SignalCounters(Signal.LOGS);
        FlowLogQueue q = new FlowLogQueue(4, DropPolicy.DROP_NEWEST, 10, c);
        TestFlow broken = new TestFlow(4, new byte[4], 1, new byte[4], 2, 6, 0, 0, 0, 0, 0, 0, -1, null, 0, 0, 0);
        assertThatThrownBy(() -> q.offer(broken, app, 1)).isInstanceOf(NullPointerException.class);
        offer(q, 5, 6);
        assertThat(drain(q, 10)).containsExactly(5);
        assertThat(c.offered()).isEqualTo(2);
        assertThat(c.dropped()).isEqualTo(1);
        assertThat(c.accepted()).isEqualTo(1);
    }

    @Test
    void shouldHandEveryAcceptedRecordOnceToConcurrentProducersAndWorker() throws Exception {
        SignalCounters c = new SignalCounters(Signal.LOGS);
        FlowLogQueue q = new FlowLogQueue(64, DropPolicy.DROP_NEWEST, 16, c);
        int producers = 3;
        int perProducer = 20_000;
        Set<Integer> accepted = java.util.concurrent.ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int base = p * perProducer;
            threads.add(new Thread(() -> {
                for (int i = 0; i < perProducer; i++) {
                    if (q.offer(flow(base + i), app, 1000 + base + i)) {
                        accepted.add(base + i);
                    }
                }
            }));
        }
        Set<Integer> taken = new HashSet<>();
        AtomicInteger duplicates = new AtomicInteger();
        int[] lastPerProducer = new int[producers];
        java.util.Arrays.fill(lastPerProducer, -1);
        AtomicInteger outOfOrder = new AtomicInteger();
        Thread worker = new Thread(() -> {
            byte[] out = new byte[16 * FlowLogQueue.RECORD_BYTES];
            ProcessResource[] res = new ProcessResource[16];
            FlowLogQueue.View v = new FlowLogQueue.View();
            int n;
            while ((n = q.takeBatch(out, res, 1_000_000)) > 0) {
                for (int i = 0; i < n; i++) {
                    int id = v.at(out, i * FlowLogQueue.RECORD_BYTES).clientPort();
                    if (!taken.add(id)) {
                        duplicates.incrementAndGet();
                    }
                    int producer = id / perProducer;
                    if (id <= lastPerProducer[producer]) {
                        outOfOrder.incrementAndGet();
                    }
                    lastPerProducer[producer] = id;
                }
            }
        });
        worker.start();
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        q.close();
        worker.join(60_000);
        assertThat(worker.isAlive()).isFalse();
        assertThat(duplicates.get()).isZero();
        assertThat(outOfOrder.get()).isZero();
        assertThat(taken).isEqualTo(accepted);
        assertThat(c.offered()).isEqualTo(producers * perProducer);
        assertThat(c.accepted()).isEqualTo(accepted.size());
        assertThat(c.accepted() + c.dropped()).isEqualTo(c.offered());
    }
}
