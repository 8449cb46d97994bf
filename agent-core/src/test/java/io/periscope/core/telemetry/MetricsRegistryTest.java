package io.periscope.core.telemetry;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsRegistryTest {
    private final MetricsRegistry registry = new MetricsRegistry();

    @Test
    void shouldWriteHelpTypeAndSeriesInPrometheusTextFormat() {
        Counter http = registry.counter("periscope_parse_errors_total", "Messages a parser rejected",
                "protocol", "http1");
        Counter redis = registry.counter("periscope_parse_errors_total", "Messages a parser rejected",
                "protocol", "redis");
        Gauge level = registry.gauge("periscope_guard_level", "Load-shedding level");
        http.add(3);
        redis.increment();
        level.set(2);
        assertThat(registry.scrape()).isEqualTo(String.join("\n",
                "# HELP periscope_parse_errors_total Messages a parser rejected",
                "# TYPE periscope_parse_errors_total counter",
                "periscope_parse_errors_total{protocol=\"http1\"} 3",
                "periscope_parse_errors_total{protocol=\"redis\"} 1",
                "# HELP periscope_guard_level Load-shedding level",
                "# TYPE periscope_guard_level gauge",
                "periscope_guard_level 2",
                ""));
    }

    @Test
    void shouldReturnTheSameCounterForTheSameNameAndLabels() {
        Counter first = registry.counter("periscope_events_total", "Events", "stage", "ring");
        Counter second = registry.counter("periscope_events_total", "Events", "stage", "ring");
        first.increment();
        second.increment();
        assertThat(first).isSameAs(second);
        assertThat(registry.value("periscope_events_total", "stage", "ring")).isEqualTo(2.0);
    }

    @Test
    void shouldReadSuppliedValuesAtScrapeTime() {
        AtomicLong depth = new AtomicLong();
        registry.gauge("periscope_queue_depth", "Slots in use", () -> depth.get(), "queue", "export");
        AtomicLong lost = new AtomicLong(7);
        registry.counter("periscope_kernel_lost_total", "Events the kernel dropped", lost::get);
        registry.gauge("periscope_ratio", "A fraction", () -> 0.25);
        depth.set(42);
        assertThat(registry.scrape()).contains("periscope_queue_depth{queue=\"export\"} 42\n")
                .contains("periscope_kernel_lost_total 7\n").contains("periscope_ratio 0.25\n");
    }

    @Test
    void shouldEscapeLabelValuesAndHelp() {
        registry.counter("periscope_odd_total", "line one\nline \\two", "path", "a\"b\\c\nd").increment();
        assertThat(registry.scrape()).contains("# HELP periscope_odd_total line one\\nline \\\\two\n")
                .contains("periscope_odd_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    @Test
    void shouldRejectBadNamesAndTypeClashes() {
        assertThatThrownBy(() -> registry.counter("events_total", "x")).hasMessageContaining("periscope_");
        assertThatThrownBy(() -> registry.counter("periscope_events", "x")).hasMessageContaining("_total");
        assertThatThrownBy(() -> registry.counter("periscope_x_total", "x", "odd")).hasMessageContaining("pairs");
        registry.gauge("periscope_thing", "x");
        assertThatThrownBy(() -> registry.gauge("periscope_thing", "x", () -> 1.0))
                .hasMessageContaining("another source");
        registry.counter("periscope_clash_total", "x");
        assertThatThrownBy(() -> registry.gauge("periscope_clash_total", "x"))
                .hasMessageContaining("already a counter");
    }

    @Test
    void shouldPublishSingleWriterCountsToReaders() throws InterruptedException {
        Counter counter = registry.counter("periscope_single_writer_total", "x");
        Thread writer = new Thread(() -> {
            for (int i = 0; i < 100_000; i++) {
                counter.incrementOrdered();
            }
            counter.addOrdered(5);
            counter.addOrdered(-3);
        });
        writer.start();
        writer.join();
        assertThat(counter.get()).isEqualTo(100_005L);
        assertThat(registry.scrape()).contains("periscope_single_writer_total 100005\n");
    }

    @Test
    void shouldCountFromManyThreadsWithoutLoss() throws InterruptedException {
        Counter counter = registry.counter("periscope_concurrent_total", "x");
        int threads = 4;
        int perThread = 100_000;
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    counter.increment();
                }
            });
            workers[t].start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        assertThat(counter.get()).isEqualTo((long) threads * perThread);
    }
}
