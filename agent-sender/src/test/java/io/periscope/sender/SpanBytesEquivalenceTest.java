package io.periscope.sender;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spans encoded one at a time on the producer and then only concatenated by the worker
 * ({@link SpanEncoder#encodeSpan} + {@link SpanEncoder#encodeEncoded}) must export what encoding
 * the whole batch of records at once ({@link SpanEncoder#encode}) exports: same requests, same
 * split points, same spans and attributes. Only the random ids differ (each path draws its own),
 * so they are checked for shape and then blanked before comparing.
 */
class SpanBytesEquivalenceTest {
    private static final L7Protocol[] PROTOCOLS = L7Protocol.values();
    private static final StatusClass[] CLASSES = StatusClass.values();
    private static final Role[] ROLES = Role.values();

    @Test
    void perSpanBytesExportTheSameRequestsAsWholeBatchEncoding() throws Exception {
        SplittableRandom rnd = new SplittableRandom(20261122);
        ProcessResource[] pool = {
            ProcessResource.builder("nginx").hostName("node-1").pid(1).build(),
            ProcessResource.builder("redis").hostName("node-1").pid(2).containerId("abc").build(),
            ProcessResource.builder("agent").hostName("node-1").build(),
        };
        int batches = 0;
        for (int round = 0; round < 300; round++) {
            int count = 1 + rnd.nextInt(300);
            // Small limits force splits inside and between resource groups; large ones do not split.
            int maxBytes = rnd.nextBoolean() ? 4096 + rnd.nextInt(16384) : 4 << 20;
            RequestLog[] records = new RequestLog[count];
            ProcessResource[] resources = new ProcessResource[count];
            for (int i = 0; i < count; i++) {
                records[i] = randomRecord(rnd);
                resources[i] = pool[rnd.nextInt(rnd.nextInt(4) == 0 ? 1 : pool.length)];
            }
            SpanEncoder whole = new SpanEncoder(1_700_000_000_000_000_000L, 5, maxBytes, rnd.nextLong());
            List<byte[]> expected = new ArrayList<>();
            List<Integer> expectedCounts = new ArrayList<>();
            whole.encode(records, resources, count, (b, n, spans) -> {
                expected.add(Arrays.copyOf(b, n));
                expectedCounts.add(spans);
            });

            SpanEncoder producer = SpanEncoder.forSpans(1_700_000_000_000_000_000L, 5, maxBytes, rnd.nextLong());
            byte[][] spans = new byte[count][];
            int[] lengths = new int[count];
            for (int i = 0; i < count; i++) {
                lengths[i] = producer.encodeSpan(records[i], resources[i]);
                spans[i] = Arrays.copyOf(producer.spanBytes(), lengths[i] + rnd.nextInt(3));
            }
            SpanEncoder worker = new SpanEncoder(0, 0, maxBytes, 1);
            List<byte[]> actual = new ArrayList<>();
            List<Integer> actualCounts = new ArrayList<>();
            worker.encodeEncoded(spans, lengths, resources, count, (b, n, s) -> {
                actual.add(Arrays.copyOf(b, n));
                actualCounts.add(s);
            });

            assertThat(actualCounts).isEqualTo(expectedCounts);
            // The whole-batch path re-encodes a span that opens a new request, counting its bad fields twice.
            if (expected.size() == 1) {
                assertThat(producer.invalidUtf8Fields()).isEqualTo(whole.invalidUtf8Fields());
            } else {
                assertThat(producer.invalidUtf8Fields()).isLessThanOrEqualTo(whole.invalidUtf8Fields());
            }
            assertThat(actual).hasSameSizeAs(expected);
            for (int k = 0; k < expected.size(); k++) {
                // Ids have fixed sizes, so even the byte lengths must agree.
                assertThat(actual.get(k).length).isEqualTo(expected.get(k).length);
                assertThat(actual.get(k).length).isLessThanOrEqualTo(Math.max(maxBytes, expected.get(k).length));
                assertThat(withoutRandomIds(actual.get(k))).isEqualTo(withoutRandomIds(expected.get(k)));
            }
            batches += expected.size();
        }
        assertThat(batches).isGreaterThan(300);
    }

    /**
     * Through the real exporter (offer on this thread, the traces worker, gRPC to a receiver):
     * every resource's spans arrive in offer order, equal to whole-batch encoding's, and the
     * invalid-UTF-8 count is the same.
     */
    @Test
    void exporterDeliversWhatWholeBatchEncodingWrites() throws Exception {
        SplittableRandom rnd = new SplittableRandom(7);
        ProcessResource[] pool = {
            ProcessResource.builder("nginx").hostName("node-1").pid(1).build(),
            ProcessResource.builder("redis").hostName("node-1").pid(2).build(),
        };
        int count = 2000;
        long syscallOffset;
        long packetOffset;
        RequestLog[] records = new RequestLog[count];
        ProcessResource[] resources = new ProcessResource[count];
        for (int i = 0; i < count; i++) {
            records[i] = randomRecord(rnd);
            resources[i] = pool[rnd.nextInt(pool.length)];
        }
        List<List<Span>> received;
        long invalid;
        try (OtlpReceiver rx = new OtlpReceiver().start()) {
            SenderConfig config = SenderConfig.builder().endpoint("127.0.0.1:" + rx.port())
                    .queueCapacity(Signal.TRACES, count).maxBatchSize(300).maxBatchDelay(Duration.ofMillis(20))
                    .metricsInterval(Duration.ofHours(1)).build();
            OtlpExporter exporter = OtlpExporter.start(config, pool[0]);
            for (int i = 0; i < count; i++) {
                assertThat(exporter.offer(records[i], resources[i])).isTrue();
            }
            assertThat(exporter.shutdown(Duration.ofSeconds(30)).flushedAll()).isTrue();
            assertThat(exporter.counters(Signal.TRACES).exported()).isEqualTo(count);
            invalid = exporter.invalidUtf8Fields();
            received = spansByService(rx.traces);
            syscallOffset = config.syscallClockOffsetNanos();
            packetOffset = config.packetClockOffsetNanos();
        }
        SpanEncoder whole = new SpanEncoder(syscallOffset, packetOffset, 64 << 20, 1);
        List<byte[]> expected = new ArrayList<>();
        whole.encode(records, resources, count, (b, n, spans) -> expected.add(Arrays.copyOf(b, n)));
        assertThat(expected).hasSize(1);
        assertThat(invalid).isPositive().isEqualTo(whole.invalidUtf8Fields());
        List<ExportTraceServiceRequest> want = new ArrayList<>();
        for (byte[] b : expected) {
            want.add(ExportTraceServiceRequest.parseFrom(b));
        }
        assertThat(received).isEqualTo(spansByService(want));
    }

    /** The spans of each service, in arrival order, with drawn ids blanked; services in name order. */
    private static List<List<Span>> spansByService(List<ExportTraceServiceRequest> requests)
            throws InvalidProtocolBufferException {
        java.util.TreeMap<String, List<Span>> by = new java.util.TreeMap<>();
        for (ExportTraceServiceRequest r : requests) {
            for (ResourceSpans rs : withoutRandomIds(r.toByteArray()).getResourceSpansList()) {
                String service = TestRecords.str(TestRecords.attributes(rs.getResource().getAttributesList()),
                        "service.name");
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                    by.computeIfAbsent(service, k -> new ArrayList<>()).addAll(ss.getSpansList());
                }
            }
        }
        return new ArrayList<>(by.values());
    }

    private static ExportTraceServiceRequest withoutRandomIds(byte[] bytes) throws InvalidProtocolBufferException {
        ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.parseFrom(bytes).toBuilder();
        for (ResourceSpans.Builder rs : req.getResourceSpansBuilderList()) {
            for (ScopeSpans.Builder ss : rs.getScopeSpansBuilderList()) {
                for (Span.Builder span : ss.getSpansBuilderList()) {
                    assertThat(span.getSpanId().size()).isEqualTo(8);
                    assertThat(span.getTraceId().size()).isEqualTo(16);
                    span.setSpanId(ByteString.EMPTY);
                    // A joined trace keeps its trace id (flags carry the remote-parent bit); only drawn ids go.
                    if (span.getFlags() == 0) {
                        span.setTraceId(ByteString.EMPTY);
                    }
                }
            }
        }
        return req.build();
    }

    private static RequestLog randomRecord(SplittableRandom rnd) {
        RequestLog r = new RequestLog();
        r.captureSource(rnd.nextBoolean() ? CaptureSource.SYSCALL : CaptureSource.PACKET)
                .pid(rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(1, 100000)).tid(rnd.nextInt(0, 100000))
                .socketId(rnd.nextInt(3) == 0 ? 0 : rnd.nextLong())
                .role(ROLES[rnd.nextInt(ROLES.length)])
                .ipVersion(new int[] {0, 4, 6}[rnd.nextInt(3)])
                .localPort(rnd.nextInt(0, 65536)).remotePort(rnd.nextInt(0, 65536))
                .l4Protocol(new int[] {0, 6, 17}[rnd.nextInt(3)])
                .syscallTraceIdRequest(rnd.nextInt(2) * rnd.nextLong(1, 1L << 40))
                .syscallTraceIdResponse(rnd.nextInt(2) * rnd.nextLong(1, 1L << 40))
                .tcpSeqRequest(rnd.nextLong(-1, 1L << 32)).tcpSeqResponse(rnd.nextLong(-1, 1L << 32))
                .protocol(PROTOCOLS[rnd.nextInt(PROTOCOLS.length)])
                .statusCode(rnd.nextInt(-1, 600)).statusClass(CLASSES[rnd.nextInt(CLASSES.length)])
                .requestBytes(rnd.nextLong(-1, 1 << 20)).responseBytes(rnd.nextLong(-1, 1 << 20));
        long start = rnd.nextLong(1, 1L << 50);
        r.startNanos(start).endNanos(start + rnd.nextLong(-1000, 1_000_000_000L));
        rnd.nextBytes(r.localAddress());
        rnd.nextBytes(r.remoteAddress());
        text(rnd, r.comm().clear(), 16);
        text(rnd, r.version().clear(), 4);
        text(rnd, r.method().clear(), 12);
        text(rnd, r.resource().clear(), rnd.nextInt(8) == 0 ? 4000 : 80);
        text(rnd, r.endpoint().clear(), 60);
        text(rnd, r.host().clear(), 40);
        text(rnd, r.userAgent().clear(), 40);
        text(rnd, r.requestId().clear(), 20);
        text(rnd, r.errorMessage().clear(), 40);
        if (rnd.nextBoolean()) {
            r.hasTraceContext(true).sampled(rnd.nextBoolean());
            rnd.nextBytes(r.traceId());
            if (rnd.nextBoolean()) {
                rnd.nextBytes(r.parentSpanId());
            } else {
                Arrays.fill(r.parentSpanId(), (byte) 0);
            }
        }
        String[] keys = {"messaging.kafka.message.key", "db.user", "custom.header"};
        for (int i = rnd.nextInt(4); i > 0; i--) {
            text(rnd, r.addAttribute(keys[rnd.nextInt(keys.length)]), 30);
        }
        return r;
    }

    /** Empty, ASCII, host-like text, or bytes that are often not valid UTF-8 (sanitising must agree). */
    private static void text(SplittableRandom rnd, io.periscope.protocols.TextField f, int maxLen) {
        int kind = rnd.nextInt(6);
        int len = rnd.nextInt(maxLen + 1);
        if (kind == 0) {
            return;
        }
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            if (kind == 1) {
                b[i] = (byte) rnd.nextInt(0, 256);
            } else if (kind == 2) {
                b[i] = (byte) "[]:/?abc019.".charAt(rnd.nextInt(12));
            } else {
                b[i] = (byte) rnd.nextInt(0x20, 0x7f);
            }
        }
        f.set(b, 0, len);
    }
}
