package io.periscope.bench.flow;

import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.periscope.sender.LogEncoder;
import io.periscope.sender.LogRecordMapper;
import io.periscope.sender.ProcessResource;
import io.periscope.sender.SpanEncoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The flow log export's encoding work per flow record, a batch of 2048 records (the exporter's
 * batch) per invocation, so the score is flow records per second on one thread:
 * <ul>
 * <li>{@code generated}: what the exporter did before: a protobuf {@code LogRecord} built per
 * record on the flow table's thread ({@link LogRecordMapper#flowLog}), then on the logs worker an
 * {@code ExportLogsServiceRequest} built from the batch, grouped by resource, and serialised;</li>
 * <li>{@code direct}: each record encoded to {@code LogRecord} bytes by
 * {@link LogEncoder#encodeFlowLog} and copied into a queue slot, then the slots length-prefixed
 * into the request by {@link LogEncoder#encodeEncoded} (the first step of this change);</li>
 * <li>{@code queuedFacts}: what the exporter does now: each record's facts copied into the
 * preallocated ring ({@link LogEncoder#writeFlowFacts}), then encoded straight into the request
 * ({@link LogEncoder#encodeFlows}).</li>
 * </ul>
 * All produce the same request bytes (up to the observed time). Each iteration also prints the
 * thread's CPU time per record ({@code [cpu]}), the figure to compare on a loaded machine.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FlowLogExportBenchmark {
    private static final int BATCH = 2048;
    private static final int SLOT_BYTES = 1024;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final TypicalFlow[] flows = new TypicalFlow[BATCH];
    private final ProcessResource[] resources = new ProcessResource[BATCH];
    private final byte[][] slots = new byte[BATCH][];
    private final int[] lengths = new int[BATCH];
    private final byte[] facts = new byte[BATCH * LogEncoder.FLOW_FACT_BYTES];
    private final LogRecordMapper mapper = new LogRecordMapper(0, 0);
    private final LogEncoder producer = LogEncoder.forRecords(0);
    private final LogEncoder worker = LogEncoder.forRequests(4 << 20, 0);
    private final InstrumentationScope scope = InstrumentationScope.newBuilder()
            .setName(SpanEncoder.SCOPE_NAME_VALUE).build();
    private long cpuAtStartNanos;
    private long records;

    @Setup(Level.Trial)
    public void setUp() {
        ProcessResource agent = ProcessResource.builder("periscope").hostName("node-1").pid(812).build();
        for (int i = 0; i < BATCH; i++) {
            flows[i] = TypicalFlow.of(i);
            resources[i] = agent;
            slots[i] = new byte[SLOT_BYTES];
        }
    }

    @Setup(Level.Iteration)
    public void startClock() {
        cpuAtStartNanos = THREADS.getCurrentThreadCpuTime();
        records = 0;
    }

    @TearDown(Level.Iteration)
    public void printCpu() {
        if (records > 0) {
            System.out.printf("%n[cpu] %.0f ns CPU per flow record%n",
                    (double) (THREADS.getCurrentThreadCpuTime() - cpuAtStartNanos) / records);
        }
    }

    /** Before: generated builders per record, a request object per batch, then its bytes. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void generated(Blackhole bh) {
        List<LogRecord> batch = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            batch.add(mapper.flowLog(flows[i]));
        }
        Map<ProcessResource, List<LogRecord>> byResource = new IdentityHashMap<>();
        for (int i = 0; i < BATCH; i++) {
            byResource.computeIfAbsent(resources[i], k -> new ArrayList<>()).add(batch.get(i));
        }
        ExportLogsServiceRequest.Builder req = ExportLogsServiceRequest.newBuilder();
        for (Map.Entry<ProcessResource, List<LogRecord>> e : byResource.entrySet()) {
            req.addResourceLogs(ResourceLogs.newBuilder().setResource(e.getKey().toProto())
                    .addScopeLogs(ScopeLogs.newBuilder().setScope(scope).addAllLogRecords(e.getValue())));
        }
        ExportLogsServiceRequest built = req.build();
        bh.consume(built.getSerializedSize());
        bh.consume(built.toByteArray());
        records += BATCH;
    }

    /**
     * Now: each record's facts copied into the queue's ring (the packet reader's part), then encoded
     * straight into the request on the logs worker.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void queuedFacts(Blackhole bh) {
        long observed = System.currentTimeMillis() * 1_000_000L;
        for (int i = 0; i < BATCH; i++) {
            LogEncoder.writeFlowFacts(flows[i], observed, facts, i * LogEncoder.FLOW_FACT_BYTES);
        }
        worker.encodeFlows(facts, resources, BATCH, (bytes, length, count) -> bh.consume(length));
        records += BATCH;
    }

    /** The first step of this session: each record encoded on the producer, then framed. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void direct(Blackhole bh) {
        long observed = System.currentTimeMillis() * 1_000_000L;
        for (int i = 0; i < BATCH; i++) {
            int n = producer.encodeFlowLog(flows[i], observed);
            System.arraycopy(producer.recordBytes(), 0, slots[i], 0, n);
            lengths[i] = n;
        }
        worker.encodeEncoded(slots, lengths, resources, BATCH, (bytes, length, count) -> bh.consume(length));
        records += BATCH;
    }
}
