package io.periscope.protocols.pgsql;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
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
    void shouldNameRequestsThatOnlyBindAStatementPreparedEarlier() {
        EngineHarness h = new EngineHarness().serverPort(5432)
                .send(Direction.EGRESS, cat(msg('P', "S_1\0SELECT * FROM t WHERE id = $1\0\0\0"),
                        msg('B', "\0S_1\0\0\0\0\0\0\0"), msg('E', "\0\0\0\0\0"), msg('S', "")), -1)
                .send(Direction.INGRESS, cat(msg('1', ""), msg('2', ""), msg('C', "SELECT 1\0"), msg('Z', "I")), -1)
                .send(Direction.EGRESS, cat(msg('B', "\0S_1\0\0\0\0\0\0\0"), msg('E', "\0\0\0\0\0"),
                        msg('S', "")), -1)
                .send(Direction.INGRESS, cat(msg('2', ""), msg('C', "SELECT 1\0"), msg('Z', "I")), -1)
                .send(Direction.EGRESS, cat(msg('B', "\0S_9\0\0\0\0\0\0\0"), msg('E', "\0\0\0\0\0"),
                        msg('S', "")), -1)
                .send(Direction.INGRESS, cat(msg('2', ""), msg('C', "SELECT 0\0"), msg('Z', "I")), -1);
        assertThat(h.logs()).extracting(l -> l.method() + " " + l.resource()).containsExactly(
                "SELECT SELECT * FROM t WHERE id = $1", "SELECT SELECT * FROM t WHERE id = $1", "EXECUTE ");
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

    /** Real bytes (strace of a postgres 15 backend serving pgjdbc 42.7.13, "SELECT v FROM chain WHERE id = ?"). */
    private static final String PARSE_BATCH = "P\0\0\0-\0SELECT v FROM chain WHERE id = $1\0\0\1\0\0\0\27"
            + "B\0\0\0\26\0\0\0\1\0\1\0\1\0\0\0\4\0\0\0\1\0\0D\0\0\0\6P\0E\0\0\0\t\0\0\0\0\0S\0\0\0\4";
    private static final String PARSE_ANSWER = "1\0\0\0\0042\0\0\0\4T\0\0\0\32\0\1v\0\0\0@\0\0\2\0\0\0\31"
            + "\377\377\377\377\377\377\0\0D\0\0\0\37\0\1\0\0\0\25value-from-postgresqlC\0\0\0\rSELECT 1\0Z\0\0\0\5I";
    private static final String NAMED_PARSE_BATCH = "P\0\0\0000S_1\0SELECT v FROM chain WHERE id = $1\0\0\1\0\0\0\27"
            + "B\0\0\0\31\0S_1\0\0\1\0\1\0\1\0\0\0\4\0\0\0\1\0\0D\0\0\0\6P\0E\0\0\0\t\0\0\0\0\0S\0\0\0\4";
    private static final String BIND_BATCH = "B\0\0\0\31\0S_1\0\0\1\0\1\0\1\0\0\0\4\0\0\0\1\0\0"
            + "E\0\0\0\t\0\0\0\0\0S\0\0\0\4";
    private static final String BIND_ANSWER = "2\0\0\0\4D\0\0\0\37\0\1\0\0\0\25value-from-postgresqlC\0\0\0\r"
            + "SELECT 1\0Z\0\0\0\5I";

    /**
     * The postgres backend side as the socket tracer sees it: the postmaster's close() of its copy
     * of the accepted socket ends the socket id the accept gave, so the backend's later reads come
     * under a new id, role unknown, mid-stream, on a port that is no hint (not 5432). pgjdbc's
     * batches (Parse with parameter types, then Bind/Execute/Sync only) must still be recognised:
     * giving up on them lost every later request of that connection.
     */
    @Test
    void shouldRecogniseTheServerSideOfPgjdbcBatchesSeenMidStreamWithoutRoleOrPortHint() {
        EngineHarness h = new EngineHarness().role(Role.UNKNOWN).serverPort(18450);
        // the server receives requests (INGRESS) and sends answers (EGRESS)
        for (int i = 0; i < 3; i++) {
            h.send(Direction.INGRESS, bytes(PARSE_BATCH), -1).send(Direction.EGRESS, bytes(PARSE_ANSWER), -1);
        }
        h.send(Direction.INGRESS, bytes(NAMED_PARSE_BATCH), -1).send(Direction.EGRESS, bytes(PARSE_ANSWER), -1);
        for (int i = 0; i < 20; i++) {
            h.send(Direction.INGRESS, bytes(BIND_BATCH), -1).send(Direction.EGRESS, bytes(BIND_ANSWER), -1);
        }
        assertThat(h.logs()).hasSize(24);
        assertThat(h.logs()).allSatisfy(l -> {
            assertThat(l.protocol()).isEqualTo(L7Protocol.POSTGRESQL);
            assertThat(l.role()).isEqualTo(Role.SERVER);
            assertThat(l.statusClass()).isEqualTo(StatusClass.OK);
            assertThat(l.attribute(PostgresParser.DB_ROWS).toString()).isEqualTo("1");
        });
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsOnly("SELECT");
    }

    /** A connection first seen after pgjdbc's prepareThreshold: only Bind/Execute/Sync ever come. */
    @Test
    void shouldRecogniseBindOnlyBatchesAndTheirAnswersWithoutPortHint() {
        EngineHarness h = new EngineHarness().role(Role.UNKNOWN).serverPort(18450);
        for (int i = 0; i < 10; i++) {
            h.send(Direction.INGRESS, bytes(BIND_BATCH), -1).send(Direction.EGRESS, bytes(BIND_ANSWER), -1);
        }
        assertThat(h.logs()).hasSize(10).allSatisfy(l -> {
            assertThat(l.role()).isEqualTo(Role.SERVER);
            assertThat(l.method().toString()).isEqualTo("EXECUTE");
        });
        // seen from the answer first (the request was read before the socket was traced)
        EngineHarness late = new EngineHarness().socket(2).role(Role.UNKNOWN).serverPort(18450);
        late.send(Direction.EGRESS, bytes(BIND_ANSWER), -1);
        for (int i = 0; i < 5; i++) {
            late.send(Direction.INGRESS, bytes(BIND_BATCH), -1).send(Direction.EGRESS, bytes(BIND_ANSWER), -1);
        }
        assertThat(late.logs()).hasSize(5).allSatisfy(l -> assertThat(l.role()).isEqualTo(Role.SERVER));
    }

    /** Text that merely starts with a message-type letter is not taken for PostgreSQL without a port hint. */
    @Test
    void shouldNotTakeLookalikeTextForPostgresWithoutPortHint() {
        EngineHarness h = new EngineHarness().role(Role.UNKNOWN).serverPort(18450);
        h.send(Direction.INGRESS, bytes("B\0\0\0\31 this is not a bind message at all"), -1)
                .send(Direction.EGRESS, bytes("2\0\0\0\4 nor an answer"), -1);
        assertThat(h.logs()).isEmpty();
        assertThat(h.engine().counters().inferred(L7Protocol.POSTGRESQL)).isZero();
    }

    private static byte[] bytes(String octalEscaped) {
        return octalEscaped.getBytes(StandardCharsets.ISO_8859_1);
    }
}
