package io.periscope.protocols.kafka;

import io.periscope.protocols.CapturedMessage;
import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.RequestLogSink;
import io.periscope.protocols.Role;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The topic id path allocates nothing per message once warm: a Metadata answer for an id already
 * held, and a Fetch v17 named by its id (the real kafka-clients 3.9.2 bytes of
 * {@link KafkaBrokerBytesTest}), measured with the JVM's per-thread allocation counter.
 */
class KafkaSteadyStateAllocationTest {
    private static final int WARMUP_PAIRS = 20_000;
    private static final int PAIRS = 10_000;
    /** Slack for the counter itself and a stray safepoint: far below one byte per pair. */
    private static final long SLACK_BYTES = 4_096;

    private final CapturedMessage request = new CapturedMessage();
    private final CapturedMessage response = new CapturedMessage();
    private final int[] named = new int[1];
    private final RequestLogSink sink = this::consume;
    private ProtocolEngine engine;
    private long now = 1_000;

    private void consume(RequestLog log) {
        if (log.resource().length() > 0) {
            named[0]++;
        }
    }

    private static void fill(CapturedMessage m, Direction dir, String hex) {
        byte[] bytes = HexFormat.of().parseHex(hex);
        m.clear().socketId(7).direction(dir).role(Role.CLIENT).ipVersion(4).localPort(40000).remotePort(18540);
        m.payload(new UnsafeBuffer(bytes), 0, bytes.length, bytes.length);
    }

    private void pairs(int n) {
        for (int i = 0; i < n; i++) {
            now += 1_000;
            request.timestampNanos(now);
            engine.onMessage(request, sink);
            now += 1_000;
            response.timestampNanos(now);
            engine.onMessage(response, sink);
        }
    }

    private long allocatedBy(int n) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(id);
        pairs(n);
        return mx.getThreadAllocatedBytes(id) - before;
    }

    @Test
    void metadataAndFetchByIdShouldAllocateNothingOnceWarm() {
        engine = new ProtocolEngine(ProtocolConfig.defaults());
        fill(request, Direction.EGRESS, KafkaBrokerBytesTest.METADATA_V12);
        fill(response, Direction.INGRESS, KafkaBrokerBytesTest.METADATA_V12_RESPONSE);
        pairs(WARMUP_PAIRS);
        assertThat(allocatedBy(PAIRS)).as("bytes for %d Metadata pairs", PAIRS).isLessThan(SLACK_BYTES);

        fill(request, Direction.EGRESS, KafkaBrokerBytesTest.FETCH_V17);
        fill(response, Direction.INGRESS, String.join("", KafkaBrokerBytesTest.FETCH_V17_RESPONSE));
        pairs(WARMUP_PAIRS);
        named[0] = 0;
        assertThat(allocatedBy(PAIRS)).as("bytes for %d Fetch pairs", PAIRS).isLessThan(SLACK_BYTES);
        assertThat(named[0]).as("Fetches named by topic id").isEqualTo(PAIRS);
        assertThat(engine.counters().parseErrors(L7Protocol.KAFKA)).isZero();
    }
}
