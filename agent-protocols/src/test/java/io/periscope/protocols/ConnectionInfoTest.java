package io.periscope.protocols;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Records refer to their connection's fields instead of copying them per request: each record
 * must still show the fields of the message that opened it, whatever came on the connection
 * after it, and a record kept (copied) or written to by a sink must not change any other.
 */
class ConnectionInfoTest {
    private final ProtocolEngine engine = new ProtocolEngine(ProtocolConfig.builder().build());
    private final CapturedMessage msg = new CapturedMessage();
    private final List<RequestLog> kept = new ArrayList<>();
    private final List<RequestLog> lent = new ArrayList<>();
    private final RequestLogSink sink = log -> {
        lent.add(log);
        kept.add(new RequestLog().copyFrom(log));
    };
    private long now;

    private void send(long socket, Direction dir, int pid, int tid, String comm, int localPort, byte lastAddressByte,
            String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        msg.clear().socketId(socket).direction(dir).role(Role.CLIENT).timestampNanos(now += 1000)
                .pid(pid).tid(tid).fd(5).ipVersion(4).localPort(localPort).remotePort(8080);
        msg.comm().setAscii(comm);
        msg.localAddress()[0] = 10;
        msg.localAddress()[3] = lastAddressByte;
        msg.remoteAddress()[0] = 10;
        msg.remoteAddress()[3] = 99;
        msg.payload(new UnsafeBuffer(bytes), 0, bytes.length, bytes.length);
        engine.onMessage(msg, sink);
    }

    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

    @Test
    void pendingRecordsKeepTheFieldsOfTheMessageThatOpenedThem() {
        send(1, Direction.EGRESS, 100, 101, "curl", 40000, (byte) 1, "GET /a HTTP/1.1\r\n\r\n");
        // a forked child writes the next, pipelined request on the same socket
        send(1, Direction.EGRESS, 200, 201, "worker", 40000, (byte) 1, "GET /b HTTP/1.1\r\n\r\n");
        send(1, Direction.INGRESS, 100, 101, "curl", 40000, (byte) 1, OK + OK);
        send(1, Direction.EGRESS, 200, 202, "worker", 40000, (byte) 1, "GET /c HTTP/1.1\r\n\r\n");
        send(1, Direction.INGRESS, 200, 202, "worker", 40000, (byte) 1, OK);

        assertThat(kept).extracting(l -> l.resource().toString()).containsExactly("/a", "/b", "/c");
        assertThat(kept).extracting(RequestLog::pid).containsExactly(100, 200, 200);
        assertThat(kept).extracting(RequestLog::tid).containsExactly(101, 201, 202);
        assertThat(kept).extracting(l -> l.comm().toString()).containsExactly("curl", "worker", "worker");
        assertThat(kept).allMatch(l -> l.socketId() == 1 && l.localPort() == 40000 && l.remotePort() == 8080
                && l.role() == Role.CLIENT && l.localAddress()[3] == 1 && l.remoteAddress()[3] == 99
                && l.fd() == 5 && l.ipVersion() == 4 && l.l4Protocol() == 6);
        // copies hold fields of their own: not the connection's object, which goes on changing
        assertThat(kept).allMatch(l -> l.connection() != lent.get(2).connection());
    }

    @Test
    void aPooledConnectionForAnotherSocketShowsTheNewSocketsFields() {
        send(1, Direction.EGRESS, 100, 101, "curl", 40000, (byte) 1, "GET /a HTTP/1.1\r\n\r\n");
        send(1, Direction.INGRESS, 100, 101, "curl", 40000, (byte) 1, OK);
        engine.onConnectionClosed(1, now, sink);
        send(2, Direction.EGRESS, 100, 101, "curl", 40001, (byte) 2, "GET /b HTTP/1.1\r\n\r\n");
        send(2, Direction.INGRESS, 100, 101, "curl", 40001, (byte) 2, OK);

        assertThat(kept).extracting(RequestLog::socketId).containsExactly(1L, 2L);
        assertThat(kept).extracting(RequestLog::localPort).containsExactly(40000, 40001);
        assertThat(kept).extracting(l -> l.localAddress()[3]).containsExactly((byte) 1, (byte) 2);
    }

    @Test
    void aSinkWritingALentRecordChangesNoOtherRecord() {
        RequestLogSink writer = log -> {
            kept.add(new RequestLog().copyFrom(log));
            log.pid(-7).localPort(1).role(Role.SERVER);
        };
        for (String path : new String[] {"/a", "/b"}) {
            byte[] req = ("GET " + path + " HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] resp = OK.getBytes(StandardCharsets.US_ASCII);
            msg.clear().socketId(3).direction(Direction.EGRESS).role(Role.CLIENT).timestampNanos(now += 1000)
                    .pid(100).ipVersion(4).localPort(40000).remotePort(8080);
            msg.payload(new UnsafeBuffer(req), 0, req.length, req.length);
            engine.onMessage(msg, writer);
            msg.direction(Direction.INGRESS).payload(new UnsafeBuffer(resp), 0, resp.length, resp.length);
            engine.onMessage(msg, writer);
        }
        assertThat(kept).extracting(RequestLog::pid).containsExactly(100, 100);
        assertThat(kept).extracting(RequestLog::localPort).containsExactly(40000, 40000);
        assertThat(kept).extracting(RequestLog::role).containsExactly(Role.CLIENT, Role.CLIENT);
    }
}
