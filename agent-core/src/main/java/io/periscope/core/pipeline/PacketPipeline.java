package io.periscope.core.pipeline;

import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.periscope.ebpf.packet.CaptureInterface;
import io.periscope.ebpf.packet.PacketHandler;
import io.periscope.ebpf.packet.PacketRing;
import io.periscope.ebpf.packet.PacketRingConfig;
import io.periscope.flowmap.DecodedPacket;
import io.periscope.flowmap.FlowTable;
import io.periscope.flowmap.FlowTableConfig;
import io.periscope.flowmap.PacketDecoder;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLogSink;
import io.periscope.sender.OtlpExporter;
import org.agrona.DirectBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Packets to flows: one reader thread per (interface, fanout reader), each with its own
 * {@link PacketRing} and its own {@link FlowTable} (PACKET_FANOUT_HASH is symmetric, so both
 * directions of a flow meet the same table: one writer per table, no locks). Flow logs go to the
 * exporter as OTLP log records plus flow metrics. With packet.l7_parsing each reader also
 * reassembles and parses its TCP streams into spans (for traffic eBPF cannot see; with eBPF on as
 * well, traffic of local processes is then reported twice, once per observation point).
 */
public final class PacketPipeline implements AutoCloseable {
    /** How long close() waits for a reader to export its open flows and stop. */
    private static final long READER_STOP_MILLIS = 30_000;
    private static final Logger LOG = LoggerFactory.getLogger(PacketPipeline.class);
    private static final int POLL_BATCH = 512;
    private static final int AWAIT_MILLIS = 100;
    private static final long TICK_INTERVAL_NANOS = 100_000_000L;
    /** A wait for packets shorter than this that found none means poll(2) is reporting an error. */
    private static final long MIN_AWAIT_NANOS = 1_000_000L;
    private static final long STATS_INTERVAL_NANOS = 1_000_000_000L;
    private static final int FANOUT_GROUP_BASE = 0x5e00;
    /** The instrumentation scope of the endpoint metrics (the span encoder's, for one name). */
    private static final String SCOPE_NAME = io.periscope.sender.SpanEncoder.SCOPE_NAME_VALUE;

    private final List<Reader> readers = new ArrayList<>();
    private final AtomicLong flowLogsDropped = new AtomicLong();
    private final AtomicLong interfacesSkipped = new AtomicLong();
    private final AtomicLong readersLeftRunning = new AtomicLong();
    private volatile boolean running;
    /** How long close() waits per reader; shorter only in tests. */
    private long readerStopMillis = READER_STOP_MILLIS;
    /** Runs before each flow log is exported (tests: a slow flush); null in production. */
    private Runnable beforeFlowExport;

    /** One ring, its decoder and its flow table, all on one thread. */
    private final class Reader implements PacketHandler, Runnable {
        private final PacketRing ring;
        private final FlowTable table;
        private final PacketDecoder decoder = new PacketDecoder();
        private final DecodedPacket packet = new DecodedPacket();
        private final boolean ethernet;
        private final Thread thread;
        private final AtomicLong packets = new AtomicLong();
        private final AtomicLong notTracked = new AtomicLong();
        private final AtomicLong pollErrors = new AtomicLong();
        /** L7 parsing of the packet streams (packet.l7_parsing), or null. */
        private final ProtocolEngine engine;
        private final PacketStreams streams;
        private final EndpointMetricsExport endpointMetrics;
        private final RequestLogSink sink;

        Reader(PacketRing ring, FlowTableConfig tableConfig, OtlpExporter exporter, String name,
                ProtocolEngine engine, RequestLogSink sink, boolean exportEndpointMetrics) {
            this.ring = ring;
            this.engine = engine;
            this.sink = sink;
            this.streams = engine == null ? null : new PacketStreams(engine, sink, tableConfig.maxFlows());
            FlowLogView view = new FlowLogView();
            this.endpointMetrics = exportEndpointMetrics
                    ? new EndpointMetricsExport(exporter::offerMetrics, exporter.agentResource().toProto(),
                            InstrumentationScope.newBuilder().setName(SCOPE_NAME).build())
                    : null;
            // Without an endpoint metrics handler the table does not aggregate per endpoint at all.
            this.table = new FlowTable(tableConfig, log -> {
                Runnable hook = beforeFlowExport;
                if (hook != null) {
                    hook.run();
                }
                if (!exporter.offerFlow(view.wrap(log), null)) {
                    flowLogsDropped.incrementAndGet();
                }
            }, endpointMetrics);
            this.ethernet = ring.linkType() == CaptureInterface.DLT_EN10MB;
            this.thread = new Thread(this, name);
            this.thread.setDaemon(true);
        }

        @Override
        public void onPacket(DirectBuffer buffer, int offset, int capturedLength, int wireLength, long timestampNanos,
                int ifindex, int direction) {
            int result = ethernet
                    ? decoder.decodeEthernet(buffer, offset, capturedLength, packet)
                    : decoder.decodeIp(buffer, offset, capturedLength, packet);
            if (result != PacketDecoder.OK) {
                notTracked.lazySet(notTracked.get() + 1);
                return;
            }
            if (!table.onPacket(packet, ifindex, timestampNanos)) {
                notTracked.lazySet(notTracked.get() + 1);
            }
            if (streams != null) {
                streams.onPacket(packet, buffer, offset + capturedLength, timestampNanos, ifindex);
            }
        }

