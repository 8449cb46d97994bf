package io.periscope.sender;

import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.periscope.protocols.RequestLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * periscope's telemetry exit: takes request logs, flows, log records and counters from the
 * pipeline and ships them as OTLP traces, metrics and logs, to a collector over gRPC or to an
 * OTLP JSON lines file.
 *
 * <p>Every {@code offer*} call returns at once: it copies into a bounded queue or drops and
 * counts ({@link #counters(Signal)}); a span is encoded by the offering thread, while batching,
 * the other signals' encoding and network I/O happen on the exporter's own threads (one per
 * signal, or more for traces, plus the metrics timer).
 */
public final class OtlpExporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OtlpExporter.class);
    /** After the deadline, how long aborted workers get to notice and settle their counts. */
    private static final long ABORT_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Slot arrays above this size go back to the heap after export instead of staying in the ring. */
    private static final int SLOT_KEEP_BYTES = 4096;

    private final SenderConfig config;
    private final ProcessResource agentResource;
    private final Map<Signal, SignalCounters> counters = new EnumMap<>(Signal.class);
    private final ExportTransport transport;
    private final Delivery delivery;
    private final SpanQueue spans;
    /** Flow logs: each record's facts in a preallocated ring, encoded on the logs worker. */
    private final FlowLogQueue flowLogs;
    /** Other log records (rare: request logs as logs, {@link #offerLog}) as {@code LogRecord} bytes. */
    private final SpanQueue logs;
    private final ItemQueue<ExportMetricsServiceRequest> metrics;
    private final MetricsAggregator aggregator;
    private final LogRecordMapper logMapper;
    private final List<Thread> workers = new ArrayList<>();
    private final Thread metricsTimer;
    private final Object shutdownLock = new Object();
    private volatile boolean shuttingDown;
    private ShutdownReport report;
    private final AtomicLong invalidUtf8Fields = new AtomicLong();
    /**
     * Each producer (parse shard) thread encodes its own spans: no lock, and the span's bytes are
     * written while its record is still hot in that thread's cache.
     */
    private final ThreadLocal<SpanEncoder> spanEncoders;
    private final AtomicBoolean unencodableLogged = new AtomicBoolean();

    private OtlpExporter(SenderConfig config, ProcessResource agentResource, ExportTransport transport) {
        this.config = config;
        this.agentResource = agentResource;
        for (Signal s : Signal.values()) {
            counters.put(s, new SignalCounters(s));
        }
        this.transport = transport;
        this.delivery = new Delivery(transport, config, counters);
        this.spans = new SpanQueue(config.queueCapacity(Signal.TRACES), config.dropPolicy(), config.maxBatchSize(),
                counters.get(Signal.TRACES));
        this.flowLogs = new FlowLogQueue(config.queueCapacity(Signal.LOGS), config.dropPolicy(),
                config.maxBatchSize(), counters.get(Signal.LOGS));
        this.logs = new SpanQueue(config.queueCapacity(Signal.LOGS), config.dropPolicy(), config.maxBatchSize(),
                counters.get(Signal.LOGS));
        // A metrics "item" is a whole collection: batching them further only delays them.
        this.metrics = new ItemQueue<>(config.queueCapacity(Signal.METRICS), config.dropPolicy(), 1,
                counters.get(Signal.METRICS));
        this.aggregator = new MetricsAggregator(config.maxSeriesPerMetric(), agentResource);
        this.logMapper = new LogRecordMapper(config.syscallClockOffsetNanos(), config.packetClockOffsetNanos());
        this.spanEncoders = ThreadLocal.withInitial(() -> SpanEncoder.forSpans(config.syscallClockOffsetNanos(),
                config.packetClockOffsetNanos(), config.maxMessageBytes(),
                ThreadLocalRandom.current().nextLong() ^ System.nanoTime()));
        aggregator.registerSelfCounters(counters);
        for (int i = 0; i < config.traceExportThreads(); i++) {
            workers.add(new Thread(this::runSpans, "periscope-export-traces-" + i));
        }
        workers.add(new Thread(this::runFlowLogs, "periscope-export-logs"));
        workers.add(new Thread(this::runLogs, "periscope-export-logs-other"));
        workers.add(new Thread(this::runMetrics, "periscope-export-metrics"));
        metricsTimer = new Thread(this::runMetricsTimer, "periscope-metrics-timer");
        for (Thread t : workers) {
            t.setDaemon(true);
            t.start();
        }
        metricsTimer.setDaemon(true);
        metricsTimer.start();
    }

    /**
     * Starts an exporter. With a gRPC destination the connection is made lazily and re-made after
     * failures: a collector that is down at start is not an error, its data waits in the queues.
     *
     * @param agentResource the resource of the agent itself: its own metrics, and flows with no
     *                      process of their own
     */
    public static OtlpExporter start(SenderConfig config, ProcessResource agentResource) {
        ExportTransport transport = config.destination() == SenderConfig.Destination.GRPC
                ? new GrpcTransport(config)
                : new OtlpJsonFileTransport(config.filePath(), config.fileMaxBytes(), config.fileMaxBackups());
        return new OtlpExporter(config, agentResource, transport);
    }

    // ---- the producer side: never blocks on I/O ----

    /**
     * Offers one request log: it becomes a span, feeds the RED metrics, and (when configured)
     * an OTLP log record. The span is encoded on the calling thread and its bytes queued; the
     * caller may reuse the record at once.
     *
     * @return false when the span was dropped (queue full with drop-newest, or shut down)
     */
    public boolean offer(RequestLog record, ProcessResource resource) {
        aggregator.recordRequest(record, resource);
        if (config.requestLogsAsLogs()) {
            offerLog(logMapper.requestLog(record), resource);
        }
        if (spans.refuseIfFull()) {
            return false;
        }
        SpanEncoder encoder = spanEncoders.get();
        long invalidBefore = encoder.invalidUtf8Fields();
        int length;
        try {
            length = encoder.encodeSpan(record, resource);
        } catch (RuntimeException e) {
            // A bug of ours must not reach the parse shard: the span is dropped and counted.
            spans.countUnencodable();
            if (unencodableLogged.compareAndSet(false, true)) {
                LOG.error("could not encode a span (dropped; further failures are only counted)", e);
            }
            return false;
        }
        long invalid = encoder.invalidUtf8Fields() - invalidBefore;
        if (invalid != 0) {
            invalidUtf8Fields.addAndGet(invalid);
        }
        return spans.offer(encoder.spanBytes(), length, resource);
    }

    /**
     * Counts one request log in the RED metrics only, with no span and no log record: for request
     * logs the agent's resource guard sampled out, so the request, error and duration metrics
     * still cover every request while fewer spans are exported. Never blocks, never drops.
     */
    public void offerMetricsOnly(RequestLog record, ProcessResource resource) {
        aggregator.recordRequest(record, resource);
    }

    /**
     * Offers a finished (or periodically reported) flow: a flow log record plus flow metrics.
     * The flow's facts are copied into the flow log queue (nothing allocated) and encoded to OTLP
     * on the logs worker; the caller may reuse {@code flow} at once.
     *
     * @return false when the flow log was dropped (queue full with drop-newest, or shut down);
     *         the flow metrics count it either way
     */
    public boolean offerFlow(FlowRecord flow, ProcessResource resource) {
        ProcessResource r = resource == null ? agentResource : resource;
        aggregator.recordFlow(flow, r);
        try {
            return flowLogs.offer(flow, r, System.currentTimeMillis() * 1_000_000L);
        } catch (RuntimeException e) {
            // Counted as dropped by the queue; a bad record must not reach the packet reader.
            if (unencodableLogged.compareAndSet(false, true)) {
                LOG.error("could not queue a flow log (dropped; further failures are only counted)", e);
            }
            return false;
        }
    }

    /**
     * Offers a metrics request built elsewhere (e.g. the packet readers' per-second endpoint
     * metrics, which carry their own resource); one queue item, dropped and counted like any
     * other when the metrics queue is full.
     */
    public boolean offerMetrics(ExportMetricsServiceRequest request) {
        return metrics.offer(request, agentResource, MetricsAggregator.pointCount(request));
    }

    /** The agent's own resource (host, agent process), for requests built outside the exporter. */
    public ProcessResource agentResource() {
        return agentResource;
    }

    /**
     * Offers any other OTLP log record (serialised here, on the calling thread; a record over
     * 64 KiB is dropped and counted, as a span would be).
     */
    public boolean offerLog(LogRecord record, ProcessResource resource) {
        if (logs.refuseIfFull()) {
            return false;
        }
        byte[] bytes = record.toByteArray();
        return logs.offer(bytes, bytes.length, resource == null ? agentResource : resource);
    }

    /**
     * Exports {@code value} as a monotonic counter of the agent's own (e.g. events read, ring
     * buffer drops); read once per metrics interval on the metrics thread.
     */
    public void registerCounter(String name, String unit, String description, LongSupplier value) {
        aggregator.registerCounter(name, unit, description, value);
    }

    /** Exports {@code value} as a gauge of the agent's own (e.g. flows tracked). */
    public void registerGauge(String name, String unit, String description, LongSupplier value) {
        aggregator.registerGauge(name, unit, description, value);
    }

    /** The live counters of {@code signal}. */
    public SignalCounters counters(Signal signal) {
        return counters.get(signal);
    }

    /** Series folded into the {@code other} bucket by the cardinality guard since start. */
    public long cardinalityOverflows() {
        return aggregator.overflows();
    }

    /** Text fields sent with replacement characters because they were not valid UTF-8. */
    public long invalidUtf8Fields() {
        return invalidUtf8Fields.get();
    }

    /** Sends what is queued without waiting for batches to fill (does not wait for delivery). */
    public void flush() {
        spans.flush();
        flowLogs.flush();
        logs.flush();
        metrics.flush();
    }

    /** Collects metrics now and queues them (normally done every metrics interval). */
    public void collectMetrics() {
        for (ExportMetricsServiceRequest req : aggregator.collect(config.maxMessageBytes())) {
            metrics.offer(req, agentResource, MetricsAggregator.pointCount(req));
        }
    }

    // ---- the worker side ----

    private void runSpans() {
        SplittableRandom random = new SplittableRandom(System.nanoTime() ^ Thread.currentThread().getId());
        SpanEncoder encoder = new SpanEncoder(config.syscallClockOffsetNanos(), config.packetClockOffsetNanos(),
                config.maxMessageBytes(), random.nextLong());
        runEncoded(spans, Signal.TRACES, encoder::encodeEncoded, random, "spans");
    }

    /** A batch encoder of records already encoded one by one (spans, or log records). */
    @FunctionalInterface
    private interface BatchEncoder {
        void encode(byte[][] records, int[] lengths, ProcessResource[] resources, int count,
                SpanEncoder.RequestSink sink);
    }

    /**
     * The worker loop of a queue of encoded records: takes a batch, wraps it into requests and
     * hands them to delivery, until the queue is closed and drained.
     */
    private void runEncoded(SpanQueue queue, Signal signal, BatchEncoder encoder, SplittableRandom random,
            String what) {
        // A batch never holds more than the queue does: no spare records beyond that.
        int batch = Math.min(config.maxBatchSize(), config.queueCapacity(signal));
        byte[][] spare = new byte[batch][];
        int[] lengths = new int[batch];
        ProcessResource[] resources = new ProcessResource[batch];
        long maxDelayNanos = config.maxBatchDelay().toNanos();
        int[] handedOver = new int[1];
        SpanEncoder.RequestSink sink = (bytes, length, count) -> {
            handedOver[0] += count;
            delivery.send(signal, bytes, length, count, random);
        };
        while (true) {
            int n = queue.takeBatch(spare, lengths, resources, maxDelayNanos);
            if (n == 0) {
                return;
            }
            handedOver[0] = 0;
            try {
                encoder.encode(spare, lengths, resources, n, sink);
            } catch (RuntimeException e) {
                // A bug of ours must not kill the export thread: the records not yet handed to
                // delivery (which settles its own) are counted as failed.
                int lost = n - handedOver[0];
                LOG.error("could not encode {} {}", lost, what, e);
                counters.get(signal).failed.add(lost);
                counters.get(signal).pending.add(-lost);
            }
            java.util.Arrays.fill(resources, 0, n, null);
            for (int k = 0; k < n; k++) {
                // A rare huge record must not keep its array in the pool for good.
                if (spare[k] != null && spare[k].length > SLOT_KEEP_BYTES) {
                    spare[k] = null;
                }
            }
        }
    }

    private void runFlowLogs() {
        int batch = Math.min(config.maxBatchSize(), config.queueCapacity(Signal.LOGS));
        byte[] records = new byte[batch * FlowLogQueue.RECORD_BYTES];
        ProcessResource[] resources = new ProcessResource[batch];
        SplittableRandom random = new SplittableRandom(System.nanoTime());
        LogEncoder encoder = LogEncoder.forRequests(config.maxMessageBytes(), config.packetClockOffsetNanos());
        long maxDelayNanos = config.maxBatchDelay().toNanos();
        int[] handedOver = new int[1];
        SpanEncoder.RequestSink sink = (bytes, length, count) -> {
            handedOver[0] += count;
            delivery.send(Signal.LOGS, bytes, length, count, random);
        };
        while (true) {
            int n = flowLogs.takeBatch(records, resources, maxDelayNanos);
            if (n == 0) {
                return;
            }
            handedOver[0] = 0;
            try {
                encoder.encodeFlows(records, resources, n, sink);
            } catch (RuntimeException e) {
                int lost = n - handedOver[0];
                LOG.error("could not encode {} flow logs", lost, e);
                counters.get(Signal.LOGS).failed.add(lost);
                counters.get(Signal.LOGS).pending.add(-lost);
            }
            java.util.Arrays.fill(resources, 0, n, null);
        }
    }

    private void runLogs() {
        LogEncoder encoder = LogEncoder.forRequests(config.maxMessageBytes(), config.packetClockOffsetNanos());
        runEncoded(logs, Signal.LOGS, encoder::encodeEncoded, new SplittableRandom(System.nanoTime()),
                "log records");
    }

    private void runMetrics() {
        List<ItemQueue.Entry<ExportMetricsServiceRequest>> batch = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(System.nanoTime());
        while (true) {
            batch.clear();
            int n = metrics.takeBatch(batch, 0);
            if (n == 0) {
                return;
            }
            for (ItemQueue.Entry<ExportMetricsServiceRequest> e : batch) {
                sendMessage(Signal.METRICS, e.item(), e.weight(), random);
            }
        }
    }

    private void sendMessage(Signal signal, Message message, int items, SplittableRandom random) {
        byte[] bytes = message.toByteArray();
        delivery.send(signal, bytes, bytes.length, items, random);
    }

    static InstrumentationScope scope() {
        return InstrumentationScope.newBuilder().setName(SpanEncoder.SCOPE_NAME_VALUE).build();
    }

    private void runMetricsTimer() {
        long intervalNanos = config.metricsInterval().toNanos();
        while (!shuttingDown) {
            try {
                TimeUnit.NANOSECONDS.sleep(intervalNanos);
            } catch (InterruptedException e) {
                return;
            }
            if (!shuttingDown) {
                collectMetrics();
            }
        }
    }

    // ---- shutdown ----

    /**
     * Stops accepting, exports what is queued (with a last metrics collection) and waits at most
     * {@code deadline}; whatever is still queued or in flight then is abandoned and reported.
     * Idempotent: later calls return the first report.
     */
    public ShutdownReport shutdown(Duration deadline) {
        synchronized (shutdownLock) {
            if (report != null) {
                return report;
            }
            long deadlineNanos = System.nanoTime() + deadline.toNanos();
            shuttingDown = true;
            metricsTimer.interrupt();
            joinQuietly(metricsTimer, deadlineNanos);
            collectMetrics();
            spans.close();
            flowLogs.close();
            logs.close();
            metrics.close();
            boolean all = true;
            for (Thread t : workers) {
                all &= joinQuietly(t, deadlineNanos);
            }
            Map<Signal, Long> unflushed = new EnumMap<>(Signal.class);
            if (!all) {
                for (Signal s : Signal.values()) {
                    unflushed.put(s, counters.get(s).pending());
                }
                delivery.abort();
                // Queued items never reach a worker now: settle them as failed.
                settleDiscarded(Signal.TRACES, spans.discard());
                settleDiscarded(Signal.LOGS, flowLogs.discard());
                settleDiscarded(Signal.LOGS, logs.discard());
                settleDiscarded(Signal.METRICS, metrics.discard());
                for (Thread t : workers) {
                    t.interrupt();
                }
                transport.close();
                for (Thread t : workers) {
                    joinQuietly(t, System.nanoTime() + ABORT_GRACE_NANOS);
                }
                LOG.warn("shutdown deadline of {} passed; not flushed: {}", deadline, unflushed);
            } else {
                transport.close();
                for (Signal s : Signal.values()) {
                    unflushed.put(s, 0L);
                }
            }
            report = new ShutdownReport(all, Collections.unmodifiableMap(new LinkedHashMap<>(unflushed)));
            return report;
        }
    }

    private void settleDiscarded(Signal signal, long items) {
        counters.get(signal).failed.add(items);
        counters.get(signal).pending.add(-items);
    }

    private static boolean joinQuietly(Thread t, long deadlineNanos) {
        try {
            long waitNanos = deadlineNanos - System.nanoTime();
            if (waitNanos > 0) {
                TimeUnit.NANOSECONDS.timedJoin(t, waitNanos);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }

    /** Shuts down with a 10 s deadline. */
    @Override
    public void close() {
        shutdown(Duration.ofSeconds(10));
    }
}
