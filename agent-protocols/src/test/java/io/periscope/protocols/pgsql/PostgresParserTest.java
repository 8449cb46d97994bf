package io.periscope.protocols.pgsql;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class PostgresParserTest {
    static byte[] msg(char type, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(type);
        int len = b.length + 4;
        out.writeBytes(new byte[] {(byte) (len >> 24), (byte) (len >> 16), (byte) (len >> 8), (byte) len});
        out.writeBytes(b);
        return out.toByteArray();
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] startup(String user, String db) {
        byte[] params = ("user\0" + user + "\0database\0" + db + "\0\0").getBytes(StandardCharsets.US_ASCII);
        int len = params.length + 8;
        return cat(new byte[] {(byte) (len >> 24), (byte) (len >> 16), (byte) (len >> 8), (byte) len, 0, 3, 0, 0},
                params);
    }

    @Test
    void shouldReportSimpleAndExtendedQueriesWithObfuscatedText() {
        EngineHarness h = new EngineHarness()
                .send(Direction.EGRESS, startup("app", "shop"), -1)
                .send(Direction.INGRESS, cat(msg('R', "\0\0\0\0"), msg('Z', "I")), -1)
                .send(Direction.EGRESS, msg('Q', "SELECT * FROM users WHERE name = 'bob' AND age > 42\0"), -1)
                .send(Direction.INGRESS, cat(msg('T', "x"), msg('D', "y"), msg('C', "SELECT 1\0"), msg('Z', "I")), -1)
                .send(Direction.EGRESS, cat(msg('P', "\0UPDATE t SET a = $1 WHERE id = 7\0\0\0"), msg('B', "xx"),
                        msg('E', "\0\0\0\0\0"), msg('S', "")), -1)
                .send(Direction.INGRESS, cat(msg('1', ""), msg('2', ""), msg('C', "UPDATE 3\0"), msg('Z', "I")), -1);

        assertThat(h.logs()).hasSize(2);
        RequestLog q = h.logs().get(0);
        assertThat(q.protocol()).isEqualTo(L7Protocol.POSTGRESQL);
        assertThat(q.method().toString()).isEqualTo("SELECT");
        assertThat(q.resource().toString()).isEqualTo("SELECT * FROM users WHERE name = ? AND age > ?");
        assertThat(q.attribute(PostgresParser.DB_NAMESPACE).toString()).isEqualTo("shop");
        assertThat(q.attribute(PostgresParser.DB_ROWS).toString()).isEqualTo("1");
        assertThat(q.statusClass()).isEqualTo(StatusClass.OK);
        RequestLog u = h.logs().get(1);
        assertThat(u.method().toString()).isEqualTo("UPDATE");
        assertThat(u.resource().toString()).isEqualTo("UPDATE t SET a = $1 WHERE id = ?");
        assertThat(u.attribute(PostgresParser.DB_ROWS).toString()).isEqualTo("3");
        assertThat(h.engine().counters().orphanResponses(L7Protocol.POSTGRESQL)).isZero();
    }

    @Test
    void shouldReportErrorResponsesWithSqlstate() {
        EngineHarness h = new EngineHarness().serverPort(5432)
                .send(Direction.EGRESS, msg('Q', "SELEC 1\0"), -1)
                .send(Direction.INGRESS, cat(msg('E', "SERROR\0C42601\0Msyntax error at or near \"SELEC\"\0\0"),
                        msg('Z', "I")), -1)
                .send(Direction.EGRESS, msg('Q', "SELECT pg_sleep(1)\0"), -1)
                .send(Direction.INGRESS, cat(msg('E', "SFATAL\0C57P01\0Mterminating connection\0\0"),
                        msg('Z', "I")), -1);
        assertThat(h.logs()).extracting(RequestLog::statusClass)
                .containsExactly(StatusClass.CLIENT_ERROR, StatusClass.SERVER_ERROR);
        assertThat(h.logs().get(0).attribute(PostgresParser.DB_STATUS_CODE).toString()).isEqualTo("42601");
        assertThat(h.logs().get(0).errorMessage().toString()).isEqualTo("syntax error at or near \"SELEC\"");
    }
}
