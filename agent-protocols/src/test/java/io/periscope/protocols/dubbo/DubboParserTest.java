package io.periscope.protocols.dubbo;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

class DubboParserTest {
    static byte[] hessian(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        if (s.length() < 32) {
            o.write(s.length());
        } else {
            o.write('S');
            o.write(s.length() >> 8);
            o.write(s.length());
        }
        o.writeBytes(b);
        return o.toByteArray();
    }

    static byte[] message(int flag, int status, long id, byte[]... body) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] part : body) {
            b.writeBytes(part);
        }
        byte[] data = b.toByteArray();
        return ByteBuffer.allocate(16 + data.length).putShort((short) 0xdabb).put((byte) flag).put((byte) status)
                .putLong(id).putInt(data.length).put(data).array();
    }

    static byte[] request(long id, String service, String method, byte[]... more) {
        byte[][] parts = new byte[5 + more.length][];
        parts[0] = hessian("2.0.2");
        parts[1] = hessian(service);
        parts[2] = hessian("1.0");
        parts[3] = hessian(method);
        parts[4] = hessian("Ljava/lang/String;");
        System.arraycopy(more, 0, parts, 5, more.length);
        return message(0xC2, 0, id, parts);
    }

    @Test
    void shouldReadServiceMethodAndTraceparentAndPairById() {
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        a.write('H');
        a.writeBytes(hessian("traceparent"));
        a.writeBytes(hessian("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        a.write('Z');
        byte[] attachments = a.toByteArray();
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, request(5, "com.acme.Orders", "place", hessian("arg"), attachments), -1);
        h.send(Direction.EGRESS, request(6, "com.acme.Orders", "cancel"), -1);
        h.send(Direction.INGRESS, message(0x02, 70, 6, hessian("java.lang.IllegalStateException: no")), -1);
        h.send(Direction.INGRESS, message(0x02, 20, 5, new byte[] {(byte) 0x91, 'N'}), -1);
        assertThat(h.logs()).extracting(l -> l.resource().toString())
                .containsExactly("com.acme.Orders/cancel", "com.acme.Orders/place");
        RequestLog failed = h.logs().get(0);
        assertThat(failed.protocol()).isEqualTo(L7Protocol.DUBBO);
        assertThat(failed.statusCode()).isEqualTo(70);
        assertThat(failed.statusClass()).isEqualTo(StatusClass.SERVER_ERROR);
        assertThat(failed.errorMessage().toString()).isEqualTo("java.lang.IllegalStateException: no");
        RequestLog ok = h.logs().get(1);
        assertThat(ok.method().toString()).isEqualTo("place");
        assertThat(ok.version().toString()).isEqualTo("2.0.2");
        assertThat(ok.attribute(DubboParser.SERVICE_VERSION).toString()).isEqualTo("1.0");
        assertThat(ok.statusClass()).isEqualTo(StatusClass.OK);
        assertThat(ok.hasTraceContext()).isTrue();
        assertThat(HexFormat.of().formatHex(ok.traceId())).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    }

    @Test
    void shouldReportAnExceptionResultAsAnErrorAndIgnoreHeartbeats() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, message(0xE2, 0, 1, new byte[] {'N'}), -1); // heartbeat event
        h.send(Direction.EGRESS, request(2, "svc", "m"), -1);
        h.send(Direction.INGRESS, message(0x22, 20, 1, new byte[] {'N'}), -1);
        h.send(Direction.INGRESS, message(0x02, 20, 2, new byte[] {(byte) 0x90, 'N'}), -1);
        assertThat(h.only().statusClass()).isEqualTo(StatusClass.SERVER_ERROR);
        assertThat(h.engine().counters().orphanResponses(L7Protocol.DUBBO)).isZero();
    }
}
