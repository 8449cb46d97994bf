package io.periscope.protocols.mqtt;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class MqttParserTest {
    static byte[] packet(int first, byte[] body) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(first);
        int n = body.length;
        do {
            int b = n & 0x7F;
            n >>>= 7;
            o.write(n > 0 ? b | 0x80 : b);
        } while (n > 0);
        o.writeBytes(body);
        return o.toByteArray();
    }

    static byte[] bytes(Object... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String s) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                o.write(b.length >> 8);
                o.write(b.length);
                o.writeBytes(b);
            } else if (p instanceof byte[] b) {
                o.writeBytes(b);
            } else {
                o.write((Integer) p);
            }
        }
        return o.toByteArray();
    }

    static byte[] connect(int level, String clientId) {
        return level == 5
                ? packet(0x10, bytes("MQTT", 5, 2, 0, 60, 0, clientId))
                : packet(0x10, bytes("MQTT", level, 2, 0, 60, clientId));
    }

    static byte[] publish(int qos, int id, String topic, int payloadBytes) {
        return qos == 0 ? packet(0x30, bytes(topic, new byte[payloadBytes]))
                : packet(0x30 | qos << 1, bytes(topic, id >> 8, id & 0xFF, new byte[payloadBytes]));
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    @Test
    void shouldPairConnectAndReportTheClientId() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, connect(4, "sensor-7"), -1).send(Direction.INGRESS, packet(0x20, bytes(0, 0)), -1);
        RequestLog log = h.only();
        assertThat(log.protocol()).isEqualTo(L7Protocol.MQTT);
        assertThat(log.method().toString()).isEqualTo("CONNECT");
        assertThat(log.version().toString()).isEqualTo("3.1.1");
        assertThat(log.attribute(MqttParser.CLIENT_ID).toString()).isEqualTo("sensor-7");
        assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
    }

    @Test
    void shouldClassifyRefusedConnections() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, connect(4, "a"), -1).send(Direction.INGRESS, packet(0x20, bytes(0, 5)), -1);
        assertThat(h.only().statusCode()).isEqualTo(5);
        assertThat(h.only().statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        EngineHarness v5 = new EngineHarness();
        v5.send(Direction.EGRESS, connect(5, "b"), -1).send(Direction.INGRESS, packet(0x20, bytes(0, 0x89, 0)), -1);
        assertThat(v5.only().version().toString()).isEqualTo("5.0");
        assertThat(v5.only().statusCode()).isEqualTo(0x89);
        assertThat(v5.only().statusClass()).isEqualTo(StatusClass.SERVER_ERROR);
    }

    @Test
    void shouldPairPublishesByPacketIdWithManyPacketsPerSegment() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, connect(4, "c"), -1).send(Direction.INGRESS, packet(0x20, bytes(0, 0)), -1);
        h.send(Direction.EGRESS, cat(publish(0, 0, "t/0", 5), publish(1, 10, "t/1", 5), publish(2, 11, "t/2", 5),
                packet(0xC0, new byte[0])), -1);
        // answers in another order than the questions
        h.send(Direction.INGRESS, cat(packet(0xD0, new byte[0]), packet(0x50, bytes(0, 11)),
                packet(0x40, bytes(0, 10))), -1);
        h.send(Direction.EGRESS, packet(0x62, bytes(0, 11)), -1)
                .send(Direction.INGRESS, packet(0x70, bytes(0, 11)), -1);
        assertThat(h.logs()).extracting(l -> l.method() + " " + l.resource())
                .containsExactly("CONNECT ", "PUBLISH t/0", "PINGREQ ", "PUBLISH t/2", "PUBLISH t/1", "PUBREL ");
        assertThat(h.logs().get(1).attribute(MqttParser.QOS).toString()).isEqualTo("0");
        assertThat(h.logs().get(1).durationNanos()).isZero();
        assertThat(h.engine().counters().orphanResponses(L7Protocol.MQTT)).isZero();
        assertThat(h.engine().pendingCount()).isZero();
    }

    @Test
    void shouldPairBrokerPublishWithTheClientsPuback() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, connect(4, "c"), -1).send(Direction.INGRESS, packet(0x20, bytes(0, 0)), -1);
        h.send(Direction.INGRESS, publish(1, 3, "alerts", 50), -1)
                .send(Direction.EGRESS, packet(0x40, bytes(0, 3)), -1);
        assertThat(h.logs()).hasSize(2);
        assertThat(h.logs().get(1).resource().toString()).isEqualTo("alerts");
        assertThat(h.logs().get(1).statusClass()).isEqualTo(StatusClass.OK);
    }

    @Test
    void shouldReassembleAPacketSplitAcrossSegmentsAndSkipBigPayloads() {
        byte[] big = publish(1, 77, "big/topic", 200_000);
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, connect(4, "c"), -1).send(Direction.INGRESS, packet(0x20, bytes(0, 0)), -1);
        h.send(Direction.EGRESS, Arrays.copyOfRange(big, 0, 3), -1);
        for (int off = 3; off < big.length; off += 1448) {
            h.send(Direction.EGRESS, Arrays.copyOfRange(big, off, Math.min(big.length, off + 1448)), -1);
        }
        h.send(Direction.INGRESS, packet(0x40, bytes(0, 77)), -1);
        RequestLog pub = h.logs().get(1);
        assertThat(pub.resource().toString()).isEqualTo("big/topic");
        assertThat(pub.requestBytes()).isEqualTo(big.length);
        assertThat(h.engine().counters().parseErrors(L7Protocol.MQTT)).isZero();
    }

    @Test
    void shouldReportFailedSubscriptionsAndV5Properties() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, connect(5, "c"), -1).send(Direction.INGRESS, packet(0x20, bytes(0, 0, 0)), -1);
        h.send(Direction.EGRESS, packet(0x82, bytes(0, 9, 0, "a/#", 1, "b/+", 0)), -1);
        h.send(Direction.INGRESS, packet(0x90, bytes(0, 9, 0, 1, 0x87)), -1);
        RequestLog sub = h.logs().get(1);
        assertThat(sub.resource().toString()).isEqualTo("a/#,b/+");
        assertThat(sub.statusCode()).isEqualTo(0x87);
        assertThat(sub.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
    }

    @Test
    void shouldRejectWhatIsNotMqtt() {
        MqttParser p = new MqttParser();
        byte[] http = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] tls = {0x16, 0x03, 0x01, 0x00, 0x05, 1, 0, 0, 1, 0};
        for (byte[] b : new byte[][] {http, tls}) {
            assertThat(p.infer(new org.agrona.concurrent.UnsafeBuffer(b), 0, b.length, false, false))
                    .isEqualTo(MqttParser.Inference.NO);
        }
    }
}
