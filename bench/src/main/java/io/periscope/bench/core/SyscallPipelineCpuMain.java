package io.periscope.bench.core;

import io.periscope.core.AgentConfig;
import io.periscope.core.config.Compression;
import io.periscope.core.config.ConfigLoader;
import io.periscope.core.metadata.ProcessMetadataCache;
import io.periscope.core.pipeline.SpanSinks;
import io.periscope.core.pipeline.SyscallPipeline;
import io.periscope.core.telemetry.MetricsRegistry;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.sender.OtlpExporter;
import io.periscope.sender.ProcessResource;
import io.periscope.sender.SenderConfig;
import io.periscope.sender.Signal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Bench B's agent side without the kernel, nginx or h2load: {@link SyntheticHttpSource} makes the
 * socket tracer's records of B's traffic at a fixed request rate, and the agent's own syscall
 * pipeline (poller, Disruptor, parse shard, protocol engine, span sink with process metadata,
 * exporter) turns them into spans exported over OTLP/gRPC to a collector (bench's OtlpSink in
 * another JVM, as in B). Prints, per thread group, the CPU time per span (from /proc, so the JIT
 * compiler and GC threads count too) and the bytes each Java thread allocated per span. This is
 * the steadier lab for B's per-span CPU: B's numbers move with whatever else runs on the box.
 *
 * <p>usage: {@code SyscallPipelineCpuMain host:port requestsPerSecond warmupSeconds measureSeconds}
 * ({@code -Dshallow=true}, {@code -Dconnections=20}, {@code -Dwake.us=2000}, {@code -Dshards=2} (the
 * config's default), {@code -Dwait=blocking})
 */
public final class SyscallPipelineCpuMain {
    private static final int SERVER_PORT = 18611;
    private static final long TICKS_PER_SECOND = 100;

    private SyscallPipelineCpuMain() {
    }

    /** Entry point; see the class comment. */
    public static void main(String[] args) throws Exception {
        String endpoint = args.length > 0 ? args[0] : "127.0.0.1:18622";
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int warmupSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        int measureSeconds = args.length > 3 ? Integer.parseInt(args[3]) : 30;
        boolean shallow = Boolean.getBoolean("shallow");
        // B's agent config (bench/scenarios/nginx.sh), read by the agent's own loader.
        AgentConfig config = ConfigLoader.parse("ebpf:\n  ports:\n    allow: [" + SERVER_PORT + "]\n"
                + "limits:\n  guard: {enabled: false}\n"
                + "protocols:\n  http1: {enabled: true, shallow: " + shallow + ", ports: [80, 8080, " + SERVER_PORT
                + "], timeout: 30s}\n", "lab", List.of(), null);
        MetricsRegistry registry = new MetricsRegistry();
        ProcessMetadataCache metadata = new ProcessMetadataCache(config.metadata(), registry);
        SenderConfig senderConfig = SenderConfig.builder().endpoint(endpoint)
                // As the agent exports by default (exporters.otlp.compression: none).
                .gzip(config.exporters().otlp().compression() == Compression.GZIP)
                .queueCapacity(Signal.TRACES, config.pipeline().exportRingSize()).build();
        OtlpExporter exporter = OtlpExporter.start(senderConfig,
                ProcessResource.builder("periscope").hostName("lab").build());
        SpanSinks spans = new SpanSinks(exporter, metadata, "lab", config.ebpf());
        spans.registerMetrics(registry);
        ProtocolConfig protocols = ProtocolConfig.builder()
                .enable(L7Protocol.HTTP1, true)
                .shallow(L7Protocol.HTTP1, shallow)
                .timeoutNanos(L7Protocol.HTTP1, TimeUnit.SECONDS.toNanos(30))
                .addPortRange(L7Protocol.HTTP1, SERVER_PORT, SERVER_PORT)
                .build();
        // Two live processes, so the sinks' metadata lookups read a real /proc: this JVM plays
        // nginx, its parent (the shell) h2load.
        int self = (int) ProcessHandle.current().pid();
        int parent = (int) ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L).longValue();
        SyntheticHttpSource source = new SyntheticHttpSource(rate, Integer.getInteger("connections", 20), self,
                parent, TimeUnit.MICROSECONDS.toNanos(Integer.getInteger("wake.us", 2000)),
                config.ebpf().ringBufferBytes());
        SyscallPipeline.Settings settings = new SyscallPipeline.Settings(config.pipeline().eventRingSize(),
                config.ebpf().payloadBytes(), Integer.getInteger("shards", config.pipeline().shards()),
                SyscallPipeline.POLL_BATCH, System.getProperty("wait", "blocking"), TimeUnit.MILLISECONDS.toNanos(100));
        SyscallPipeline pipeline = new SyscallPipeline(source, settings, () -> new ProtocolEngine(protocols),
                spans::newShardSink, spans::onExec, spans::onExit);
        pipeline.start();
        Thread.sleep(TimeUnit.SECONDS.toMillis(warmupSeconds));
        Map<String, long[]> before = threads();
        long spansBefore = exporter.counters(Signal.TRACES).offered();
        long eventsBefore = pipeline.eventsIn();
        long ringDropsBefore = pipeline.droppedRingFull();
        long lostBefore = pipeline.lostInKernel();
        long queueDropsBefore = exporter.counters(Signal.TRACES).dropped();
        Thread.sleep(TimeUnit.SECONDS.toMillis(measureSeconds));
        long spansAfter = exporter.counters(Signal.TRACES).offered();
        long eventsAfter = pipeline.eventsIn();
        Map<String, long[]> after = threads();
        long n = Math.max(1, spansAfter - spansBefore);
        System.out.printf("%d spans in %d s (%d/s), %d events, load %s, shallow=%s, shards=%d%n", n, measureSeconds,
                n / measureSeconds, eventsAfter - eventsBefore, loadAverage(), shallow, settings.shards());
        double total = 0;
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] a = e.getValue();
            long[] b = before.getOrDefault(e.getKey(), new long[3]);
            double procUs = (a[0] - b[0]) * 1e6 / TICKS_PER_SECOND / n;
            double mxUs = (a[1] - b[1]) / 1e3 / n;
            double bytes = (double) (a[2] - b[2]) / n;
            total += procUs;
            if (procUs > 0.005 || mxUs > 0.005 || bytes > 0.5) {
                System.out.printf("%-26s %7.3f us/span (thread cpu %7.3f)  %8.1f B/span%n", e.getKey(), procUs,
                        mxUs, bytes);
            }
        }
        System.out.printf("%-26s %7.3f us/span%n", "TOTAL", total);
        System.out.printf("lost or dropped in the window: kernel ring %d, parse ring %d, export queue %d "
                + "(since start: %d, %d, %d)%n", pipeline.lostInKernel() - lostBefore,
                pipeline.droppedRingFull() - ringDropsBefore,
                exporter.counters(Signal.TRACES).dropped() - queueDropsBefore, pipeline.lostInKernel(),
                pipeline.droppedRingFull(), exporter.counters(Signal.TRACES).dropped());
        pipeline.stop(2_000);
        exporter.shutdown(Duration.ofSeconds(5));
        System.exit(0);
    }

    /** Per thread group: /proc CPU ticks, ThreadMXBean CPU nanoseconds, allocated bytes. */
    private static Map<String, long[]> threads() throws IOException {
        Map<String, long[]> out = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException e) {
                    continue;
                }
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                String[] f = stat.substring(close + 2).split(" ");
                // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
                long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                out.computeIfAbsent(group(stat.substring(open + 1, close)), k -> new long[3])[0] += ticks;
            }
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (long id : mx.getAllThreadIds()) {
            ThreadInfo info = mx.getThreadInfo(id);
            if (info == null) {
                continue;
            }
            // /proc names are cut at 15 characters; group Java threads under the same cut name.
            String name = info.getThreadName();
            long[] row = out.computeIfAbsent(group(name.length() > 15 ? name.substring(0, 15) : name),
                    k -> new long[3]);
            row[1] += Math.max(0, mx.getThreadCpuTime(id));
            row[2] += Math.max(0, mx.getThreadAllocatedBytes(id));
        }
        return out;
    }

    private static String group(String name) {
        return name.replaceAll("[-_ #]?\\d+$", "");
    }

    private static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }
}
