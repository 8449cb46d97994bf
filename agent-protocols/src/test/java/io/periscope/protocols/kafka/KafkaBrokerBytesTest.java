package io.periscope.protocols.kafka;

import io.periscope.protocols.Direction;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Messages exactly as kafka-clients 3.9.2 and a Kafka 3.9.2 broker exchanged them in
 * {@link KafkaBrokerTrafficTest} (TCP payloads copied from its capture), so that the versions that
 * test found misread stay read right without root or a broker.
 */
class KafkaBrokerBytesTest {
    /** FindCoordinator v6 for group "periscope-group", correlation id 0. */
    private static final String FIND_COORDINATOR_V6 = "00000030000a00060000000000127065726973636f70652d636f6e73756d"
            + "6572000002107065726973636f70652d67726f757000";
    /** Its answer: coordinators[key, node -1, host "", port -1, error 15 COORDINATOR_NOT_AVAILABLE]. */
    private static final String FIND_COORDINATOR_V6_NOT_AVAILABLE = "0000002800000000000000000002107065726973636f"
            + "70652d67726f7570ffffffff01ffffffff000f010000";
    /** The same question later (correlation id 17) and its answer: node 1 at 127.0.0.1:18540, error 0. */
    private static final String FIND_COORDINATOR_V6_LATER = "00000030000a00060000001100127065726973636f70652d636f"
            + "6e73756d6572000002107065726973636f70652d67726f757000";
    private static final String FIND_COORDINATOR_V6_FOUND = "0000003100000011000000000002107065726973636f70652d67"
            + "726f7570000000010a3132372e302e302e310000486c0000010000";
    /** OffsetFetch v9: groups[{"periscope-group", member null, epoch -1, topics[orders [0]]}]. */
    private static final String OFFSET_FETCH_V9 = "00000044000900090000001800127065726973636f70652d636f6e73756d6572"
            + "0002107065726973636f70652d67726f757000ffffffff02076f7264657273020000000000000100";
    private static final String OFFSET_FETCH_V9_RESPONSE = "0000003c00000018000000000002107065726973636f70652d67"
            + "726f757002076f72646572730200000000ffffffffffffffffffffffff010000000000000000";

    private static EngineHarness exchange(String request, String response) {
        return new EngineHarness().serverPort(18540)
                .send(Direction.EGRESS, HexFormat.of().parseHex(request), -1)
                .send(Direction.INGRESS, HexFormat.of().parseHex(response), -1);
    }

    @Test
    void findCoordinatorV4PlusShouldReportTheCoordinatorsError() {
        RequestLog refused = exchange(FIND_COORDINATOR_V6, FIND_COORDINATOR_V6_NOT_AVAILABLE).only();
        assertThat(refused.method().toString()).isEqualTo("FindCoordinator");
        assertThat(refused.version().toString()).isEqualTo("6");
        assertThat(refused.statusCode()).isEqualTo(15);
        assertThat(refused.statusClass()).isEqualTo(StatusClass.SERVER_ERROR);

        RequestLog found = exchange(FIND_COORDINATOR_V6_LATER, FIND_COORDINATOR_V6_FOUND).only();
        assertThat(found.statusCode()).isZero();
        assertThat(found.statusClass()).isEqualTo(StatusClass.OK);
    }

    @Test
    void offsetFetchV8PlusShouldNameTheFirstGroupOfTheBatch() {
        RequestLog log = exchange(OFFSET_FETCH_V9, OFFSET_FETCH_V9_RESPONSE).only();
        assertThat(log.method().toString()).isEqualTo("OffsetFetch");
        assertThat(log.attribute(KafkaParser.CONSUMER_GROUP).toString()).isEqualTo("periscope-group");
        assertThat(log.attribute(KafkaParser.CLIENT_ID).toString()).isEqualTo("periscope-consumer");
        assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
    }
}
