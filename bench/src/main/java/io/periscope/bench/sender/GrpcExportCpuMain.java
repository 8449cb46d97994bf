package io.periscope.bench.sender;

import io.periscope.protocols.RequestLog;
import io.periscope.sender.OtlpExporter;
import io.periscope.sender.ProcessResource;
import io.periscope.sender.SenderConfig;
import io.periscope.sender.Signal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The agent's whole export path at a fixed span rate, as bench B drives it, without nginx or the
 * kernel: one producer thread offers typical HTTP request logs to an {@link OtlpExporter} that
 * exports over OTLP/gRPC to a collector (e.g. bench's OtlpSink in another JVM), and the CPU time
 * of every thread of this JVM is printed per span, grouped by thread name. This is the lab for
 * the export side's CPU per span (bench B's JFR: export worker plus gRPC's Netty worker).
 *
 * <p>usage: {@code GrpcExportCpuMain host:port spansPerSecond warmupSeconds measureSeconds}
 */
public final class GrpcExportCpuMain {
    private static final int ROUTES = TypicalRequestLogs.ROUTES;

    private GrpcExportCpuMain() {
    }

    /** Entry point; see the class comment. */
    public static void main(String[] args) throws Exception {
        String endpoint = args.length > 0 ? args[0] : "127.0.0.1:18692";
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 25_000;
        int warmupSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int measureSeconds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        ProcessResource nginx = ProcessResource.builder("nginx").hostName("node-1").pid(4242).build();
        // As the agent exports by default (exporters.otlp.compression: none).
        SenderConfig config = SenderConfig.builder().endpoint(endpoint).gzip(Boolean.getBoolean("gzip"))
                .maxBatchSize(Integer.getInteger("batch", 512))
                // The agent's span queue (pipeline.export_ring_size in deploy/agent.yaml).
                .queueCapacity(Signal.TRACES, Integer.getInteger("queue", 8192)).build();
        OtlpExporter exporter = OtlpExporter.start(config, nginx);
        RequestLog[] records = TypicalRequestLogs.http();
        long periodNanos = TimeUnit.SECONDS.toNanos(1) / rate;
        Thread producer = Thread.currentThread();
        producer.setName("producer");
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        produce(exporter, records, nginx, periodNanos, TimeUnit.SECONDS.toNanos(warmupSeconds));
        Map<String, Long> before = cpuByGroup(threads);
        long offered = produce(exporter, records, nginx, periodNanos, TimeUnit.SECONDS.toNanos(measureSeconds));
        // Let the worker send what the window made, so its CPU is in the window.
        Thread.sleep(1500);
        Map<String, Long> after = cpuByGroup(threads);
        long total = 0;
        System.out.printf("%d spans offered in %d s (%d/s)%n", offered, measureSeconds, offered / measureSeconds);
        for (Map.Entry<String, Long> e : after.entrySet()) {
            long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            total += d;
            if (d > 0) {
                System.out.printf("%-28s %8.3f us/span%n", e.getKey(), d / 1000.0 / offered);
            }
        }
        System.out.printf("%-28s %8.3f us/span%n", "TOTAL", total / 1000.0 / offered);
        exporter.shutdown(Duration.ofSeconds(5));
    }

    private static long produce(OtlpExporter exporter, RequestLog[] records, ProcessResource resource,
            long periodNanos, long durationNanos) {
        long start = System.nanoTime();
        long next = start;
        long n = 0;
        while (true) {
            long now = System.nanoTime();
            if (now - start >= durationNanos) {
                return n;
            }
            if (now < next) {
                // Wake every millisecond at most, as a parse shard woken by a polled batch does; a
                // wake-up per span would make this thread's CPU the timer's, not the exporter's.
                LockSupport.parkNanos(Math.max(next - now, TimeUnit.MILLISECONDS.toNanos(1)));
                continue;
            }
            // Catch up in a burst, as a parse shard does after a poll.
            while (next <= now) {
                exporter.offer(records[(int) (n & (ROUTES - 1))], resource);
                n++;
                next += periodNanos;
            }
        }
    }

    private static Map<String, Long> cpuByGroup(ThreadMXBean threads) {
        Map<String, Long> out = new TreeMap<>();
        for (long id : threads.getAllThreadIds()) {
            ThreadInfo info = threads.getThreadInfo(id);
            long cpu = threads.getThreadCpuTime(id);
            if (info == null || cpu < 0) {
                continue;
            }
            String group = info.getThreadName().replaceAll("[-_ ]?\\d+$", "").replaceAll("-\\d+-", "-");
            out.merge(group, cpu, Long::sum);
        }
        return out;
    }
}
