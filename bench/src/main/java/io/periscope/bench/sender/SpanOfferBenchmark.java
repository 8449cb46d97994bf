package io.periscope.bench.sender;

import io.periscope.protocols.RequestLog;
import io.periscope.sender.DropPolicy;
import io.periscope.sender.OtlpExporter;
import io.periscope.sender.ProcessResource;
import io.periscope.sender.SenderConfig;
import io.periscope.sender.Signal;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline's side of export: {@code OtlpExporter.offer} of a typical HTTP request log (RED
 * aggregation plus the copy into the span queue). The worker is kept asleep (batch larger than
 * the queue, hour-long batch delay), so after the first 8192 offers every call takes the full
 * queue's path: with {@code DROP_OLDEST} an eviction plus the same copy as an accepted offer,
 * with {@code DROP_NEWEST} a refusal (RED aggregation and the queue's bookkeeping only). This
 * measures the caller's cost alone, and its allocation (must be 0 B/op). One exporter is shared
 * by all benchmark threads: run with {@code -t 2} for two parse shards offering at once.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SpanOfferBenchmark {
    private static final int ROUTES = TypicalRequestLogs.ROUTES;

    private final RequestLog[] records = new RequestLog[ROUTES];
    private ProcessResource nginx;
    private OtlpExporter exporter;
    private Path dir;

    @Param({"DROP_OLDEST", "DROP_NEWEST"})
    public DropPolicy policy;

    /**
     * Each producer thread's position in the routes, and its CPU clock: on a shared machine the
     * wall-clock score mostly measures the neighbours, so each iteration also prints this
     * thread's CPU time per offer.
     */
    @State(Scope.Thread)
    public static class Cursor {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        int next;
        long offers;
        long cpuAtStartNanos;

        @Setup(Level.Iteration)
        public void start() {
            offers = 0;
            cpuAtStartNanos = THREADS.getCurrentThreadCpuTime();
        }

        @TearDown(Level.Iteration)
        public void print() {
            long cpuNanos = THREADS.getCurrentThreadCpuTime() - cpuAtStartNanos;
            if (offers > 0) {
                System.out.printf("%n[cpu] %s %.0f ns CPU per offer%n", Thread.currentThread().getName(),
                        (double) cpuNanos / offers);
            }
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("periscope-bench-sender");
        nginx = ProcessResource.builder("nginx").hostName("node-1").pid(4242).build();
        SenderConfig config = SenderConfig.builder().file(dir.resolve("otlp.jsonl"), 1 << 20, 0)
                .queueCapacity(Signal.TRACES, Integer.getInteger("periscope.bench.queue", 8192))
                .maxBatchSize(1 << 20).maxBatchDelay(Duration.ofHours(1))
                .dropPolicy(policy).metricsInterval(Duration.ofHours(1)).build();
        exporter = OtlpExporter.start(config, nginx);
        System.arraycopy(TypicalRequestLogs.http(), 0, records, 0, ROUTES);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        exporter.shutdown(Duration.ofMillis(1));
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    @Benchmark
    public boolean offer(Cursor cursor) {
        cursor.offers++;
        int i = cursor.next++ & (ROUTES - 1);
        return exporter.offer(records[i], nginx);
    }
}