        private long growthsLogged;
        private long growthFailuresLogged;

        /** Says when the ring grew, or could not (rare: at most a few times in a process's life). */
        private void logRingGrowth() {
            long grown = ring.growths();
            if (grown != growthsLogged) {
                growthsLogged = grown;
                LOG.info("packet ring on {} grew to {} blocks ({} KiB) after {} packets",
                        ring.captureInterface().name(), ring.blockCount(), ring.ringBytes() / 1024, ring.packets());
            }
            long failed = ring.growthFailures();
            if (failed != growthFailuresLogged) {
                growthFailuresLogged = failed;
                LOG.warn("packet ring on {} could not grow beyond {} blocks: {}", ring.captureInterface().name(),
                        ring.blockCount(), ring.lastGrowthFailure());
            }
        }

        @Override
        public void run() {
            long lastTick = 0;
            long lastStats = 0;
            try {
                while (running) {
                    int n = ring.poll(this, POLL_BATCH);
                    if (n > 0) {
                        packets.lazySet(packets.get() + n);
                    }
                    long now = System.nanoTime();
                    if (now - lastTick >= TICK_INTERVAL_NANOS) {
                        lastTick = now;
                        // Packet timestamps are wall-clock ns (CLOCK_REALTIME): tick on the same clock.
                        long wallNanos = System.currentTimeMillis() * 1_000_000L;
                        table.tick(wallNanos);
                        if (endpointMetrics != null) {
                            endpointMetrics.finish();
                        }
                        if (engine != null) {
                            engine.onTimerTick(wallNanos, sink);
                        }
                    }
                    if (now - lastStats >= STATS_INTERVAL_NANOS) {
                        lastStats = now;
                        ring.updateKernelStatistics();
                        logRingGrowth();
                    }
                    if (n == 0) {
                        long before = System.nanoTime();
                        if (!ring.awaitPackets(AWAIT_MILLIS) && System.nanoTime() - before < MIN_AWAIT_NANOS) {
                            // poll(2) came back at once with nothing (POLLERR: e.g. the interface went
                            // down): wait anyway rather than spin a core.
                            pollErrors.lazySet(pollErrors.get() + 1);
                            Thread.sleep(AWAIT_MILLIS);
                        }
                    }
                }
                // Flows still open at shutdown are reported with what they have so far.
                table.flush(System.currentTimeMillis() * 1_000_000L);
                if (endpointMetrics != null) {
                    endpointMetrics.finish();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.error("packet reader {} stopped: {}", thread.getName(), e.toString(), e);
            }
        }
    }

    /**
     * Opens a ring per interface and reader. An interface whose ring cannot be opened is skipped
     * with a warning (and counted); only when none can be opened does it throw.
     *
     * @throws IllegalStateException naming the interface and the failed step, when no ring opened
     * @throws IllegalArgumentException when the filter does not compile
     */
    public PacketPipeline(List<CaptureInterface> interfaces, int fanoutReaders, PacketRingConfig ringConfig,
            FlowTableConfig tableConfig, OtlpExporter exporter) {
        this(interfaces, fanoutReaders, ringConfig, tableConfig, exporter, null, null);
    }

    /**
     * As above, and when {@code engines} is not null each reader also reassembles its TCP streams
     * and parses them (packet.l7_parsing) into request logs for its own sink from {@code sinks}.
     */
    public PacketPipeline(List<CaptureInterface> interfaces, int fanoutReaders, PacketRingConfig ringConfig,
            FlowTableConfig tableConfig, OtlpExporter exporter, Supplier<ProtocolEngine> engines,
            Supplier<RequestLogSink> sinks) {
        this(interfaces, fanoutReaders, ringConfig, tableConfig, exporter, engines, sinks, false);
    }

    /**
     * As above, and when {@code exportEndpointMetrics} each reader's table also aggregates network
     * metrics per local endpoint, exported every {@link FlowTableConfig#metricsIntervalNanos}.
     */
    public PacketPipeline(List<CaptureInterface> interfaces, int fanoutReaders, PacketRingConfig ringConfig,
            FlowTableConfig tableConfig, OtlpExporter exporter, Supplier<ProtocolEngine> engines,
            Supplier<RequestLogSink> sinks, boolean exportEndpointMetrics) {
        if (interfaces.isEmpty()) {
            throw new IllegalStateException("no interface to capture on matches packet.interfaces; "
                    + "list them with `ip link` (loopback needs packet.include_loopback: true)");
        }
        RuntimeException firstFailure = null;
        for (CaptureInterface iface : interfaces) {
            List<Reader> opened = new ArrayList<>();
            try {
                for (int r = 0; r < fanoutReaders; r++) {
                    PacketRingConfig config = fanoutReaders > 1
                            ? ringConfig.withFanoutGroup(FANOUT_GROUP_BASE + iface.ifindex()) : ringConfig;
                    PacketRing ring = PacketRing.open(iface, config);
                    opened.add(new Reader(ring, tableConfig, exporter, "periscope-packets-" + iface.name() + "-" + r,
                            engines == null ? null : engines.get(), sinks == null ? null : sinks.get(),
                            exportEndpointMetrics));
                }
                readers.addAll(opened);
            } catch (IllegalArgumentException e) {
                // A filter that does not compile is wrong for every interface: say so at once.
                closeAll(opened);
                close();
                throw e;
            } catch (RuntimeException e) {
                // Interfaces come and go (another container's veth can vanish between listing and
                // bind): one that cannot be opened is skipped and named, the others still capture.
                closeAll(opened);
                interfacesSkipped.incrementAndGet();
                LOG.warn("not capturing on {}: {}", iface.name(), e.getMessage());
                if (firstFailure == null) {
                    firstFailure = e;
                }
            }
        }
        if (readers.isEmpty() && firstFailure != null) {
            throw firstFailure;
        }
    }

