package io.periscope.core;

import io.periscope.core.config.Compression;
import io.periscope.core.config.ExportersConfig;
import io.periscope.core.config.FlowMapConfig;
import io.periscope.core.config.OtlpExporterConfig;
import io.periscope.core.config.PacketConfig;
import io.periscope.core.config.PipelineConfig;
import io.periscope.core.config.PortRange;
import io.periscope.core.guard.GuardLevel;
import io.periscope.core.pipeline.PacketPipeline;
import io.periscope.core.pipeline.SyscallPipeline;
import io.periscope.core.pipeline.SpanSinks;
import io.periscope.core.sched.CpuPlacement;
import io.periscope.core.telemetry.MetricsRegistry;
import io.periscope.ebpf.KernelFeatures;
import io.periscope.ebpf.libbpf.BpfException;
import io.periscope.ebpf.packet.CaptureInterface;
import io.periscope.ebpf.packet.PacketRingConfig;
import io.periscope.ebpf.tracer.SocketTracer;
import io.periscope.ebpf.tracer.SocketTracerConfig;
import io.periscope.flowmap.FlowTableConfig;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.kafka.KafkaTopicIds;
import io.periscope.sender.OtlpExporter;
import io.periscope.sender.ProcessResource;
import io.periscope.sender.SenderConfig;
import io.periscope.sender.ShutdownReport;
import io.periscope.sender.Signal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.IntToLongFunction;

/**
 * The running agent: starts the sources and pipelines the configuration asks for, then waits
 * for a stop request and takes everything down in reverse order (sources first, then the
 * pipelines drain, then the exporter flushes within a deadline), so what was in flight is
 * exported or counted, never silently lost.
 */
final class Agent {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    private static final long DRAIN_MILLIS = 2_000;
    private static final Duration FLUSH_DEADLINE = Duration.ofSeconds(5);
    private static final Duration FILE_BATCH_DELAY = Duration.ofMillis(200);
    private static final int PACKET_SNAP_HEADERS_BYTES = 256;
    private static final int PACKET_SNAP_WITH_PAYLOAD_BYTES = 65_535;
    private static final int MIN_FLOWS_PER_TABLE = 1024;

    private final AgentConfig config;
    /** Config watcher, self-metrics, health, metadata cache and resource guard, set up by Main. */
    private final AgentServices services;
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private volatile AgentConfig current;
    private volatile GuardLevel guardLevel = GuardLevel.NORMAL;

    Agent(AgentServices services) {
        this.config = services.config();
        this.services = services;
        this.current = config;
    }

    /** Asks {@link #runUntilStopped()} to return; safe from any thread, idempotent. */
    void requestStop() {
        stopRequested.countDown();
    }

