package io.periscope.sender;

import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The flow log bytes {@link LogEncoder} writes against what {@link LogRecordMapper#flowLog}
 * builds with the generated classes (the reference, and what the exporter sent before), and its
 * batching into requests against the records that went in.
 */
class LogEncoderTest {
    private static final long OBSERVED = 1_763_800_000_123_000_000L;

    @Test
    void shouldWriteTheSameBytesAsTheGeneratedFlowLog() throws Exception {
        SplittableRandom rnd = new SplittableRandom(42);
        for (long offset : new long[] {0, 1_700_000_000_000_000_000L, -5}) {
            LogRecordMapper mapper = new LogRecordMapper(0, offset);
            LogEncoder encoder = LogEncoder.forRecords(offset);
            for (int i = 0; i < 2000; i++) {
                TestFlow f = randomFlow(rnd);
                LogRecord expected = mapper.flowLog(f).toBuilder().setObservedTimeUnixNano(OBSERVED).build();
                int length = encoder.encodeFlowLog(f, OBSERVED);
                byte[] actual = Arrays.copyOf(encoder.recordBytes(), length);
                assertThat(LogRecord.parseFrom(actual)).as("flow %s", f).isEqualTo(expected);
                assertThat(actual).as("flow %s", f).isEqualTo(expected.toByteArray());
            }
        }
    }

    @Test
    void shouldLeaveOutWhatTheMapperLeavesOut() throws Exception {
        TestFlow noRtt = new TestFlow(4, new byte[] {10, 0, 0, 1}, 40000, new byte[] {10, 0, 0, 2}, 53, 17,
                0, 0, 0, 0, 0, 0, -1, FlowRecord.CloseType.ONGOING, 0, 0, 0);
        LogEncoder encoder = LogEncoder.forRecords(0);
        int length = encoder.encodeFlowLog(noRtt, OBSERVED);
        LogRecord r = LogRecord.parseFrom(Arrays.copyOf(encoder.recordBytes(), length));
        Map<String, ?> a = TestRecords.attributes(r.getAttributesList());
        assertThat(a).doesNotContainKeys("periscope.flow.rtt_ns", "periscope.interface_index");
        assertThat(TestRecords.str(TestRecords.attributes(r.getAttributesList()), "network.transport"))
                .isEqualTo("udp");
        assertThat(TestRecords.num(TestRecords.attributes(r.getAttributesList()), "periscope.flow.bytes"
                + ".client_to_server")).isZero();
        assertThat(r.getTimeUnixNano()).isZero();
        assertThat(r.getBody().getStringValue()).isEqualTo("periscope.flow");
    }

    @Test
    void shouldGroupByResourceAndSplitAtTheMessageLimit() throws Exception {
        SplittableRandom rnd = new SplittableRandom(7);
        ProcessResource agent = ProcessResource.builder("periscope").hostName("node-1").pid(1).build();
        ProcessResource nginx = ProcessResource.builder("nginx").hostName("node-1").pid(4242)
                .attribute("padding", "x".repeat(2000)).build();
        ProcessResource redis = ProcessResource.builder("redis").hostName("node-1").pid(77).build();
        ProcessResource[] choices = {agent, nginx, redis};
        LogEncoder producer = LogEncoder.forRecords(0);
        LogRecordMapper mapper = new LogRecordMapper(0, 0);
        for (int maxBytes : new int[] {4096, 9000, 64 * 1024, 4 << 20}) {
            for (int round = 0; round < 20; round++) {
                int count = 1 + rnd.nextInt(300);
                byte[][] records = new byte[count][];
                int[] lengths = new int[count];
                ProcessResource[] resources = new ProcessResource[count];
                Map<ProcessResource, List<LogRecord>> expected = new IdentityHashMap<>();
                for (int i = 0; i < count; i++) {
                    TestFlow f = randomFlow(rnd);
                    lengths[i] = producer.encodeFlowLog(f, OBSERVED + i);
                    // Slots larger than the record, as the queue's are.
                    records[i] = Arrays.copyOf(producer.recordBytes(), lengths[i] + rnd.nextInt(64));
                    resources[i] = choices[rnd.nextInt(rnd.nextInt(3) + 1)];
                    expected.computeIfAbsent(resources[i], k -> new ArrayList<>())
                            .add(mapper.flowLog(f).toBuilder().setObservedTimeUnixNano(OBSERVED + i).build());
                }
                List<ExportLogsServiceRequest> requests = new ArrayList<>();
                int[] counted = new int[1];
                int n = LogEncoder.forRequests(maxBytes, 0).encodeEncoded(records, lengths, resources, count,
                        (bytes, length, items) -> {
                            try {
                                ExportLogsServiceRequest req =
                                        ExportLogsServiceRequest.parseFrom(Arrays.copyOf(bytes, length));
                                requests.add(req);
                                int inReq = 0;
                                for (ResourceLogs rl : req.getResourceLogsList()) {
                                    for (ScopeLogs sl : rl.getScopeLogsList()) {
                                        inReq += sl.getLogRecordsCount();
                                    }
                                }
                                assertThat(items).isEqualTo(inReq);
                                counted[0] += items;
                                if (items > 1) {
                                    assertThat(length).isLessThanOrEqualTo(maxBytes);
                                }
                            } catch (Exception e) {
                                throw new AssertionError(e);
                            }
                        });
                assertThat(n).isEqualTo(requests.size());
                assertThat(counted[0]).isEqualTo(count);
                Map<String, List<LogRecord>> received = new java.util.HashMap<>();
                for (ExportLogsServiceRequest req : requests) {
                    for (ResourceLogs rl : req.getResourceLogsList()) {
                        assertThat(rl.getScopeLogsCount()).isEqualTo(1);
                        ScopeLogs sl = rl.getScopeLogs(0);
                        assertThat(sl.getScope()).isEqualTo(OtlpExporter.scope());
                        assertThat(sl.getLogRecordsCount()).isPositive();
                        received.computeIfAbsent(rl.getResource().toString(), k -> new ArrayList<>())
                                .addAll(sl.getLogRecordsList());
                    }
                }
                assertThat(received).hasSameSizeAs(expected);
                for (Map.Entry<ProcessResource, List<LogRecord>> e : expected.entrySet()) {
                    assertThat(received.get(e.getKey().toProto().toString())).isEqualTo(e.getValue());
                }
                if (maxBytes >= 4 << 20) {
                    assertThat(requests).hasSize(1);
                }
            }
        }
    }

    @Test
    void shouldEncodeQueuedFlowFactsIntoTheSameRequestsAsTheirEncodedRecords() {
        SplittableRandom rnd = new SplittableRandom(11);
        ProcessResource agent = ProcessResource.builder("periscope").hostName("node-1").pid(1).build();
        ProcessResource nginx = ProcessResource.builder("nginx").hostName("node-1").pid(4242).build();
        long offset = 1_700_000_000_000_000_000L;
        LogEncoder producer = LogEncoder.forRecords(offset);
        for (int maxBytes : new int[] {4096, 20_000, 4 << 20}) {
            for (int round = 0; round < 10; round++) {
                int count = 1 + rnd.nextInt(400);
                byte[] facts = new byte[count * FlowLogQueue.RECORD_BYTES];
                byte[][] records = new byte[count][];
                int[] lengths = new int[count];
                ProcessResource[] resources = new ProcessResource[count];
                for (int i = 0; i < count; i++) {
                    TestFlow f = randomFlow(rnd);
                    long observed = OBSERVED + rnd.nextLong(1L << 40);
                    FlowLogQueue.write(f, observed, facts, i * FlowLogQueue.RECORD_BYTES);
                    lengths[i] = producer.encodeFlowLog(f, observed);
                    records[i] = Arrays.copyOf(producer.recordBytes(), lengths[i]);
                    resources[i] = rnd.nextBoolean() ? agent : nginx;
                }
                List<byte[]> expected = new ArrayList<>();
                List<Integer> expectedCounts = new ArrayList<>();
                LogEncoder.forRequests(maxBytes, offset).encodeEncoded(records, lengths, resources, count,
                        (bytes, length, items) -> {
                            expected.add(Arrays.copyOf(bytes, length));
                            expectedCounts.add(items);
                        });
                List<byte[]> actual = new ArrayList<>();
                List<Integer> actualCounts = new ArrayList<>();
                LogEncoder.forRequests(maxBytes, offset).encodeFlows(facts, resources, count,
                        (bytes, length, items) -> {
                            actual.add(Arrays.copyOf(bytes, length));
                            actualCounts.add(items);
                        });
                assertThat(actualCounts).isEqualTo(expectedCounts);
                assertThat(actual).hasSameSizeAs(expected);
                for (int k = 0; k < actual.size(); k++) {
                    assertThat(actual.get(k)).isEqualTo(expected.get(k));
                }
            }
        }
    }

    @Test
    void shouldRefuseAMessageLimitBelowTheHeaders() {
        assertThatThrownBy(() -> LogEncoder.forRequests(1000, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1000");
    }

    static TestFlow randomFlow(SplittableRandom rnd) {
        int version = rnd.nextInt(10) < 7 ? 4 : 6;
        byte[] client = new byte[16];
        byte[] server = new byte[16];
        rnd.nextBytes(client);
        rnd.nextBytes(server);
        if (version == 6 && rnd.nextBoolean()) {
            // v4-mapped and zero runs, the other IpFormat branches
            Arrays.fill(client, 0, 10, (byte) 0);
            client[10] = (byte) 0xff;
            client[11] = (byte) 0xff;
            Arrays.fill(server, 2, 12, (byte) 0);
        }
        int[] protocols = {6, 6, 17, 1, 132, 255};
        FlowRecord.CloseType[] types = FlowRecord.CloseType.values();
        long start = rnd.nextBoolean() ? 1_763_800_000_000_000_000L + rnd.nextLong(1L << 40) : rnd.nextLong(1000);
        long end = rnd.nextInt(10) == 0 ? start - rnd.nextLong(1000) : start + rnd.nextLong(1L << 36);
        return new TestFlow(rnd.nextInt(20) == 0 ? 5 : version, client, rnd.nextInt(65536), server,
                rnd.nextInt(65536), protocols[rnd.nextInt(protocols.length)], big(rnd), big(rnd), big(rnd), big(rnd),
                big(rnd), big(rnd), rnd.nextInt(4) == 0 ? -1 : big(rnd), types[rnd.nextInt(types.length)],
                start, end, rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(1 << 20));
    }

    /** Zero, small, and up to 2^62 (varints of every length). */
    private static long big(SplittableRandom rnd) {
        switch (rnd.nextInt(4)) {
            case 0:
                return 0;
            case 1:
                return rnd.nextInt(200);
            default:
                return rnd.nextLong(1L << rnd.nextInt(1, 63));
        }
    }
}
