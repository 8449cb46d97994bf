package io.periscope.bench.flow;

import io.periscope.sender.OtlpExporter;
import io.periscope.sender.ProcessResource;
import io.periscope.sender.SenderConfig;
import io.periscope.sender.Signal;
import io.periscope.sender.SignalCounters;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The agent's flow export path at a fixed flow-record rate, without the kernel: one producer
 * thread (standing in for a packet reader's flow table) offers typical finished TCP flows to an
 * {@link OtlpExporter} exporting over OTLP/gRPC (e.g. to bench's OtlpSink in another JVM); every
 * thread of this JVM's CPU time and allocated bytes are printed per flow record, grouped by
 * thread name. The producer's column is what each flow record costs the packet reader; the
 * export threads' is what it costs the agent besides.
 *
 * <p>usage: {@code FlowExportCpuMain host:port recordsPerSecond warmupSeconds measureSeconds}
 */
public final class FlowExportCpuMain {
    private static final int FLOWS = 4096;

    private FlowExportCpuMain() {
    }

    /** Entry point; see the class comment. */
    public static void main(String[] args) throws Exception {
        String endpoint = args.length > 0 ? args[0] : "127.0.0.1:18191";
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int warmupSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int measureSeconds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        ProcessResource agent = ProcessResource.builder("periscope").hostName("node-1").pid(812).build();
        SenderConfig config = SenderConfig.builder().endpoint(endpoint).gzip(false).build();
        OtlpExporter exporter = OtlpExporter.start(config, agent);
        TypicalFlow[] flows = new TypicalFlow[FLOWS];
        for (int i = 0; i < FLOWS; i++) {
            flows[i] = TypicalFlow.of(i);
        }
        long periodNanos = TimeUnit.SECONDS.toNanos(1) / rate;
        Thread.currentThread().setName("producer");
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        produce(exporter, flows, periodNanos, TimeUnit.SECONDS.toNanos(warmupSeconds));
        Map<String, long[]> before = byGroup(threads);
        long offered = produce(exporter, flows, periodNanos, TimeUnit.SECONDS.toNanos(measureSeconds));
        // Let the worker send what the window made, so its CPU is in the window.
        Thread.sleep(1500);
        Map<String, long[]> after = byGroup(threads);
        long cpu = 0;
        long alloc = 0;
        System.out.printf("%d flow records offered in %d s (%d/s)%n", offered, measureSeconds,
                offered / measureSeconds);
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            long dCpu = e.getValue()[0] - b[0];
            long dAlloc = e.getValue()[1] - b[1];
            cpu += dCpu;
            alloc += dAlloc;
            if (dCpu > 0 || dAlloc > 0) {
                System.out.printf("%-28s %8.3f us/record %10.1f B/record%n", e.getKey(), dCpu / 1000.0 / offered,
                        (double) dAlloc / offered);
            }
        }
        System.out.printf("%-28s %8.3f us/record %10.1f B/record%n", "TOTAL", cpu / 1000.0 / offered,
                (double) alloc / offered);
        SignalCounters logs = exporter.counters(Signal.LOGS);
        exporter.shutdown(Duration.ofSeconds(5));
        System.out.printf("logs: offered %d exported %d dropped %d failed %d%n", logs.offered(), logs.exported(),
                logs.dropped(), logs.failed());
    }

    private static long produce(OtlpExporter exporter, TypicalFlow[] flows,
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
                // Wake every millisecond at most, as a packet reader's timer tick does.
                LockSupport.parkNanos(Math.max(next - now, TimeUnit.MILLISECONDS.toNanos(1)));
                continue;
            }
            while (next <= now) {
                exporter.offerFlow(flows[(int) (n % FLOWS)], null);
                n++;
                next += periodNanos;
            }
        }
    }

    /** CPU ns and allocated bytes by thread-name group. */
    private static Map<String, long[]> byGroup(com.sun.management.ThreadMXBean threads) {
        Map<String, long[]> out = new TreeMap<>();
        for (long id : threads.getAllThreadIds()) {
            ThreadInfo info = threads.getThreadInfo(id);
            long cpu = threads.getThreadCpuTime(id);
            long alloc = threads.getThreadAllocatedBytes(id);
            if (info == null || cpu < 0) {
                continue;
            }
            String group = info.getThreadName().replaceAll("[-_ ]?\\d+$", "").replaceAll("-\\d+-", "-");
            long[] v = out.computeIfAbsent(group, k -> new long[2]);
            v[0] += cpu;
            v[1] += Math.max(0, alloc);
        }
        return out;
    }
}
