package io.periscope.protocols.amqp;

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

class AmqpParserTest {
    static byte[] frame(int type, int channel, byte[] payload) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(type);
        o.write(channel >> 8);
        o.write(channel);
        int n = payload.length;
        o.write(n >>> 24);
        o.write(n >>> 16);
        o.write(n >>> 8);
        o.write(n);
        o.writeBytes(payload);
        o.write(0xCE);
        return o.toByteArray();
    }

    static byte[] method(int channel, int cls, int method, Object... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(cls >> 8);
        o.write(cls);
        o.write(method >> 8);
        o.write(method);
        for (Object a : args) {
            if (a instanceof String s) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                o.write(b.length);
                o.writeBytes(b);
            } else {
                int v = (Integer) a;
                o.write(v >> 8);
                o.write(v);
            }
        }
        return frame(1, channel, o.toByteArray());
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    @Test
    void shouldReportPublishWithExchangeAndRoutingKeyAndSkipContent() {
        byte[] header = "AMQP\0\0\u0009\u0001".getBytes(StandardCharsets.ISO_8859_1);
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, header, -1);
        h.send(Direction.INGRESS, method(0, 10, 10, 0, "x"), -1);
        h.send(Direction.EGRESS, cat(method(0, 10, 11, "PLAIN"), method(0, 10, 40, "/prod", "", 0)), -1);
        h.send(Direction.INGRESS, method(0, 10, 41, ""), -1);
        byte[] publish = cat(method(1, 60, 40, 0, "orders", "eu.created", 0), frame(2, 1, new byte[14]),
                frame(3, 1, new byte[5000]));
        h.send(Direction.EGRESS, Arrays.copyOfRange(publish, 0, 20), -1);
        h.send(Direction.EGRESS, Arrays.copyOfRange(publish, 20, 1000), -1);
        h.send(Direction.EGRESS, Arrays.copyOfRange(publish, 1000, publish.length), -1);
        assertThat(h.logs()).extracting(l -> l.method().toString())
                .containsExactly("connection.start", "connection.open", "basic.publish");
        assertThat(h.logs().get(1).host().toString()).isEqualTo("/prod");
        RequestLog pub = h.logs().get(2);
        assertThat(pub.protocol()).isEqualTo(L7Protocol.AMQP);
        assertThat(pub.resource().toString()).isEqualTo("orders");
        assertThat(pub.attribute(AmqpParser.ROUTING_KEY).toString()).isEqualTo("eu.created");
        assertThat(h.engine().counters().parseErrors(L7Protocol.AMQP)).isZero();
    }

    @Test
    void shouldFailTheRequestAChannelCloseAnswers() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, "AMQP\0\0\u0009\u0001".getBytes(StandardCharsets.ISO_8859_1), -1);
        h.send(Direction.EGRESS, method(1, 50, 10, 0, "jobs", 0), -1);
        h.send(Direction.INGRESS, method(1, 20, 40, 404, "NOT_FOUND - no queue 'jobs'", 50, 10), -1);
        h.send(Direction.EGRESS, method(1, 20, 41), -1);
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("queue.declare", "channel.close");
        RequestLog declare = h.logs().get(0);
        assertThat(declare.resource().toString()).isEqualTo("jobs");
        assertThat(declare.statusCode()).isEqualTo(404);
        assertThat(declare.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(declare.errorMessage().toString()).isEqualTo("NOT_FOUND - no queue 'jobs'");
        assertThat(h.logs().get(1).statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
    }
}
