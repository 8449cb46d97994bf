package io.periscope.bench.sender;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.periscope.protocols.RequestLog;
import io.periscope.sender.OtlpJson;
import io.periscope.sender.OtlpJsonWriter;
import io.periscope.sender.ProcessResource;
import io.periscope.sender.Signal;
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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The file exporter's work per batch of 512 typical HTTP spans, on one thread: encode to OTLP
 * protobuf ({@link SpanEncoder}), turn into one OTLP/JSON line, write it to a file. The score is
 * spans per second.
 *
 * <p>{@code jsonFormat} is the path before the direct writer (parse into generated classes,
 * {@code JsonFormat}, base64-to-hex id rewrite, String to UTF-8); {@code direct} is
 * {@link OtlpJsonWriter}. Each line is written at offset 0 of a temp file, so the benchmark
 * pays the write system call into the page cache without filling the disk.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SpanFileExportBenchmark {
    private static final int BATCH = 512;

    private final RequestLog[] records = new RequestLog[BATCH];
    private final ProcessResource[] resources = new ProcessResource[BATCH];
    private final OtlpJsonWriter writer = new OtlpJsonWriter();
    private SpanEncoder encoder;
    private Path file;
    private FileChannel channel;
    private ByteBuffer wrapped;
    private byte[] encoded;
    private long bytes;
    private long spansThisIteration;
    private long cpuAtStartNanos;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final SpanEncoder.RequestSink direct = (request, length, spans) -> {
        try {
            int n = writer.write(Signal.TRACES, request, length);
            byte[] json = writer.array();
            if (wrapped == null || wrapped.array() != json) {
                wrapped = ByteBuffer.wrap(json);
            }
            wrapped.clear().limit(n);
            bytes += channel.write(wrapped, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    };

    private final SpanEncoder.RequestSink jsonFormat = (request, length, spans) -> {
        try {
            ExportTraceServiceRequest parsed = ExportTraceServiceRequest.parser().parseFrom(request, 0, length);
            byte[] line = (OtlpJson.print(parsed) + "\n").getBytes(StandardCharsets.UTF_8);
            bytes += channel.write(ByteBuffer.wrap(line), 0);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    };

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        SpanEncodeBenchmark.typicalSpans(records, resources);
        encoder = new SpanEncoder(1_700_000_000_000_000_000L, 0, 4 * 1024 * 1024, 42);
        encoder.encode(records, resources, BATCH, (request, length, spans) -> {
            encoded = java.util.Arrays.copyOf(request, length);
        });
        file = Files.createTempFile("periscope-bench-otlp", ".jsonl");
        channel = FileChannel.open(file, StandardOpenOption.WRITE);
    }

    @Setup(Level.Iteration)
    public void startCpuClock() {
        spansThisIteration = 0;
        cpuAtStartNanos = THREADS.getCurrentThreadCpuTime();
    }

    /**
     * The machine is shared, so wall-clock throughput says more about the neighbours than about
     * this code: also print spans per second of this thread's own CPU time.
     */
    @TearDown(Level.Iteration)
    public void printCpuRate() {
        long cpuNanos = THREADS.getCurrentThreadCpuTime() - cpuAtStartNanos;
        if (cpuNanos > 0) {
            System.out.printf("%n[cpu] %.0f spans per CPU-second (%.0f ns CPU per span)%n",
                    spansThisIteration * 1e9 / cpuNanos, (double) cpuNanos / spansThisIteration);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        channel.close();
        Files.deleteIfExists(file);
    }

    /** The direct writer: protobuf bytes to JSON bytes in a reused buffer. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void direct(Blackhole bh) {
        bytes = 0;
        encoder.encode(records, resources, BATCH, direct);
        spansThisIteration += BATCH;
        bh.consume(bytes);
    }

    /** Encoding alone (the reference for the CPU share of the JSON writer, same conditions). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void encodeOnly(Blackhole bh) {
        bytes = 0;
        encoder.encode(records, resources, BATCH, (request, length, spans) -> bytes += length);
        spansThisIteration += BATCH;
        bh.consume(bytes);
    }

    /** The direct writer alone on one pre-encoded request of 512 spans (no encoding, no write). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int transcodeOnly() throws InvalidProtocolBufferException {
        spansThisIteration += BATCH;
        return writer.write(Signal.TRACES, encoded, encoded.length);
    }

    /** The previous path: generated classes and protobuf's JsonFormat. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void jsonFormat(Blackhole bh) {
        bytes = 0;
        encoder.encode(records, resources, BATCH, jsonFormat);
        spansThisIteration += BATCH;
        bh.consume(bytes);
    }
}
