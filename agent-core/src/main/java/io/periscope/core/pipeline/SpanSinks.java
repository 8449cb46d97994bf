package io.periscope.core.pipeline;

import io.periscope.core.config.EbpfConfig;
import io.periscope.core.metadata.ProcessMetadataCache;
import io.periscope.core.telemetry.MetricsRegistry;
import io.periscope.protocols.RequestLogSink;
import io.periscope.sender.OtlpExporter;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Where request logs leave the pipelines: makes one {@link SpanSink} per parse shard or packet
 * reader, all sharing the exporter, the metadata cache, the filters, the counters and the
 * exec/exit generation.
 */
public final class SpanSinks {
    private final OtlpExporter exporter;
    private final ProcessMetadataCache metadata;
    private final String hostName;
    private final SpanSink.Generation generation = new SpanSink.Generation();
    private final SpanSink.Resources resources = new SpanSink.Resources();
    private final SpanSink.KeepRatio keepRatio = new SpanSink.KeepRatio();
    private volatile double configuredKeepRatio = 1.0;
    private volatile boolean sampling;
    private final List<SpanSink> sinks = new CopyOnWriteArrayList<>();
    private volatile SpanSink.Filters filters;

    public SpanSinks(OtlpExporter exporter, ProcessMetadataCache metadata, String hostName, EbpfConfig ebpf) {
        this.exporter = exporter;
        this.metadata = metadata;
        this.hostName = hostName;
        this.filters = new SpanSink.Filters(ebpf.ports(), ebpf.processes());
    }

    /** A sink for one thread (a parse shard or a packet reader), called once per thread at setup. */
    public RequestLogSink newShardSink() {
        SpanSink sink = new SpanSink(exporter, metadata, hostName, filters, generation, resources,
                keepRatio);
        sinks.add(sink);
        return sink;
    }

    /** Applies reloaded port/process filters to every shard. */
    public void filters(EbpfConfig ebpf) {
        filters = new SpanSink.Filters(ebpf.ports(), ebpf.processes());
        for (SpanSink sink : sinks) {
            sink.filters(filters);
        }
    }

    /**
     * Turns sampling of request logs on (guard level 2 and above) or off. While on, each sink keeps
     * {@link #sampleKeepRatio(double) the keep ratio} of request logs as spans; the rest only feed
     * the RED metrics.
     */
    public synchronized void sampling(boolean on) {
        sampling = on;
        keepRatio.set(on ? configuredKeepRatio : 1.0);
    }

    /** The share of request logs kept while sampling ({@code limits.guard.sample_keep_ratio}, 0-1). */
    public synchronized void sampleKeepRatio(double ratio) {
        configuredKeepRatio = ratio;
        if (sampling) {
            keepRatio.set(ratio);
        }
    }

    /** Whether request logs are being sampled now. */
    public boolean sampling() {
        return sampling;
    }

    /** A process ran execve: its metadata is stale. */
    public void onExec(int pid) {
        metadata.onExec(pid);
        generation.advance(pid);
    }

    /** A process exited: its pid may be reused. */
    public void onExit(int pid) {
        metadata.onExit(pid);
        generation.advance(pid);
    }

    public void registerMetrics(MetricsRegistry metrics) {
        metrics.counter("periscope_spans_offered_total", "Request logs handed to the exporter",
                () -> sum(c -> c.offered));
        metrics.counter("periscope_spans_sampled_out_total",
                "Request logs not exported as spans: sampled out by the resource guard (RED metrics count them)",
                () -> sum(c -> c.sampledOut));
        metrics.counter("periscope_pipeline_dropped_total", SyscallPipeline.DROPPED_HELP,
                () -> sum(c -> c.droppedByExporter), "stage", "export_queue");
        metrics.counter("periscope_filtered_total", "Request logs left out by the config's filters",
                () -> sum(c -> c.filteredPort), "filter", "port");
        metrics.counter("periscope_filtered_total", "Request logs left out by the config's filters",
                () -> sum(c -> c.filteredProcess), "filter", "process");
    }

    private long sum(Function<SpanSink.Counters, AtomicLong> counter) {
        long total = 0;
        for (SpanSink sink : sinks) {
            total += counter.apply(sink.counters()).get();
        }
        return total;
    }
}