    /**
     * Test hook, before {@link #start()}: how long close() waits for each reader, and a task run
     * before each flow log export (to make a flush slow with a few flows).
     */
    void testHooks(long stopWaitMillis, Runnable beforeEachFlowExport) {
        this.readerStopMillis = stopWaitMillis;
        this.beforeFlowExport = beforeEachFlowExport;
    }

    public void start() {
        running = true;
        for (Reader reader : readers) {
            reader.thread.start();
        }
    }

    private static void closeAll(List<Reader> opened) {
        for (Reader reader : opened) {
            reader.ring.close();
            reader.table.close();
        }
    }

    /** Interfaces selected but not captured on because their ring could not be opened. */
    public long interfacesSkipped() {
        return interfacesSkipped.get();
    }

    /** Stops the readers (each flushes its open flows to the exporter) and closes the rings. */
    @Override
    public void close() {
        running = false;
        for (Reader reader : readers) {
            try {
                if (reader.thread.isAlive()) {
                    // The reader exports every open flow before it ends: hundreds of thousands of
                    // flows take seconds. Give it the time it needs, within a bound.
                    reader.thread.join(readerStopMillis);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (reader.thread.isAlive()) {
                // Unmapping the ring or the table under a running reader would crash the JVM
                // (SIGSEGV, seen at 677K flows when this waited 2 s). Leave both mapped: the
                // process is ending and the kernel frees them with it.
                readersLeftRunning.incrementAndGet();
                LOG.warn("packet reader {} still flushing after {} ms; leaving its ring and flow table mapped",
                        reader.thread.getName(), readerStopMillis);
                continue;
            }
            reader.ring.close();
            reader.table.close();
        }
    }

    /** Readers close() left running (still flushing) with their ring and table mapped. */
    public long readersLeftRunning() {
        return readersLeftRunning.get();
    }

    public long packets() {
        return readers.stream().mapToLong(r -> r.packets.get()).sum();
    }

    /** Packets not accounted to a flow: not IP, malformed, or the table was full. */
    public long packetsNotTracked() {
        return readers.stream().mapToLong(r -> r.notTracked.get()).sum();
    }

    public long kernelDrops() {
        return readers.stream().mapToLong(r -> r.ring.kernelDrops()).sum();
    }

    /** Bytes of packet ring mapped now, all readers (a growing ring's current size). */
    public long ringBytes() {
        return readers.stream().mapToLong(r -> r.ring.ringBytes()).sum();
    }

    /** Times a packet ring grew (doubled). */
    public long ringGrowths() {
        return readers.stream().mapToLong(r -> r.ring.growths()).sum();
    }

    /** Times a packet ring could not grow (it then keeps its size). */
    public long ringGrowthFailures() {
        return readers.stream().mapToLong(r -> r.ring.growthFailures()).sum();
    }

    public long flowsDropped() {
        return readers.stream().mapToLong(r -> r.table.flowsDropped()).sum();
    }

    public long flowsEvicted() {
        return readers.stream().mapToLong(r -> r.table.flowsEvicted()).sum();
    }

    /** Flow records sent before their interval ended because one of the flow's counters was full. */
    public long earlyFlowRecords() {
        return readers.stream().mapToLong(r -> r.table.earlyRecords()).sum();
    }

    public long activeFlows() {
        return readers.stream().mapToLong(r -> r.table.size()).sum();
    }

    public long flowLogsDropped() {
        return flowLogsDropped.get();
    }

    /** TCP holes given up by the packet stream reassembly (packet.l7_parsing). */
    public long streamGaps() {
        return readers.stream().filter(r -> r.streams != null).mapToLong(r -> r.streams.gaps()).sum();
    }

    /** Waits for packets that returned at once with none (the socket reports an error). */
    public long pollErrors() {
        return readers.stream().mapToLong(r -> r.pollErrors.get()).sum();
    }

    /** The interfaces captured on, for the log. */
    public List<String> interfaceNames() {
        return readers.stream().map(r -> r.ring.captureInterface().name()).distinct().toList();
    }

    public int readerCount() {
        return readers.size();
    }
}
