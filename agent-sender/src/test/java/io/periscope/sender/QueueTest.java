package io.periscope.sender;

import io.periscope.protocols.RequestLog;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QueueTest {
    private final ProcessResource app = ProcessResource.builder("app").build();

    private List<String> drainSpans(SpanQueue q, int max) {
        RequestLog[] spare = new RequestLog[max];
        for (int i = 0; i < max; i++) {
            spare[i] = new RequestLog();
        }
        ProcessResource[] res = new ProcessResource[max];
        q.flush();
        int n = q.takeBatch(spare, res, 1);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            assertThat(res[i]).isSameAs(app);
            out.add(spare[i].resource().toString());
        }
        return out;
    }

    private void offer(SpanQueue q, int from, int to) {
        for (int i = from; i < to; i++) {
            q.offer(TestRecords.httpServer("GET", "/" + i, "/", 200), app);
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
        assertThat(q.offer(new RequestLog(), app)).isFalse();
        assertThat(c.dropped()).isEqualTo(1);
    }
}
