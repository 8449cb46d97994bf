package io.periscope.protocols.kafka;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaParserTest {
    /** Builds Kafka messages field by field, big-endian, length prefix added by {@link #frame()}. */
    static final class Msg {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Msg i8(int v) {
            out.write(v);
            return this;
        }

        Msg i16(int v) {
            return i8(v >> 8).i8(v);
        }

        Msg i32(int v) {
            return i16(v >> 16).i16(v);
        }

        Msg i64(long v) {
            return i32((int) (v >> 32)).i32((int) v);
        }

        Msg str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i16(b.length);
            out.writeBytes(b);
            return this;
        }

        Msg compactStr(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i8(b.length + 1);
            out.writeBytes(b);
            return this;
        }

        Msg bytes(int n) {
            out.writeBytes(new byte[n]);
            return this;
        }

        byte[] frame() {
            byte[] body = out.toByteArray();
            return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
        }
    }

    static Msg header(int apiKey, int version, int corr, String clientId) {
        return new Msg().i16(apiKey).i16(version).i32(corr).str(clientId);
    }

    static byte[] produceV9(int corr, String topic, int recordBytes) {
        return header(0, 9, corr, "producer-1").i8(0).compactStr("").i16(-1).i32(30_000)
                .i8(2).compactStr(topic).i8(2).i32(0).bytes(recordBytes).frame();
    }

    static byte[] produceV9Response(int corr, int error) {
        return new Msg().i32(corr).i8(0).i8(2).compactStr("t").i8(2).i32(0).i16(error).bytes(20).frame();
    }

    static byte[] produceV3(int corr, String topic) {
        return header(0, 3, corr, "old").i16(-1).i16(1).i32(1000).i32(1).str(topic).i32(1).i32(0).bytes(40).frame();
    }

    static byte[] fetchV11(int corr, String topic) {
        return header(1, 11, corr, "consumer").i32(-1).i32(500).i32(1).i32(1 << 20).i8(0).i32(0).i32(-1)
                .i32(1).str(topic).i32(1).i32(0).bytes(30).frame();
    }

    static byte[] fetchV11Response(int corr, int error, int recordBytes) {
        return new Msg().i32(corr).i32(0).i16(error).i32(0).i32(0).bytes(recordBytes).frame();
    }

    static byte[] heartbeatV4(int corr, String group) {
        return header(12, 4, corr, "c").i8(0).compactStr(group).i32(3).compactStr("member").i8(0).i8(0).frame();
    }

    static byte[] heartbeatV4Response(int corr, int error) {
        return new Msg().i32(corr).i8(0).i32(0).i16(error).i8(0).frame();
    }

    static byte[] metadataV12(int corr) {
        // topics null (all), allow_auto_topic_creation false, include_topic_authorized_operations false
        return header(3, 12, corr, "c").i8(0).i8(0).i8(0).i8(0).i8(0).frame();
    }

    /** One topic of a Metadata v10+ response, with one partition (leader 1, replicas [1], isr [1]). */
    static Msg metadataTopic(Msg m, int error, String name, long high, long low) {
        m.i16(error).compactStr(name).i64(high).i64(low).i8(0).i8(2)
                .i16(0).i32(0).i32(1).i32(0).i8(2).i32(1).i8(2).i32(1).i8(1).i8(0);
        return m.i32(Integer.MIN_VALUE).i8(0);
    }

    /** A Metadata v12 response head (header, throttle, one broker, cluster id, controller) up to its topics. */
    static Msg metadataV12ResponseHead(int corr, int topics) {
        return new Msg().i32(corr).i8(0).i32(0).i8(2).i32(1).compactStr("127.0.0.1").i32(9092).i8(0).i8(0)
                .compactStr("cluster-1").i32(1).i8(topics + 1);
    }

    static byte[] fetchV13(int corr, long high, long low) {
        return header(1, 13, corr, "c").i8(0).i32(-1).i32(500).i32(1).i32(1 << 20).i8(0).i32(0).i32(-1)
                .i8(2).i64(high).i64(low).i8(2).i32(0).i32(-1).i64(0).i64(-1).i32(1 << 20).i8(0).i8(0)
                .i8(1).compactStr("").i8(0).frame();
    }

    static byte[] fetchV13Response(int corr, int error) {
        return new Msg().i32(corr).i8(0).i32(0).i16(error).i32(0).i8(1).i8(0).frame();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    @Test
    void shouldReadFlexibleProduceAndPairByCorrelationId() {
        byte[] req = produceV9(7, "orders", 100);
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, req, -1).send(Direction.INGRESS, produceV9Response(7, 0), -1);
        RequestLog log = h.only();
        assertThat(log.protocol()).isEqualTo(L7Protocol.KAFKA);
        assertThat(log.method().toString()).isEqualTo("Produce");
        assertThat(log.version().toString()).isEqualTo("9");
        assertThat(log.resource().toString()).isEqualTo("orders");
        assertThat(log.attribute(KafkaParser.CLIENT_ID).toString()).isEqualTo("producer-1");
        assertThat(log.statusCode()).isZero();
        assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
        assertThat(log.requestBytes()).isEqualTo(req.length);
    }

    @Test
    void shouldPairResponsesThatComeOutOfOrder() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, concat(produceV3(1, "a"), fetchV11(2, "b"), heartbeatV4(3, "g1")), -1);
        h.send(Direction.INGRESS, concat(heartbeatV4Response(3, 27), fetchV11Response(2, 0, 10)), -1);
        h.send(Direction.INGRESS, new Msg().i32(1).i32(1).str("a").i32(1).i32(0).i16(6).bytes(16).frame(), -1);
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("Heartbeat", "Fetch", "Produce");
        RequestLog hb = h.logs().get(0);
        assertThat(hb.statusCode()).isEqualTo(27);
        assertThat(hb.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(hb.attribute(KafkaParser.CONSUMER_GROUP).toString()).isEqualTo("g1");
        assertThat(h.logs().get(1).resource().toString()).isEqualTo("b");
        // NOT_LEADER_OR_FOLLOWER on the first partition is the broker's problem
        assertThat(h.logs().get(2).statusCode()).isEqualTo(6);
        assertThat(h.logs().get(2).statusClass()).isEqualTo(StatusClass.SERVER_ERROR);
        assertThat(h.logs().get(2).resource().toString()).isEqualTo("a");
    }

    @Test
    void shouldSkipLargeFetchResponsesAcrossMessagesAndResumeFraming() {
        byte[] big = fetchV11Response(5, 0, 100_000);
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, fetchV11(5, "t"), -1);
        for (int off = 0; off < big.length; off += 1448) {
            h.send(Direction.INGRESS, big, off, Math.min(1448, big.length - off), -1);
        }
        h.send(Direction.EGRESS, heartbeatV4(6, "g"), -1).send(Direction.INGRESS, heartbeatV4Response(6, 0), -1);
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("Fetch", "Heartbeat");
        assertThat(h.logs().get(0).responseBytes()).isEqualTo(big.length);
        assertThat(h.engine().counters().parseErrors(L7Protocol.KAFKA)).isZero();
    }

    @Test
    void shouldWaitForAHeadSplitAcrossSegments() {
        byte[] req = produceV9(9, "split-topic", 20);
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, Arrays.copyOfRange(req, 0, 30), -1)
                .send(Direction.EGRESS, Arrays.copyOfRange(req, 30, req.length), -1)
                .send(Direction.INGRESS, produceV9Response(9, 0), -1);
        assertThat(h.only().resource().toString()).isEqualTo("split-topic");
    }

    @Test
    void shouldNotMistakeTextForKafka() {
        KafkaParser p = new KafkaParser();
        byte[] http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(p.infer(new org.agrona.concurrent.UnsafeBuffer(http), 0, http.length, false, false))
                .isEqualTo(KafkaParser.Inference.NO);
        byte[] req = heartbeatV4(1, "g");
        assertThat(p.infer(new org.agrona.concurrent.UnsafeBuffer(req), 0, req.length, false, false))
                .isEqualTo(KafkaParser.Inference.REQUEST);
    }

    @Test
    void shouldCountGarbageAsParseErrorAndRecover() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, heartbeatV4(1, "g"), -1);
        h.send(Direction.INGRESS, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3, 4}, -1);
        assertThat(h.engine().counters().parseErrors(L7Protocol.KAFKA)).isEqualTo(1);
        h.send(Direction.INGRESS, heartbeatV4Response(1, 0), -1);
        assertThat(h.only().statusClass()).isEqualTo(StatusClass.OK);
    }

    @Test
    void shouldStillEndARequestWhoseApiKeySlotWasReused() {
        // correlation ids 1 and 1 + SLOTS share a slot: the first response cannot be decoded any
        // more, but its request must end now rather than linger until the timeout
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, heartbeatV4(1, "g"), -1);
        h.send(Direction.EGRESS, heartbeatV4(1 + KafkaParser.SLOTS, "g"), -1);
        h.send(Direction.INGRESS, heartbeatV4Response(1, 0), -1);
        h.send(Direction.INGRESS, heartbeatV4Response(1 + KafkaParser.SLOTS, 0), -1);
        assertThat(h.logs()).extracting(RequestLog::statusClass).containsExactly(StatusClass.UNKNOWN, StatusClass.OK);
        assertThat(h.engine().pendingCount()).isZero();
    }

    @Test
    void metadataShouldTeachTopicIdsAndReportTheFirstTopicError() {
        long high = 0x1122334455667788L;
        long low = 0x99aabbccddeeff01L;
        Msg resp = metadataV12ResponseHead(4, 2);
        metadataTopic(resp, 0, "payments", high, low);
        metadataTopic(resp, 3, "no-such-topic", 0, 0);
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, metadataV12(4), -1).send(Direction.INGRESS, resp.i8(0).frame(), -1);
        RequestLog md = h.only();
        assertThat(md.method().toString()).isEqualTo("Metadata");
        assertThat(md.statusCode()).isEqualTo(3);
        assertThat(md.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);

        EngineHarness other = new EngineHarness().socket(9);
        other.send(Direction.EGRESS, fetchV13(8, high, low), -1).send(Direction.INGRESS, fetchV13Response(8, 0), -1);
        assertThat(other.only().resource().toString()).isEqualTo("payments");
        assertThat(other.only().version().toString()).isEqualTo("13");
    }

    @Test
    void metadataV1ShouldReportItsFirstTopicError() {
        // v1: brokers[node, host, port, rack], controller_id, topics[error, name, is_internal, partitions]
        byte[] resp = new Msg().i32(2).i32(1).i32(1).str("h").i32(9092).i16(-1).i32(1).i32(2)
                .i16(0).str("ok").i8(0).i32(0)
                .i16(17).str("bad name").i8(0).i32(0).frame();
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, header(3, 1, 2, "old").i32(1).str("ok").frame(), -1)
                .send(Direction.INGRESS, resp, -1);
        assertThat(h.only().statusCode()).isEqualTo(17);
        assertThat(h.only().statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
    }

    @Test
    void metadataLargerThanTheCaptureShouldLearnWhatIsInViewAndStayOk() {
        int topics = 40;
        Msg resp = metadataV12ResponseHead(6, topics);
        for (int i = 0; i < topics; i++) {
            metadataTopic(resp, 0, "topic-" + i, 0x5eed_0000_0000_0000L, i + 1);
        }
        byte[] whole = resp.i8(0).frame();
        int captured = 1000;
        assertThat(whole.length).isGreaterThan(2 * captured);
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, metadataV12(6), -1)
                .send(Direction.INGRESS, whole, 0, captured, whole.length)
                .send(Direction.EGRESS, heartbeatV4(7, "g"), -1)
                .send(Direction.INGRESS, heartbeatV4Response(7, 0), -1);
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("Metadata", "Heartbeat");
        assertThat(h.logs().get(0).statusClass()).isEqualTo(StatusClass.OK);
        KafkaTopicIds ids = KafkaTopicIds.shared();
        assertThat(ids.find(0x5eed_0000_0000_0000L, 1)).isNotNull();
        assertThat(new String(ids.find(0x5eed_0000_0000_0000L, 1).name, StandardCharsets.US_ASCII))
                .isEqualTo("topic-0");
        // the last topics lie beyond the captured bytes: not learnt, not guessed
        assertThat(ids.find(0x5eed_0000_0000_0000L, topics)).isNull();
        assertThat(h.engine().counters().parseErrors(L7Protocol.KAFKA)).isZero();
    }

    @Test
    void metadataV13TopLevelErrorShouldWin() {
        byte[] resp = metadataV12ResponseHead(3, 0).i16(58).i8(0).frame();
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, header(3, 13, 3, "c").i8(0).i8(0).i8(0).i8(0).i8(0).frame(), -1)
                .send(Direction.INGRESS, resp, -1);
        assertThat(h.only().statusCode()).isEqualTo(58);
    }

    @Test
    void shallowModeShouldLearnNothing() {
        long high = 0x0bad_cafe_0000_0001L;
        Msg resp = metadataV12ResponseHead(4, 1);
        metadataTopic(resp, 0, "secret", high, 1);
        EngineHarness h = new EngineHarness(io.periscope.protocols.ProtocolConfig.builder()
                .shallow(L7Protocol.KAFKA, true).build());
        h.send(Direction.EGRESS, metadataV12(4), -1).send(Direction.INGRESS, resp.i8(0).frame(), -1);
        assertThat(h.only().statusClass()).isEqualTo(StatusClass.OK);
        assertThat(KafkaTopicIds.shared().find(high, 1)).isNull();
    }

    @Test
    void aLengthPrefixReadAloneShouldNotCostTheMessageWhateverItsSize() {
        // Java clients and the broker read the 4-byte length on its own, then the whole body in one
        // read: bodies bigger than the engine's carry used to be dropped with a parse error
        byte[] produce = produceV9(21, "big-topic", 20_000);
        byte[] fetch = fetchV11Response(22, 0, 50_000);
        EngineHarness h = new EngineHarness();
        // a connection is recognised by a first message with its header (4 bytes alone say nothing)
        h.send(Direction.EGRESS, heartbeatV4(20, "g"), -1).send(Direction.INGRESS, heartbeatV4Response(20, 0), -1);
        long requestAt = h.now();
        h.send(Direction.EGRESS, produce, 0, 4, -1)
                .send(Direction.EGRESS, produce, 4, produce.length - 4, -1)
                .send(Direction.INGRESS, produceV9Response(21, 0), -1)
                .send(Direction.EGRESS, fetchV11(22, "big-topic"), -1);
        long responseAt = h.now();
        h.send(Direction.INGRESS, fetch, 0, 4, -1)
                .send(Direction.INGRESS, fetch, 4, fetch.length - 4, -1)
                .send(Direction.EGRESS, heartbeatV4(23, "g"), -1)
                .send(Direction.INGRESS, heartbeatV4Response(23, 0), -1);
        assertThat(h.logs()).extracting(l -> l.method().toString())
                .containsExactly("Heartbeat", "Produce", "Fetch", "Heartbeat");
        RequestLog p = h.logs().get(1);
        assertThat(p.resource().toString()).isEqualTo("big-topic");
        assertThat(p.requestBytes()).isEqualTo(produce.length);
        // the message began with its prefix, not with the read of its body
        assertThat(p.startNanos()).isEqualTo(requestAt);
        RequestLog f = h.logs().get(2);
        assertThat(f.statusClass()).isEqualTo(StatusClass.OK);
        assertThat(f.responseBytes()).isEqualTo(fetch.length);
        assertThat(f.endNanos()).isEqualTo(responseAt);
        assertThat(h.engine().counters().parseErrors(L7Protocol.KAFKA)).isZero();
        assertThat(h.engine().counters().carryOverflows(L7Protocol.KAFKA)).isZero();
    }

    @Test
    void aPrefixWhoseHeadIsLostShouldPassTheMessageOverAndResume() {
        byte[] fetch = fetchV11Response(31, 0, 20_000);
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, fetchV11(31, "t"), -1)
                .send(Direction.INGRESS, fetch, 0, 4, -1)
                // the capture kept none of the body
                .send(Direction.INGRESS, fetch, 4, 0, fetch.length - 4)
                .send(Direction.EGRESS, heartbeatV4(32, "g"), -1)
                .send(Direction.INGRESS, heartbeatV4Response(32, 0), -1);
        assertThat(h.logs()).extracting(l -> l.method().toString()).contains("Heartbeat");
        assertThat(h.engine().counters().parseErrors(L7Protocol.KAFKA)).isZero();
    }

    @Test
    void produceV13ShouldBeNamedByTopicIdAndReadItsFirstPartitionError() {
        // Produce v13 (Kafka 4.1, KIP-516): topic_data[topic_id, partition_data[index, records]]
        long high = 0x4101_0000_0000_0001L;
        long low = 0x0000_0000_0000_0d13L;
        Msg resp = metadataV12ResponseHead(1, 1);
        metadataTopic(resp, 0, "events", high, low);
        byte[] produce = header(0, 13, 2, "p").i8(0).i8(0).i16(-1).i32(30_000).i8(2).i64(high).i64(low)
                .i8(2).i32(0).i8(1).i8(0).i8(0).i8(0).frame();
        // responses[topic_id, partition_responses[index 0, error 10 MESSAGE_TOO_LARGE, ...]]
        byte[] produceResponse = new Msg().i32(2).i8(0).i8(2).i64(high).i64(low).i8(2).i32(0).i16(10)
                .bytes(30).frame();
        // an id nobody named yet: the response is where it is looked up again
        long unknownLow = 0x0000_0000_0000_0e13L;
        byte[] produce2 = header(0, 13, 3, "p").i8(0).i8(0).i16(-1).i32(30_000).i8(2).i64(high).i64(unknownLow)
                .i8(2).i32(0).i8(1).i8(0).i8(0).i8(0).frame();
        byte[] produce2Response = new Msg().i32(3).i8(0).i8(2).i64(high).i64(unknownLow).i8(2).i32(0).i16(0)
                .bytes(30).frame();
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, metadataV12(1), -1).send(Direction.INGRESS, resp.i8(0).frame(), -1)
                .send(Direction.EGRESS, produce, -1).send(Direction.INGRESS, produceResponse, -1)
                .send(Direction.EGRESS, produce2, -1);
        KafkaTopicIds.shared().learn(high, unknownLow, "late".getBytes(StandardCharsets.US_ASCII));
        h.send(Direction.INGRESS, produce2Response, -1);
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("Metadata", "Produce", "Produce");
        RequestLog p = h.logs().get(1);
        assertThat(p.version().toString()).isEqualTo("13");
        assertThat(p.resource().toString()).isEqualTo("events");
        assertThat(p.statusCode()).isEqualTo(10);
        assertThat(p.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        RequestLog late = h.logs().get(2);
        assertThat(late.resource().toString()).isEqualTo("late");
        assertThat(late.statusClass()).isEqualTo(StatusClass.OK);
    }
}
