package io.periscope.bench.sender;

import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Typical HTTP server spans encoded to OTLP {@code ExportTraceServiceRequest} bytes, a batch of
 * 512 per invocation (the exporter's default batch), so the score is spans per second on one
 * thread. {@code encodeAndGzip} adds the gzip that gRPC applies with compression on.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SpanEncodeBenchmark {
    private static final int BATCH = 512;

    private final RequestLog[] records = new RequestLog[BATCH];
    private final ProcessResource[] resources = new ProcessResource[BATCH];
    private SpanEncoder encoder;
    private final CountingSink sink = new CountingSink();
    private final NullOutputStream nullOut = new NullOutputStream();

    /**
     * 0: every span from a peer port of its own (no two spans share a connection); 64: the spans
     * of 64 keep-alive connections, as in bench B (the encoder reuses each connection's attributes).
     */
    @Param({"0", "64"})
    public int keepAliveConnections;

    @Setup(Level.Trial)
    public void setUp() {
        typicalSpans(records, resources);
        if (keepAliveConnections > 0) {
            for (int i = 0; i < BATCH; i++) {
                int c = i % keepAliveConnections;
                records[i].socketId(1000 + c).remotePort(40000 + c);
                records[i].remoteAddress()[2] = 0;
                records[i].remoteAddress()[3] = (byte) c;
                records[i].tid(4243 + c % 4);
                resources[i] = resources[c];
            }
        }
        encoder = new SpanEncoder(1_700_000_000_000_000_000L, 0, 4 * 1024 * 1024, 42);
    }

    /** Fills {@code records} with typical HTTP server request logs of two processes. */
    static void typicalSpans(RequestLog[] records, ProcessResource[] resources) {
        int count = records.length;
        ProcessResource nginx = ProcessResource.builder("nginx").hostName("node-1").pid(4242)
                .executableName("nginx").containerId("3f4e8a1b2c").build();
        ProcessResource api = ProcessResource.builder("api").hostName("node-1").pid(777)
                .executableName("java").build();
        for (int i = 0; i < count; i++) {
            RequestLog r = new RequestLog();
            r.captureSource(CaptureSource.SYSCALL).pid(4242).tid(4243 + i % 4).socketId(1000 + i % 64)
                    .role(Role.SERVER).ipVersion(4).localPort(8080).remotePort(40000 + i).l4Protocol(6)
                    .syscallTraceIdRequest(100_000 + i).syscallTraceIdResponse(100_001 + i)
                    .tcpSeqRequest(1_000_000L + i * 300L).tcpSeqResponse(2_000_000L + i * 900L)
                    .protocol(L7Protocol.HTTP1).statusCode(i % 50 == 0 ? 503 : 200)
                    .statusClass(i % 50 == 0 ? StatusClass.SERVER_ERROR : StatusClass.OK)
                    .requestBytes(180).responseBytes(612)
                    .startNanos(1_000_000_000L + i * 10_000L).endNanos(1_000_000_000L + i * 10_000L + 850_000);
            r.comm().setAscii("nginx");
            r.localAddress()[0] = 10;
            r.localAddress()[3] = 5;
            r.remoteAddress()[0] = 10;
            r.remoteAddress()[2] = (byte) (i / 256);
            r.remoteAddress()[3] = (byte) i;
            r.version().setAscii("1.1");
            r.method().setAscii(i % 4 == 0 ? "POST" : "GET");
            r.resource().setAscii("/api/v1/users/" + (10_000 + i) + "/orders?page=2");
            r.endpoint().setAscii("/api/v1/users/{id}/orders");
            r.host().setAscii("shop.example.com");
            r.userAgent().setAscii("Mozilla/5.0 (X11; Linux x86_64) curl/7.88.1");
            if (i % 2 == 0) {
                for (int b = 0; b < 16; b++) {
                    r.traceId()[b] = (byte) (i + b + 1);
                }
                for (int b = 0; b < 8; b++) {
                    r.parentSpanId()[b] = (byte) (i + b + 7);
                }
                r.hasTraceContext(true).sampled(true);
            }
            records[i] = r;
            resources[i] = i % 8 == 0 ? api : nginx;
        }
    }

    /** Spans to request bytes: what the trace worker does per batch before gRPC takes the bytes. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void encode(Blackhole bh) {
        sink.bytes = 0;
        encoder.encode(records, resources, BATCH, sink);
        bh.consume(sink.bytes);
    }

    /**
     * The producers' half of today's path: each span encoded on its own ({@code encodeSpan}) and
     * copied into a queue slot, as {@code OtlpExporter.offer} does on the parse shard.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void encodeSpansOneByOne(Blackhole bh) {
        ensureEncoded();
        int total = 0;
        for (int i = 0; i < BATCH; i++) {
            int n = spanEncoder.encodeSpan(records[i]);
            System.arraycopy(spanEncoder.spanBytes(), 0, encodedSpans[i], 0, n);
            spanLengths[i] = n;
            total += n;
        }
        bh.consume(total);
    }

    /**
     * The traces worker's half of today's path: already-encoded spans grouped by resource and
     * length-prefixed into requests. With {@link #encodeSpansOneByOne} it is the whole CPU a span
     * costs before gRPC; {@link #encode} is the path before (all of it on the worker).
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void concatenateEncoded(Blackhole bh) {
        ensureEncoded();
        sink.bytes = 0;
        encoder.encodeEncoded(encodedSpans, spanLengths, resources, BATCH, sink);
        bh.consume(sink.bytes);
    }

    private SpanEncoder spanEncoder;
    private final byte[][] encodedSpans = new byte[BATCH][];
    private final int[] spanLengths = new int[BATCH];

    private void ensureEncoded() {
        if (spanEncoder != null) {
            return;
        }
        spanEncoder = new SpanEncoder(1_700_000_000_000_000_000L, 0, 4 * 1024 * 1024, 43);
        for (int i = 0; i < BATCH; i++) {
            int n = spanEncoder.encodeSpan(records[i]);
            encodedSpans[i] = new byte[4096];
            System.arraycopy(spanEncoder.spanBytes(), 0, encodedSpans[i], 0, n);
            spanLengths[i] = n;
        }
    }

    /** As {@link #encode} plus gzip at gRPC's level (java.util.zip default), into a null stream. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void encodeAndGzip(Blackhole bh) throws IOException {
        sink.bytes = 0;
        sink.gzip = true;
        encoder.encode(records, resources, BATCH, sink);
        sink.gzip = false;
        bh.consume(sink.bytes);
    }

    /** As {@link #encodeAndGzip} with the fastest deflate level. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void encodeAndGzipFastest(Blackhole bh) throws IOException {
        sink.bytes = 0;
        sink.gzip = true;
        sink.level = Deflater.BEST_SPEED;
        encoder.encode(records, resources, BATCH, sink);
        sink.gzip = false;
        sink.level = Deflater.DEFAULT_COMPRESSION;
        bh.consume(sink.bytes);
    }

    private final class CountingSink implements SpanEncoder.RequestSink {
        long bytes;
        boolean gzip;
        int level = Deflater.DEFAULT_COMPRESSION;

        @Override
        public void accept(byte[] request, int length, int spanCount) {
            bytes += length;
            if (gzip) {
                try (GZIPOutputStream z = new LevelGzip(nullOut, level)) {
                    z.write(request, 0, length);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** GZIPOutputStream with a chosen level (what a custom gRPC compressor would do). */
    private static final class LevelGzip extends GZIPOutputStream {
        LevelGzip(OutputStream out, int level) throws IOException {
            super(out, 64 * 1024);
            def.setLevel(level);
        }
    }

    /** Discards bytes (so only compression is measured). */
    private static final class NullOutputStream extends OutputStream {
        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b, int off, int len) {
        }
    }
}
