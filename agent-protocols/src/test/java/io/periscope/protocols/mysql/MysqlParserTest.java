package io.periscope.protocols.mysql;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;

import static org.assertj.core.api.Assertions.assertThat;

class MysqlParserTest {
    static byte[] packet(int seq, byte[] payload) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(payload.length);
        b.write(payload.length >> 8);
        b.write(payload.length >> 16);
        b.write(seq);
        b.writeBytes(payload);
        return b.toByteArray();
    }

    static byte[] command(int cmd, String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[t.length + 1];
        p[0] = (byte) cmd;
        System.arraycopy(t, 0, p, 1, t.length);
        return packet(0, p);
    }

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    static byte[] err(int code, String state, String msg) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(bytes(0xFF, code & 0xFF, code >> 8, '#'));
        b.writeBytes(state.getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(msg.getBytes(StandardCharsets.US_ASCII));
        return packet(1, b.toByteArray());
    }

    static byte[] compressed(int seq, byte[] inner) {
        Deflater d = new Deflater();
        d.setInput(inner);
        d.finish();
        byte[] out = new byte[inner.length + 64];
        int n = d.deflate(out);
        d.end();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(bytes(n & 0xFF, n >> 8, n >> 16, seq, inner.length & 0xFF, inner.length >> 8, inner.length >> 16));
        b.write(out, 0, n);
        return b.toByteArray();
    }

    @Test
    void shouldPairQueriesPreparesAndExecutesByStatementId() {
        EngineHarness h = new EngineHarness().serverPort(3306)
                .send(Direction.EGRESS, command(3, "SELECT * FROM t WHERE id = 42"), -1)
                .send(Direction.INGRESS, packet(1, bytes(1)), -1)
                .send(Direction.EGRESS, command(22, "UPDATE t SET v = ? WHERE id = ?"), -1)
                .send(Direction.INGRESS, packet(1, bytes(0, 9, 0, 0, 0, 0, 0, 2, 0, 0, 0)), -1)
                .send(Direction.EGRESS, packet(0, bytes(23, 9, 0, 0, 0, 0, 1, 0, 0, 0)), -1)
                .send(Direction.INGRESS, packet(1, bytes(0, 1, 0, 2, 0, 0, 0)), -1)
                .send(Direction.EGRESS, command(3, "SELEC 1"), -1)
                .send(Direction.INGRESS, err(1064, "42000", "You have an error in your SQL syntax"), -1);

        assertThat(h.logs()).extracting(l -> l.method().toString())
                .containsExactly("SELECT", "PREPARE", "EXECUTE", "SELEC");
        RequestLog select = h.logs().get(0);
        assertThat(select.protocol()).isEqualTo(L7Protocol.MYSQL);
        assertThat(select.resource().toString()).isEqualTo("SELECT * FROM t WHERE id = ?");
        assertThat(h.logs().get(2).resource().toString()).isEqualTo("UPDATE t SET v = ? WHERE id = ?");
        assertThat(h.logs().get(2).attribute(MysqlParser.STATEMENT_ID).toString()).isEqualTo("9");
        RequestLog error = h.logs().get(3);
        assertThat(error.statusCode()).isEqualTo(1064);
        assertThat(error.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(error.attribute(MysqlParser.DB_STATUS_CODE).toString()).isEqualTo("42000");
        assertThat(error.errorMessage().toString()).isEqualTo("You have an error in your SQL syntax");
    }

    @Test
    void shouldInflateCompressedPacketsAfterALoginThatAskedForCompression() {
        byte[] greeting = packet(0,
                "\n5.7.0\0xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream login = new ByteArrayOutputStream();
        // capabilities: CONNECT_WITH_DB | COMPRESS | PROTOCOL_41 | SECURE_CONNECTION
        login.writeBytes(bytes(0x28, 0x82, 0, 0, 0, 0, 0, 1, 33));
        login.writeBytes(new byte[23]);
        login.writeBytes("app\0".getBytes(StandardCharsets.US_ASCII));
        login.writeBytes(bytes(0));
        login.writeBytes("shop\0".getBytes(StandardCharsets.US_ASCII));
        EngineHarness h = new EngineHarness().serverPort(3306)
                .send(Direction.INGRESS, greeting, -1)
                .send(Direction.EGRESS, packet(1, login.toByteArray()), -1)
                .send(Direction.INGRESS, packet(2, bytes(0, 0, 0, 2, 0, 0, 0)), -1)
                .send(Direction.EGRESS, compressed(0, command(3, "SELECT name FROM users")), -1)
                .send(Direction.INGRESS, compressed(1, err(1146, "42S02", "Table 'shop.users' doesn't exist")), -1);

        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("LOGIN", "SELECT");
        assertThat(h.logs().get(0).attribute(MysqlParser.DB_NAMESPACE).toString()).isEqualTo("shop");
        assertThat(h.logs().get(1).statusCode()).isEqualTo(1146);
        assertThat(h.logs().get(1).errorMessage().toString()).isEqualTo("Table 'shop.users' doesn't exist");
    }
}
