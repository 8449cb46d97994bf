package io.periscope.sender;

import io.grpc.Status;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import static io.periscope.sender.TestRecords.attributes;
import static io.periscope.sender.TestRecords.str;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The collector misbehaves: down at start, killed mid-stream and restarted, stuck, slow. The
 * exporter must not crash or block, stay within its queue, count every drop, and deliver
 * everything it accepted (at least once: a request whose answer was lost is sent again).
 */
class CollectorFaultTest {
    private static final int QUEUE_CAPACITY = 300;
    private static final int BATCH = 50;

    private final ProcessResource nginx = ProcessResource.builder("nginx").pid(4242).build();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Set<String> accepted = new HashSet<>();
    private int offered;
    private int refused;

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private OtlpExporter start(int port, Duration exportTimeout) {
        SenderConfig config = SenderConfig.builder().endpoint("127.0.0.1:" + port)
                .queueCapacity(Signal.TRACES, QUEUE_CAPACITY).maxBatchSize(BATCH)
                .maxBatchDelay(Duration.ofMillis(20)).dropPolicy(DropPolicy.DROP_NEWEST)
                .backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2, 0.2)
                .exportTimeout(exportTimeout).metricsInterval(Duration.ofHours(1)).build();
        OtlpExporter e = OtlpExporter.start(config, nginx);
        closeables.add(0, () -> e.shutdown(Duration.ofSeconds(5)));
        return e;
    }

    private OtlpReceiver receiver(int port) throws Exception {
        OtlpReceiver r = new OtlpReceiver().start(port);
        closeables.add(r);
        return r;
    }

    private static int freePort() throws Exception {
        OtlpReceiver probe = new OtlpReceiver().start();
        int port = probe.port();
        probe.stop();
        return port;
    }

    /** Offers {@code n} spans with unique paths, remembering which ones the exporter accepted. */
    private void offer(OtlpExporter e, int n) {
        for (int i = 0; i < n; i++) {
            String path = "/s/" + offered++;
            if (e.offer(TestRecords.httpServer("GET", path, "/s/{n}", 200), nginx)) {
                accepted.add(path);
            } else {
                refused++;
            }
        }
    }

    private static Set<String> paths(List<Span> spans) {
        Set<String> out = new HashSet<>();
        for (Span s : spans) {
            out.add(str(attributes(s.getAttributesList()), "url.path"));
        }
        return out;
    }

    private void assertEverythingAcceptedArrived(OtlpExporter e, OtlpReceiver rx) throws InterruptedException {
        e.flush();
        SignalCounters t = e.counters(Signal.TRACES);
        Await.until(() -> t.pending() == 0, t::toString);
        assertThat(t.offered()).isEqualTo(offered);
        assertThat(t.dropped()).isEqualTo(refused);
        assertThat(t.failed()).isZero();
        assertThat(t.exported()).isEqualTo(accepted.size());
        assertThat(t.offered()).isEqualTo(t.exported() + t.dropped() + t.failed() + t.rejected() + t.pending());
        List<Span> spans = rx.spans();
        assertThat(paths(spans)).isEqualTo(accepted);
        assertThat(spans.size()).isGreaterThanOrEqualTo(accepted.size());
    }

    @Test
    void shouldDeliverWhatWasQueuedWhileTheCollectorWasDownAtStart() throws Exception {
        int port = freePort();
        OtlpExporter e = start(port, Duration.ofSeconds(10));
        offer(e, 200);
        SignalCounters t = e.counters(Signal.TRACES);
        Await.until(() -> t.retried() >= 2, t::toString);
        assertThat(t.exported()).isZero();
        OtlpReceiver rx = receiver(port);
        assertEverythingAcceptedArrived(e, rx);
        assertThat(refused).isZero();
        assertThat(rx.spans()).hasSize(200);
    }

    @Test
    void shouldResumeAfterTheCollectorIsKilledAndRestarted() throws Exception {
        OtlpReceiver first = receiver(0);
        int port = first.port();
        OtlpExporter e = start(port, Duration.ofSeconds(10));
        offer(e, 400);
        SignalCounters t = e.counters(Signal.TRACES);
        Await.until(() -> t.exported() >= 100, t::toString);
        first.stop();
        offer(e, 1000);
        // Down: the queue is full and everything else is refused, never more than queue + one batch held.
        assertThat(t.pending()).isLessThanOrEqualTo(QUEUE_CAPACITY + BATCH);
        assertThat(refused).isGreaterThan(0);
        Await.until(() -> t.retried() >= 1, t::toString);
        OtlpReceiver second = receiver(port);
        offer(e, 100);
        e.flush();
        Await.until(() -> t.pending() == 0, t::toString);
        Set<String> received = paths(first.spans());
        received.addAll(paths(second.spans()));
        assertThat(t.offered()).isEqualTo(offered);
        assertThat(t.dropped()).isEqualTo(refused);
        assertThat(t.failed()).isZero();
        assertThat(t.exported()).isEqualTo(accepted.size());
        assertThat(received).isEqualTo(accepted);
    }

    @Test
    void shouldNeverBlockTheCallerWhileTheCollectorIsStuck() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        OtlpReceiver rx = receiver(0);
        rx.behaviour = call -> {
            release.await();
            return null;
        };
        OtlpExporter e = start(rx.port(), Duration.ofSeconds(60));
        // The first batch is stuck in the collector; all these calls must still return.
        offer(e, 5000);
        SignalCounters t = e.counters(Signal.TRACES);
        assertThat(t.pending()).isLessThanOrEqualTo(QUEUE_CAPACITY + BATCH);
        assertThat(refused).isGreaterThanOrEqualTo(5000 - QUEUE_CAPACITY - BATCH);
        release.countDown();
        assertEverythingAcceptedArrived(e, rx);
    }

    @Test
    void shouldRetryASlowCollectorPastTheDeadline() throws Exception {
        OtlpReceiver rx = receiver(0);
        rx.behaviour = call -> {
            if (call <= 2) {
                Thread.sleep(1500);
            }
            return null;
        };
        OtlpExporter e = start(rx.port(), Duration.ofMillis(300));
        offer(e, 120);
        SignalCounters t = e.counters(Signal.TRACES);
        Await.until(() -> t.pending() == 0, t::toString);
        assertThat(t.retried()).isGreaterThanOrEqualTo(1);
        assertEverythingAcceptedArrived(e, rx);
    }

    @Test
    void shouldAnswerResourceExhaustedWithBackoffAndLoseNothing() throws Exception {
        OtlpReceiver rx = receiver(0);
        rx.behaviour = call -> call % 3 != 0 ? Status.RESOURCE_EXHAUSTED.withDescription("busy") : null;
        OtlpExporter e = start(rx.port(), Duration.ofSeconds(10));
        offer(e, 250);
        assertEverythingAcceptedArrived(e, rx);
        assertThat(e.counters(Signal.TRACES).retried()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void shouldReportWhatShutdownCouldNotFlush() throws Exception {
        int port = freePort();
        OtlpExporter e = start(port, Duration.ofSeconds(10));
        offer(e, 120);
        ShutdownReport report = e.shutdown(Duration.ofMillis(500));
        assertThat(report.flushedAll()).isFalse();
        assertThat(report.unflushed(Signal.TRACES)).isEqualTo(120);
        SignalCounters t = e.counters(Signal.TRACES);
        assertThat(t.failed()).isEqualTo(120);
        assertThat(t.pending()).isZero();
        assertThat(e.offer(TestRecords.httpServer("GET", "/late", "/late", 200), nginx)).isFalse();
        assertThat(t.dropped()).isEqualTo(1);
        assertThat(e.shutdown(Duration.ofSeconds(1))).isSameAs(report);
    }
}
