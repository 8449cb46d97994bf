package io.periscope.protocols;

import io.periscope.protocols.testing.EngineHarness;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A socket id that comes back with other TCP ports names a new socket. The tracer keys sockets by
 * their kernel address and misses the close of a process that exits without close() (a postgres
 * backend after the client's Terminate): the next socket allocated at that address inherits the
 * id. Bench A lost whole nginx connections this way (0.85-0.96 spans per transaction on the
 * h2load to nginx hop) when an accepted socket inherited a postgres backend's id.
 */
class ProtocolEngineSocketReuseTest {
    private static final byte[] TERMINATE = {'X', 0, 0, 0, 4};

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A PostgreSQL simple Query message. */
    private static byte[] pgQuery(String sql) {
        byte[] text = ascii(sql);
        int len = 4 + text.length + 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write('Q');
        out.write(len >>> 24);
        out.write(len >>> 16);
        out.write(len >>> 8);
        out.write(len);
        out.writeBytes(text);
        out.write(0);
        return out.toByteArray();
    }

    /** A DNS A query or its answer-less NOERROR response for {@code a.example}, id {@code id}. */
    private static byte[] dns(int id, boolean response) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte flags1 = (byte) (response ? 0x81 : 0x01);
        byte flags2 = (byte) (response ? 0x80 : 0x00);
        out.writeBytes(new byte[] {(byte) (id >>> 8), (byte) id, flags1, flags2, 0, 1, 0, 0, 0, 0, 0, 0});
        out.writeBytes(new byte[] {1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1});
        return out.toByteArray();
    }

    @Test
    void anHttpSocketThatInheritsAPostgresBackendsIdIsParsedAsHttp() {
        EngineHarness h = new EngineHarness().role(Role.CLIENT).serverPort(5432);
        h.socket(1).send(Direction.EGRESS, pgQuery("SELECT 1"), -1);
        assertThat(h.engine().counters().inferred(L7Protocol.POSTGRESQL)).as("5432 learnt as PostgreSQL").isEqualTo(1);
        // the backend's socket, met mid-connection (role unknown): the client's Terminate, then
        // the backend exits and no close is seen; the cached endpoint makes it PostgreSQL
        h.socket(7).role(Role.UNKNOWN).localPort(5432).serverPort(40007).send(Direction.INGRESS, TERMINATE, -1);
        // nginx accepts a connection into the same kernel socket address: same id, other ports
        h.role(Role.SERVER).localPort(8080).serverPort(40008);
        for (int i = 0; i < 3; i++) {
            h.send(Direction.INGRESS, ascii("GET /a/" + i + " HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"), -1);
            h.send(Direction.EGRESS, ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), -1);
        }
        assertThat(h.logs()).extracting(l -> l.protocol() + " " + l.method() + " " + l.resource() + " "
                + l.statusCode() + " " + l.role() + " " + l.localPort())
                .containsExactly("HTTP1 GET /a/0 200 SERVER 8080", "HTTP1 GET /a/1 200 SERVER 8080",
                        "HTTP1 GET /a/2 200 SERVER 8080");
        assertThat(h.engine().counters().parseErrors(L7Protocol.POSTGRESQL)).isZero();
        assertThat(h.engine().counters().socketIdReuses()).isEqualTo(1);
    }

    @Test
    void theOldConnectionsUnansweredRequestsEndAsClosed() {
        EngineHarness h = new EngineHarness().role(Role.CLIENT).serverPort(6379).localPort(40001).socket(9);
        h.request("*1\r\n$4\r\nPING\r\n");
        h.localPort(40002).request("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").response("$1\r\nv\r\n");
        assertThat(h.logs()).extracting(l -> l.method() + " " + l.statusClass() + " " + l.errorMessage()
                + " " + l.localPort())
                .containsExactly("PING TIMEOUT connection closed 40001", "GET OK  40002");
        assertThat(h.engine().pendingCount()).isZero();
    }

    @Test
    void aUdpSocketAnsweringManyPeersStaysOneConnection() {
        EngineHarness h = new EngineHarness().udp().role(Role.SERVER).localPort(53).socket(3);
        // two clients' queries on one unconnected server socket, answered in reverse order
        h.serverPort(40001).send(Direction.INGRESS, dns(1, false), -1);
        h.serverPort(40002).send(Direction.INGRESS, dns(2, false), -1);
        h.send(Direction.EGRESS, dns(2, true), -1);
        h.serverPort(40001).send(Direction.EGRESS, dns(1, true), -1);
        assertThat(h.logs()).hasSize(2).allSatisfy(l -> assertThat(l.statusClass()).isEqualTo(StatusClass.OK));
        assertThat(h.engine().counters().socketIdReuses()).isZero();
    }
}
