package io.periscope.protocols.kafka;

import io.periscope.protocols.Direction;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
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

    /** Metadata v12 from the consumer (correlation id 5) for topic "orders". */
    static final String METADATA_V12 = "000000390003000c0000000500127065726973636f70652d636f6e73756d6572"
            + "000200000000000000000000000000000000076f726465727300010000";
    /**
     * Its answer: broker 1 at 127.0.0.1:18540, cluster id, controller 1, topics[error 0, "orders",
     * id b7260d4a-2ac2-43a5-997c-d632783cf3f6, one partition].
     */
    static final String METADATA_V12_RESPONSE = "0000007500000005000000000002000000010a3132372e302e302e31"
            + "0000486c00001774616b6d5942455454376951495978636152692d564100000001020000076f7264657273b7260d4a2a"
            + "c243a5997cd632783cf3f600020000000000000000000100000000020000000102000000010100800000000000";
    /** Fetch v17 (correlation id 13, a new session): topics[id b7260d4a..., partition 0 from offset 0]. */
    static final String FETCH_V17 = "00000069000100110000000d00127065726973636f70652d636f6e73756d6572"
            + "00000001f4000000010320000000000000000000000002b7260d4a2ac243a5997cd632783cf3f602000000000000000000"
            + "00000000000000ffffffffffffffffffffffff001000000000010100";
    /**
     * Its answer as the broker wrote it, in three TCP segments (74 + 300 + 3 bytes): session
     * 0e7a4dd9, responses[the same topic id, partition 0 with three record batches].
     */
    static final String[] FETCH_V17_RESPONSE = {
        "000001750000000d000000000000000e7a4dd902b7260d4a2ac243a5997cd632783cf3f60200000000000000000000000000"
            + "030000000000000003000000000000000000ffffffffad02",
        "0000000000000000000000410000000002bd383580000000000000000001a202fc86c5000001a202fc86c5ffffffffffffff"
            + "ffffffffffffff000000011e000000046b310e6f726465722031000000000000000001000000860000000002b1f43c3500"
            + "0000000000000001a202fc8705000001a202fc8705ffffffffffffffffffffffffffff00000001a601000000046b320e6f"
            + "72646572203202167472616365706172656e746e30302d34626639326633353737623334646136613363653932396430"
            + "653065343733362d303066303637616130626139303262372d30310000000000000002000000410000000002fdd40dd500"
            + "0000000000000001a202fc8717000001a202fc8717ffffffffffffffffffffffffffff000000011e000000046b340e6f72"
            + "646572203300",
        "000000",
    };
    /** A later Fetch v17 of the same session (correlation id 17) that lists no topic: nothing changed. */
    private static final String FETCH_V17_INCREMENTAL = "00000036000100110000001100127065726973636f70652d636f6e"
            + "73756d657200000001f40000000103200000000e7a4dd9ffffffff01010100";
    private static final String FETCH_V17_INCREMENTAL_RESPONSE = "00000011000000110000000000000000000000000100";
    /** DescribeTopicPartitions v0 from Admin (correlation id 5) for the missing "no-such-topic". */
    private static final String DESCRIBE_TOPIC_PARTITIONS_V0 = "00000030004b000000000005000f7065726973636f70652d"
            + "61646d696e00020e6e6f2d737563682d746f70696300000007d0ff00";
    /** Its answer: top-level nothing, topics[error 3 UNKNOWN_TOPIC_OR_PARTITION, "no-such-topic", id 0]. */
    private static final String DESCRIBE_TOPIC_PARTITIONS_V0_RESPONSE = "000000330000000500000000000200030e6e6f2d"
            + "737563682d746f70696300000000000000000000000000000000000100000df800ff00";

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

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void fetchV13PlusShouldBeNamedByTheIdAMetadataResponseOnAnotherConnectionPaired() {
        // two engines, as two parse threads: the Metadata on one, the Fetch on the other
        EngineHarness metadata = exchange(METADATA_V12, METADATA_V12_RESPONSE);
        RequestLog md = metadata.only();
        assertThat(md.method().toString()).isEqualTo("Metadata");
        assertThat(md.statusCode()).isZero();
        assertThat(md.statusClass()).isEqualTo(StatusClass.OK);
        KafkaTopicIds.Entry e = KafkaTopicIds.shared().find(0xb7260d4a2ac243a5L, 0x997cd632783cf3f6L);
        assertThat(e).isNotNull();
        assertThat(new String(e.name, StandardCharsets.US_ASCII)).isEqualTo("orders");

        EngineHarness fetch = new EngineHarness().serverPort(18540).socket(2)
                .send(Direction.EGRESS, hex(FETCH_V17), -1);
        for (String segment : FETCH_V17_RESPONSE) {
            fetch.send(Direction.INGRESS, hex(segment), -1);
        }
        fetch.send(Direction.EGRESS, hex(FETCH_V17_INCREMENTAL), -1)
                .send(Direction.INGRESS, hex(FETCH_V17_INCREMENTAL_RESPONSE), -1);
        assertThat(fetch.logs()).hasSize(2);
        RequestLog first = fetch.logs().get(0);
        assertThat(first.method().toString()).isEqualTo("Fetch");
        assertThat(first.version().toString()).isEqualTo("17");
        assertThat(first.resource().toString()).isEqualTo("orders");
        assertThat(first.endpoint().toString()).isEqualTo("orders");
        assertThat(first.statusClass()).isEqualTo(StatusClass.OK);
        assertThat(first.responseBytes()).isEqualTo(377);
        // an incremental fetch names no topic and its empty answer neither: nothing is guessed
        RequestLog incremental = fetch.logs().get(1);
        assertThat(incremental.resource().isEmpty()).isTrue();
        assertThat(incremental.statusClass()).isEqualTo(StatusClass.OK);
    }

    @Test
    void fetchOfAnIdNoMetadataNamedShouldStayWithoutTopicAndBeCounted() {
        // the capture's Fetch with the id's last byte changed: an id no Metadata response carried
        String unknownId = FETCH_V17.replace("783cf3f6", "783cf3f7");
        String[] response = FETCH_V17_RESPONSE.clone();
        response[0] = response[0].replace("783cf3f6", "783cf3f7");
        long before = KafkaTopicIds.shared().unknown();
        EngineHarness fetch = new EngineHarness().serverPort(18540).socket(3)
                .send(Direction.EGRESS, hex(unknownId), -1);
        for (String segment : response) {
            fetch.send(Direction.INGRESS, hex(segment), -1);
        }
        RequestLog log = fetch.only();
        assertThat(log.method().toString()).isEqualTo("Fetch");
        assertThat(log.resource().isEmpty()).isTrue();
        assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
        // looked up twice: by the request, then by its response
        assertThat(KafkaTopicIds.shared().unknown()).isGreaterThanOrEqualTo(before + 2);
    }

    @Test
    void fetchShouldBeNamedFromItsResponseWhenTheIdIsLearntInBetween() {
        // the capture's exchange with an id of its own (last byte changed), learnt only after the request
        EngineHarness fetch = new EngineHarness().serverPort(18540).socket(4)
                .send(Direction.EGRESS, hex(FETCH_V17.replace("783cf3f6", "783cf3f8")), -1);
        KafkaTopicIds.shared().learn(0xb7260d4a2ac243a5L, 0x997cd632783cf3f8L,
                "orders-2".getBytes(StandardCharsets.US_ASCII));
        for (String segment : FETCH_V17_RESPONSE) {
            fetch.send(Direction.INGRESS, hex(segment.replace("783cf3f6", "783cf3f8")), -1);
        }
        assertThat(fetch.only().resource().toString()).isEqualTo("orders-2");
    }

    @Test
    void describeTopicPartitionsShouldReportTheFirstTopicsError() {
        RequestLog log = exchange(DESCRIBE_TOPIC_PARTITIONS_V0, DESCRIBE_TOPIC_PARTITIONS_V0_RESPONSE).only();
        assertThat(log.method().toString()).isEqualTo("DescribeTopicPartitions");
        assertThat(log.statusCode()).isEqualTo(3);
        assertThat(log.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
    }
}