    /** Runs until {@link #requestStop()}; returns the process exit code. */
    int runUntilStopped() {
        LOG.info("periscope {} starting (config: {})", Version.current(),
                config.source() == null ? "built-in defaults" : config.source());
        KernelFeatures features = KernelFeatures.probe();
        LOG.info("kernel: {}", features.summary());
        placeThreads(config.pipeline());

        String hostName = hostName();
        OtlpExporter exporter;
        try {
            exporter = OtlpExporter.start(senderConfig(config.exporters(), config.pipeline()),
                    ProcessResource.builder("periscope").hostName(hostName)
                            .pid((int) ProcessHandle.current().pid()).executableName("java").build());
        } catch (IllegalArgumentException | IllegalStateException e) {
            LOG.error("cannot start the exporter: {}", e.getMessage());
            return Main.EXIT_USAGE;
        }
        LOG.info("exporting to {}", describe(config.exporters()));

        SocketTracer tracer = null;
        SyscallPipeline syscalls = null;
        PacketPipeline packets = null;
        SpanSinks spans = new SpanSinks(exporter, services.metadata(), hostName, config.ebpf());
        spans.registerMetrics(services.metrics());
        spans.sampleKeepRatio(config.limits().guard().sampleKeepRatio());
        services.configWatcher().onChange(reloaded -> {
            spans.filters(reloaded.ebpf());
            spans.sampleKeepRatio(reloaded.limits().guard().sampleKeepRatio());
        });
        // Guard level 2: sample request logs into spans; the RED metrics still count every request.
        services.guard().onLevelChange(level -> spans.sampling(level.sampleRequestLogs()));
        guardLevel = services.guard().level();
        spans.sampling(guardLevel.sampleRequestLogs());
        try {
            if (config.ebpf().enabled()) {
                try {
                    tracer = SocketTracer.open(tracerConfig(config));
                } catch (BpfException | IllegalStateException | UnsatisfiedLinkError e) {
                    LOG.error("cannot start the eBPF socket tracer: {}", e.getMessage());
                    LOG.error("fix the cause above, or set ebpf.enabled=false to run without syscall spans");
                    return exitAfterFailedStart(exporter);
                }
                SyscallPipeline.Settings settings = new SyscallPipeline.Settings(config.pipeline().eventRingSize(),
                        config.ebpf().payloadBytes(), config.pipeline().shards(), SyscallPipeline.POLL_BATCH,
                        config.pipeline().waitStrategy().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                        TimeUnit.MILLISECONDS.toNanos(100));
                ProtocolConfig protocols = protocolConfig(config, guardLevel);
                syscalls = new SyscallPipeline(tracer, settings, () -> new ProtocolEngine(protocols),
                        spans::newShardSink, spans::onExec, spans::onExit);
                registerMetrics(services.metrics(), syscalls);
                exportSyscallCounters(exporter, syscalls);
                syscalls.start();
                SyscallPipeline pipeline = syscalls;
                services.configWatcher().onChange(reloaded -> {
                    current = reloaded;
                    pipeline.reconfigure(protocolConfig(reloaded, guardLevel));
                    LOG.info("applied reloaded config to the parse shards");
                });
                services.guard().onLevelChange(level -> {
                    GuardLevel before = guardLevel;
                    guardLevel = level;
                    // Rebuilding the engines drops the requests awaiting a response: only when the
                    // parsing itself changes (levels 2 and 3 sample or stop capture instead).
                    if (level.shallowParsing() != before.shallowParsing()) {
                        pipeline.reconfigure(protocolConfig(current, level));
                    }
                });
                // Guard level 3: the kernel stops copying payload (events keep lengths and timestamps).
                SocketTracer attached = tracer;
                int payloadBytes = config.ebpf().payloadBytes();
                services.guard().onLevelChange(
                        level -> attached.setPayloadCaptureBytes(level.payloadCapture() ? payloadBytes : 0));
                LOG.info("eBPF socket tracer attached (payload {} bytes, {} parse shard(s))",
                        config.ebpf().payloadBytes(), config.pipeline().shards());
            } else {
                LOG.info("eBPF disabled (ebpf.enabled=false): no syscall spans");
            }
            if (config.packet().enabled()) {
                try {
                    packets = packetPipeline(config, exporter, spans);
                } catch (IllegalStateException | IllegalArgumentException | UnsatisfiedLinkError e) {
                    LOG.error("cannot start packet capture: {}", e.getMessage());
                    LOG.error("fix the cause above, or set packet.enabled=false to run without flows");
                    return exitAfterFailedStart(exporter);
                }
                registerPacketMetrics(services.metrics(), packets);
                exportPacketCounters(exporter, packets);
                packets.start();
                LOG.info("packet capture on {} ({} ring(s)): flows exported every {}", packets.interfaceNames(),
                        packets.readerCount(), config.flowMap().exportInterval());
            } else {
                LOG.info("packet capture disabled (packet.enabled=false): no flows");
            }
            services.health().markReady();
            LOG.info("running; stop with Ctrl-C or SIGTERM");
            try {
                stopRequested.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            LOG.info("stopping");
        } finally {
            if (packets != null) {
                packets.close();
            }
            if (syscalls != null && !syscalls.stop(DRAIN_MILLIS)) {
                LOG.warn("parse shards did not drain within {} ms", DRAIN_MILLIS);
            }
            if (tracer != null) {
                tracer.close();
            }
        }
        ShutdownReport report = exporter.shutdown(FLUSH_DEADLINE);
        if (report.flushedAll()) {
            LOG.info("stopped; everything queued was exported");
        } else {
            LOG.warn("stopped; not exported within {}: {} spans, {} metric batches, {} log records", FLUSH_DEADLINE,
                    report.unflushed(Signal.TRACES), report.unflushed(Signal.METRICS), report.unflushed(Signal.LOGS));
        }
        return Main.EXIT_OK;
    }

    private static int exitAfterFailedStart(OtlpExporter exporter) {
        exporter.shutdown(FLUSH_DEADLINE);
        return Main.EXIT_FAILURE;
    }

    static PacketPipeline packetPipeline(AgentConfig config, OtlpExporter exporter, SpanSinks spans) {
        PacketConfig packet = config.packet();
        List<CaptureInterface> interfaces =
                CaptureInterface.selectForCapture(packet.interfaces(), packet.includeLoopback());
        PacketRingConfig ring = PacketRingConfig.builder()
                .blockBytes(packet.blockBytes())
                .blockCount(packet.blockCount())
                .initialBlockCount(packet.initialBlockCount())
                .filter(packet.filter())
                // Flows need the headers only; L7 parsing of packet streams would need the payload.
                .snapLengthBytes(packet.l7Parsing() ? PACKET_SNAP_WITH_PAYLOAD_BYTES : PACKET_SNAP_HEADERS_BYTES)
                .build();
        int tables = Math.max(1, interfaces.size() * packet.fanoutReaders());
        FlowTableConfig table = flowTableConfig(config.flowMap(),
                Math.max(MIN_FLOWS_PER_TABLE, config.flowMap().capacity() / tables));
        boolean endpointMetrics = !config.flowMap().endpointMetricsInterval().isZero();
        if (!packet.l7Parsing()) {
            return new PacketPipeline(interfaces, packet.fanoutReaders(), ring, table, exporter, null, null,
                    endpointMetrics);
        }
        ProtocolConfig protocols = protocolConfig(config, GuardLevel.NORMAL);
        return new PacketPipeline(interfaces, packet.fanoutReaders(), ring, table, exporter,
                () -> new ProtocolEngine(protocols), spans::newShardSink, endpointMetrics);
    }

    /** The flow table settings of {@code flows}, for a table holding {@code maxFlows}. */
    static FlowTableConfig flowTableConfig(FlowMapConfig flows, int maxFlows) {
        return FlowTableConfig.builder()
                .maxFlows(maxFlows)
                .fullPolicy(flows.evictWhenFull()
                        ? FlowTableConfig.FullPolicy.EVICT : FlowTableConfig.FullPolicy.DROP_NEW)
                .openingTimeout(flows.timeouts().opening().toNanos(), TimeUnit.NANOSECONDS)
                .establishedTimeout(flows.timeouts().established().toNanos(), TimeUnit.NANOSECONDS)
                .closingTimeout(flows.timeouts().closing().toNanos(), TimeUnit.NANOSECONDS)
                .closedTimeout(flows.timeouts().closed().toNanos(), TimeUnit.NANOSECONDS)
                .resetTimeout(flows.timeouts().reset().toNanos(), TimeUnit.NANOSECONDS)
                .otherTimeout(flows.timeouts().udp().toNanos(), TimeUnit.NANOSECONDS)
                .reportInterval(flows.exportInterval().toNanos(), TimeUnit.NANOSECONDS)
                .metricsInterval(flows.endpointMetricsInterval().isZero() ? TimeUnit.SECONDS.toNanos(1)
                        : flows.endpointMetricsInterval().toNanos(), TimeUnit.NANOSECONDS)
                .build();
    }

    /**
     * The agent's own key counters also go out over OTLP (the collector is where users look;
     * /metrics has all of them), under OTel-style names.
     */
    private static void exportSyscallCounters(OtlpExporter exporter, SyscallPipeline pipeline) {
        exporter.registerCounter("periscope.ebpf.events", "{event}", "Socket events read from the kernel ring",
                pipeline::eventsIn);
        exporter.registerCounter("periscope.ebpf.lost_events", "{event}",
                "Socket events the kernel dropped because its ring was full", pipeline::lostInKernel);
        exporter.registerCounter("periscope.pipeline.parse_ring.dropped", "{event}",
                "Events dropped because every parse slot was full", pipeline::droppedRingFull);
    }

    private static void exportPacketCounters(OtlpExporter exporter, PacketPipeline packets) {
        exporter.registerCounter("periscope.packets", "{packet}", "Packets read from the AF_PACKET rings",
                packets::packets);
        exporter.registerCounter("periscope.packets.kernel_dropped", "{packet}",
                "Packets the kernel dropped because a ring was full", packets::kernelDrops);
        exporter.registerCounter("periscope.flows.dropped", "{flow}",
                "New flows not tracked because the flow map was full", packets::flowsDropped);
        exporter.registerGauge("periscope.flows.active", "{flow}", "Flows in the flow maps", packets::activeFlows);
    }

    private static void registerPacketMetrics(MetricsRegistry metrics, PacketPipeline packets) {
        metrics.counter("periscope_packets_total", "Packets read from the AF_PACKET rings", packets::packets);
        metrics.counter("periscope_packet_kernel_drops_total", "Packets the kernel dropped because a ring was full",
                packets::kernelDrops);
        metrics.counter("periscope_packets_not_tracked_total",
                "Packets not accounted to a flow (not IP, malformed, or no room for a new flow)",
                packets::packetsNotTracked);
        metrics.counter("periscope_flows_dropped_total", "New flows not tracked because the flow map was full",
                packets::flowsDropped);
        metrics.counter("periscope_flows_evicted_total", "Flows evicted early to make room in the flow map",
                packets::flowsEvicted);
        metrics.counter("periscope_flow_early_records_total",
                "Flow records sent before their interval ended because a counter of the flow was full (none lost)",
                packets::earlyFlowRecords);
        metrics.counter("periscope_packet_interfaces_skipped_total",
                "Selected interfaces not captured on because their ring could not be opened (see the log)",
                packets::interfacesSkipped);
        metrics.counter("periscope_packet_poll_errors_total",
                "Waits for packets that poll(2) ended at once with an error (e.g. an interface went down)",
                packets::pollErrors);
        metrics.gauge("periscope_flows_active", "Flows in the flow maps", () -> packets.activeFlows());
        metrics.gauge("periscope_packet_ring_bytes", "Bytes of AF_PACKET ring mapped (resident) now",
                () -> packets.ringBytes());
        metrics.counter("periscope_packet_ring_growths_total",
                "Times a packet ring doubled because over half of it waited for the reader or the kernel dropped",
                packets::ringGrowths);
        metrics.counter("periscope_packet_ring_growth_failures_total",
                "Times a packet ring could not grow (it keeps its size; see the log)", packets::ringGrowthFailures);
        metrics.counter("periscope_pipeline_dropped_total", SyscallPipeline.DROPPED_HELP, packets::flowLogsDropped,
                "stage", "flow_export_queue");
    }

    /**
     * Gives every agent thread the configured slice and CPU set before the pipelines start (their
     * threads inherit both). A kernel without custom slices is logged once and the agent runs with
     * its default slice; the gauge says which.
     */
    private void placeThreads(PipelineConfig pipeline) {
        CpuPlacement.Result placed = CpuPlacement.apply(pipeline.cpuSliceUs(), pipeline.cpuNice(), pipeline.cpuSet());
        if (pipeline.cpuSliceUs() != 0) {
            if (placed.sliceSupported()) {
                LOG.info("{} threads run with a {} µs scheduler slice", placed.threads(), placed.sliceNanos() / 1_000);
            } else {
                LOG.warn("pipeline.cpu_slice_us={} not applied, threads keep the kernel's default slice: {}",
                        pipeline.cpuSliceUs(), placed.problem());
            }
        }
        if (pipeline.cpuNice() != 0) {
            if (placed.niceFailures() == 0) {
                LOG.info("{} threads run at nice {}", placed.threads(), pipeline.cpuNice());
            } else {
                LOG.warn("pipeline.cpu_nice={}: {} of {} threads kept their nice value (setpriority failed)",
                        pipeline.cpuNice(), placed.niceFailures(), placed.threads());
            }
        }
        if (!pipeline.cpus().isEmpty()) {
            if (placed.affinityFailures() == 0) {
                LOG.info("{} threads limited to CPUs {}", placed.threads(), pipeline.cpus());
            } else {
                LOG.warn("pipeline.cpus={}: {} of {} threads could not be limited (sched_setaffinity failed)",
                        pipeline.cpus(), placed.affinityFailures(), placed.threads());
            }
        }
        services.metrics().gauge("periscope_agent_cpu_slice_seconds", "The scheduler slice the agent's threads "
                + "run with (pipeline.cpu_slice_us); 0 when the kernel default applies (not set, or not supported)",
                () -> placed.sliceSupported() ? placed.sliceNanos() / 1e9 : 0.0);
    }

    private static void registerMetrics(MetricsRegistry metrics, SyscallPipeline pipeline) {
        metrics.counter("periscope_ebpf_events_total", "Socket events read from the kernel ring",
                pipeline::eventsIn);
        metrics.counter("periscope_ebpf_lost_events_total",
                "Socket events the kernel dropped because its ring was full", pipeline::lostInKernel);
        metrics.counter("periscope_pipeline_dropped_total", SyscallPipeline.DROPPED_HELP,
                pipeline::droppedRingFull, "stage", "parse_ring");
        metrics.counter("periscope_pipeline_parse_ring_full_waits_total", "Times the eBPF poller found every "
                + "parse slot taken and left the events in the kernel ring a while (parsing fell behind)",
                pipeline::parseRingFullWaits);
        metrics.counter("periscope_pipeline_dropped_total", SyscallPipeline.DROPPED_HELP,
                pipeline::pendingDroppedOnReconfigure, "stage", "reconfigure");
        metrics.counter("periscope_ebpf_malformed_events_total", "Ring records shorter than their header",
                pipeline::malformed);
        metrics.counter("periscope_ebpf_stale_sockets_total", "Sockets whose end the tracer missed (their "
                + "process exited or exec'd without close), ended when a new socket took their kernel address",
                pipeline::staleSocketEntries);
        for (L7Protocol protocol : ProtocolEngine.SUPPORTED) {
            String name = AgentConfig.protocolKey(protocol);
            metrics.counter("periscope_parse_errors_total", "Messages a parser could not read",
                    () -> sum(pipeline, s -> pipeline.engine(s).counters().parseErrors(protocol)), "protocol", name);
            metrics.counter("periscope_request_logs_total", "Request logs produced",
                    () -> sum(pipeline, s -> pipeline.engine(s).counters().requestLogs(protocol)), "protocol", name);
            metrics.counter("periscope_request_timeouts_total", "Requests that got no response in time",
                    () -> sum(pipeline, s -> pipeline.engine(s).counters().timeouts(protocol)), "protocol", name);
        }
        metrics.counter("periscope_socket_id_reuses_total", "TCP socket ids seen again with other ports, "
                + "so the old connection was ended and the new one parsed afresh (0 while the tracer's own "
                + "stale-socket check, periscope_ebpf_stale_sockets_total, catches every reuse)",
                () -> sum(pipeline, s -> pipeline.engine(s).counters().socketIdReuses()));
        // Kafka v13+ names topics by id; ids are learnt from Metadata answers into one bounded table.
        KafkaTopicIds topicIds = KafkaTopicIds.shared();
        String help = "Kafka topic ids: learnt from Metadata, evicted from the full table, "
                + "unknown at lookup (span left without a topic), rejected (malformed)";
        metrics.counter("periscope_kafka_topic_ids_total", help, topicIds::learnt, "event", "learnt");
        metrics.counter("periscope_kafka_topic_ids_total", help, topicIds::evictions, "event", "evicted");
        metrics.counter("periscope_kafka_topic_ids_total", help, topicIds::unknown, "event", "unknown");
        metrics.counter("periscope_kafka_topic_ids_total", help, topicIds::rejected, "event", "rejected");
    }

    private static long sum(SyscallPipeline pipeline, IntToLongFunction perShard) {
        long total = 0;
        for (int s = 0; s < pipeline.shardCount(); s++) {
            total += perShard.applyAsLong(s);
        }
        return total;
    }

    static SocketTracerConfig tracerConfig(AgentConfig config) {
        SocketTracerConfig.Builder b = SocketTracerConfig.builder()
                .payloadBytes(config.ebpf().payloadBytes())
                .ringBytes(config.ebpf().ringBufferBytes())
                // The agent's own exporter traffic must not become spans (it would feed itself).
                .ignoreSelf(true);
        int[] allowed = kernelPortFilter(config.ebpf().ports().allow());
        if (allowed.length > 0) {
            b.ports(allowed);
        }
        return b.build();
    }

    /**
     * The allow list as single ports for the tracer's in-kernel prefilter, so unwanted traffic never
     * reaches the ring; empty (trace all, filter in the span sinks) when it holds more ports than
     * the kernel table. The deny list is always applied in the sinks.
     */
    static int[] kernelPortFilter(List<PortRange> allow) {
        int count = 0;
        for (PortRange range : allow) {
            count += range.last() - range.first() + 1;
            if (count > SocketTracerConfig.MAX_FILTER_PORTS) {
                return new int[0];
            }
        }
        int[] ports = new int[count];
        int i = 0;
        for (PortRange range : allow) {
            for (int port = range.first(); port <= range.last(); port++) {
                ports[i++] = port;
            }
        }
        return ports;
    }

    static ProtocolConfig protocolConfig(AgentConfig config, GuardLevel level) {
        ProtocolConfig.Builder b = ProtocolConfig.builder()
                .obfuscate(config.obfuscation().sql() || config.obfuscation().redis())
                .endpointSegments(config.endpointRule().keepSegments())
                .endpointReplaceIds(config.endpointRule().replaceNumeric() || config.endpointRule().replaceUuid());
        for (L7Protocol protocol : L7Protocol.values()) {
            io.periscope.core.config.ProtocolConfig p = config.protocol(protocol);
            if (p != null) {
                b.enable(protocol, p.enabled())
                        .shallow(protocol, p.shallow() || level.compareTo(GuardLevel.SHALLOW_PARSING) >= 0)
                        .timeoutNanos(protocol, p.timeout().toNanos());
                // protocols.<name>.ports: the configured ports replace the engine's defaults
                b.ports(protocol);
                for (PortRange range : p.ports()) {
                    b.addPortRange(protocol, range.first(), range.last());
                }
            }
        }
        return b.build();
    }

    static SenderConfig senderConfig(ExportersConfig exporters, PipelineConfig pipeline) {
        // The span queue absorbs bursts (the export thread's own JIT warm-up at start, a slow
        // collector); its slots are filled lazily, so depth costs heap only when it is used.
        SenderConfig.Builder b = SenderConfig.builder().queueCapacity(Signal.TRACES, pipeline.exportRingSize());
        OtlpExporterConfig otlp = exporters.otlp();
        if (otlp.endpoint() != null && !otlp.endpoint().isBlank()) {
            b.endpoint(otlp.endpoint()).exportTimeout(otlp.timeout())
                    .gzip(otlp.compression() == Compression.GZIP);
            if (otlp.tls().enabled()) {
                b.tls(true);
                if (otlp.tls().caFile() != null && !otlp.tls().caFile().isBlank()) {
                    b.trustCertificates(Path.of(otlp.tls().caFile()));
                }
                if (otlp.tls().certFile() != null && !otlp.tls().certFile().isBlank()) {
                    b.clientCertificate(Path.of(otlp.tls().certFile()), Path.of(otlp.tls().keyFile()));
                }
            }
            otlp.headers().forEach(b::header);
        } else {
            b.file(Path.of(exporters.file().path()), exporters.file().maxBytes(), exporters.file().maxFiles())
                    // A local append is cheap: batch briefly so spans show up well within a second.
                    .maxBatchDelay(FILE_BATCH_DELAY);
        }
        return b.build();
    }

    private static String describe(ExportersConfig exporters) {
        String endpoint = exporters.otlp().endpoint();
        return endpoint != null && !endpoint.isBlank()
                ? "OTLP/gRPC " + endpoint
                : "OTLP JSON lines file " + exporters.file().path() + " (no exporters.otlp.endpoint configured)";
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
