package io.periscope.protocols.dns;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

class DnsParserTest {
    static byte[] query(int id, String name, int type, boolean response, int rcode, int answers) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(id >> 8);
        b.write(id);
        b.write(response ? 0x81 : 0x01);
        b.write(response ? 0x80 | rcode : 0x00);
        b.writeBytes(new byte[] {0, 1, 0, (byte) answers, 0, 0, 0, 0});
        for (String label : name.split("\\.")) {
            b.write(label.length());
            b.writeBytes(label.getBytes());
        }
        b.write(0);
        b.writeBytes(new byte[] {0, (byte) type, 0, 1});
        for (int i = 0; i < answers; i++) {
            b.writeBytes(new byte[] {(byte) 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, (byte) i});
        }
        return b.toByteArray();
    }

    static byte[] tcp(byte[]... msgs) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] m : msgs) {
            b.write(m.length >> 8);
            b.write(m.length);
            b.writeBytes(m);
        }
        return b.toByteArray();
    }

    @Test
    void shouldPairUdpQueriesByIdEvenOutOfOrder() {
        EngineHarness h = new EngineHarness().udp()
                .send(Direction.EGRESS, query(1, "a.example", 1, false, 0, 0), -1)
                .send(Direction.EGRESS, query(2, "b.example", 28, false, 0, 0), -1)
                .send(Direction.INGRESS, query(2, "b.example", 28, true, 3, 0), -1)
                .send(Direction.INGRESS, query(1, "a.example", 1, true, 0, 2), -1);
        assertThat(h.logs()).extracting(l -> l.resource().toString()).containsExactly("b.example", "a.example");
        RequestLog b = h.logs().get(0);
        assertThat(b.protocol()).isEqualTo(L7Protocol.DNS);
        assertThat(b.attribute(DnsParser.QUESTION_TYPE).toString()).isEqualTo("AAAA");
        assertThat(b.statusCode()).isEqualTo(3);
        assertThat(b.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(b.errorMessage().toString()).isEqualTo("NXDomain");
        assertThat(h.logs().get(1).attribute(DnsParser.ANSWER_COUNT).toString()).isEqualTo("2");
        assertThat(h.logs().get(1).statusClass()).isEqualTo(StatusClass.OK);
    }

    @Test
    void shouldFrameTcpMessagesSplitAnywhere() {
        byte[] q = tcp(query(7, "x.test", 1, false, 0, 0), query(8, "y.test", 16, false, 0, 0));
        byte[] r = tcp(query(7, "x.test", 1, true, 0, 1), query(8, "y.test", 16, true, 2, 0));
        EngineHarness h = new EngineHarness().serverPort(53);
        h.send(Direction.EGRESS, q, 0, 20, -1).send(Direction.EGRESS, q, 20, q.length - 20, -1);
        h.send(Direction.INGRESS, r, 0, 30, -1).send(Direction.INGRESS, r, 30, r.length - 30, -1);
        assertThat(h.logs()).extracting(l -> l.resource().toString()).containsExactly("x.test", "y.test");
        assertThat(h.logs().get(1).attribute(DnsParser.QUESTION_TYPE).toString()).isEqualTo("TXT");
        assertThat(h.logs().get(1).statusClass()).isEqualTo(StatusClass.SERVER_ERROR);
    }
}
