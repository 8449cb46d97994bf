package io.periscope.sender;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QueueTest {
    private final ProcessResource app = ProcessResource.builder("app").build();

    private List<String> drainSpans(SpanQueue q, int max) {
        byte[][] spare = new byte[max][];
        int[] lengths = new int[max];
        ProcessResource[] res = new ProcessResource[max];
        q.flush();
        int n = q.takeBatch(spare, lengths, res, 1);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            assertThat(res[i]).isSameAs(app);
            out.add(new String(spare[i], 0, lengths[i], StandardCharsets.UTF_8));
        }
        return out;
    }

    private void offer(SpanQueue q, int from, int to) {
        for (int i = from; i < to; i++) {
            byte[] span = ("/" + i).getBytes(StandardCharsets.UTF_8);
            q.offer(span, span.length, app);
        }
    }

    @Test
    void shouldEvictTheOldestSpansWhenFullWithDropOldest() {
        SignalCounters c = new SignalCounters(Signal.TRACES);
        SpanQueue q = new SpanQueue(3, DropPolicy.DROP_OLDEST, 10, c);
        offer(q, 0, 5);
        assertThat(drainSpans(q, 10)).containsExactly("/2", "/3", "/4");
        assertThat(c.offered()).isEqualTo(5);
        assertThat(c.accepted()).isEqualTo(5);
        assertThat(c.dropped()).isEqualTo(2);
        assertThat(c.pending()).isEqualTo(3);
    }

    @Test
    void shouldRefuseNewSpansWhenFullWithDropNewestAndKeepOrderAcrossWrap() {
        SignalCounters c = new SignalCounters(Signal.TRACES);
        SpanQueue q = new SpanQueue(3, DropPolicy.DROP_NEWEST, 10, c);
        offer(q, 0, 2);
        assertThat(drainSpans(q, 1)).containsExactly("/0");
        offer(q, 2, 6);
        assertThat(drainSpans(q, 10)).containsExactly("/1", "/2", "/3");
        assertThat(c.dropped()).isEqualTo(2);
        assertThat(c.accepted()).isEqualTo(4);
    }

    @Test
    void shouldCountItemWeightsWhenEvicting() {
        SignalCounters c = new SignalCounters(Signal.METRICS);
        ItemQueue<String> q = new ItemQueue<>(2, DropPolicy.DROP_OLDEST, 10, c);
        q.offer("a", app, 5);
        q.offer("b", app, 7);
        q.offer("c", app, 1);
        List<ItemQueue.Entry<String>> out = new ArrayList<>();
        q.flush();
        q.takeBatch(out, 1);
        assertThat(out).extracting(ItemQueue.Entry::item).containsExactly("b", "c");
        assertThat(c.dropped()).isEqualTo(5);
        assertThat(c.pending()).isEqualTo(8);
        assertThat(c.offered()).isEqualTo(13);
    }

    @Test
    void shouldCountOffersAfterCloseAsDropped() {
        SignalCounters c = new SignalCounters(Signal.TRACES);
        SpanQueue q = new SpanQueue(3, DropPolicy.DROP_NEWEST, 10, c);
        q.close();
        assertThat(q.offer(new byte[1], 1, app)).isFalse();
        assertThat(c.dropped()).isEqualTo(1);
    }

    @Test
    void shouldDropAndCountASpanLongerThanTheCapAndKeepOneAtTheCap() {
        SignalCounters c = new SignalCounters(Signal.TRACES);
        SpanQueue q = new SpanQueue(3, DropPolicy.DROP_NEWEST, 10, c);
        byte[] huge = new byte[SpanQueue.MAX_SPAN_BYTES + 1];
        huge[SpanQueue.MAX_SPAN_BYTES - 1] = 7;
        assertThat(q.offer(huge, huge.length, app)).isFalse();
        assertThat(q.offer(huge, SpanQueue.MAX_SPAN_BYTES, app)).isTrue();
        assertThat(c.offered()).isEqualTo(2);
        assertThat(c.dropped()).isEqualTo(1);
        assertThat(q.oversized()).isEqualTo(1);
        byte[][] spare = new byte[1][];
        int[] lengths = new int[1];
        q.flush();
        assertThat(q.takeBatch(spare, lengths, new ProcessResource[1], 1)).isEqualTo(1);
        assertThat(lengths[0]).isEqualTo(SpanQueue.MAX_SPAN_BYTES);
        assertThat(spare[0][SpanQueue.MAX_SPAN_BYTES - 1]).isEqualTo((byte) 7);
    }

    @Test
    void shouldGrowASlotForALongerSpanAndKeepShortOnesIntact() {
        SignalCounters c = new SignalCounters(Signal.TRACES);
        SpanQueue q = new SpanQueue(1, DropPolicy.DROP_NEWEST, 10, c);
        byte[][] spare = new byte[1][];
        int[] lengths = new int[1];
        ProcessResource[] res = new ProcessResource[1];
        for (int len : new int[] {3, 2000, 10, 700}) {
            byte[] span = new byte[len];
            java.util.Arrays.fill(span, (byte) len);
            assertThat(q.offer(span, len, app)).isTrue();
            q.flush();
            assertThat(q.takeBatch(spare, lengths, res, 1)).isEqualTo(1);
            assertThat(java.util.Arrays.copyOf(spare[0], lengths[0])).isEqualTo(span);
        }
    }

    @Test
    void shouldLetABurstsArraysGoOnceDrainedAndReuseTheRestWithoutAllocating() {
        SignalCounters c = new SignalCounters(Signal.TRACES);
        int capacity = 1024;
        int batch = 64;
        SpanQueue q = new SpanQueue(capacity, DropPolicy.DROP_NEWEST, batch, c);
        byte[][] spare = new byte[batch][];
        int[] lengths = new int[batch];
        ProcessResource[] res = new ProcessResource[batch];
        byte[] span = new byte[300];
        // A burst fills the queue, then the worker drains it.
        for (int i = 0; i < capacity; i++) {
            assertThat(q.offer(span, span.length, app)).isTrue();
        }
        q.flush();
        int drained = 0;
        while (drained < capacity) {
            drained += q.takeBatch(spare, lengths, res, 1);
        }
        // Then a steady trickle goes round the ring several times.
        for (int round = 0; round < 5 * capacity / 10; round++) {
            for (int i = 0; i < 10; i++) {
                span[0] = (byte) i;
                assertThat(q.offer(span, span.length, app)).isTrue();
            }
            q.flush();
            int n = q.takeBatch(spare, lengths, res, 1);
            assertThat(n).isEqualTo(10);
            for (int k = 0; k < n; k++) {
                assertThat(spare[k][0]).isEqualTo((byte) k);
                assertThat(lengths[k]).isEqualTo(span.length);
            }
        }
        // The queue holds at most two batches of pooled arrays: not one per slot, not the burst's.
        assertThat(q.heldArrays()).isLessThanOrEqualTo(2 * batch);
    }
}
