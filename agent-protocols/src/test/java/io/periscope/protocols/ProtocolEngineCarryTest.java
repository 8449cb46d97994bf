package io.periscope.protocols;

import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A message head split across captured segments is completed from the start of the next segment
 * whatever that segment's size; only a head larger than the carry is lost, and that is counted.
 */
class ProtocolEngineCarryTest {
    private static final int BODY_BYTES = 16_000;

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] filled(int n, char c) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) c);
        return b;
    }

    /** Sends {@code bytes} as two segments, the first {@code firstBytes} long. */
    private static void split(EngineHarness h, Direction dir, byte[] bytes, int firstBytes) {
        h.send(dir, bytes, 0, firstBytes, -1);
        h.send(dir, bytes, firstBytes, bytes.length - firstBytes, -1);
    }

    private static byte[] pg(char type, byte[] body) {
        int len = body.length + 4;
        return cat(new byte[] {(byte) type, (byte) (len >> 24), (byte) (len >> 16), (byte) (len >> 8), (byte) len},
                body);
    }

    @Test
    void httpResponseHeadSplitAfterTenBytesBeforeASegmentLargerThanTheCarry() {
        byte[] response = cat(ascii("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + BODY_BYTES + "\r\nConnection: keep-alive\r\n\r\n"), filled(BODY_BYTES, 'x'));
        EngineHarness h = new EngineHarness().serverPort(8080).request("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
        split(h, Direction.INGRESS, response, 10);
        assertThat(response.length - 10).isGreaterThan(ProtocolConfig.defaults().maxCarryBytes());
        // the connection stays in step: the next pair is parsed too
        h.request("GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
                .response("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");

        assertThat(h.logs()).extracting(l -> l.resource() + " " + l.statusCode())
                .containsExactly("/big 200", "/next 404");
        assertThat(h.logs().get(0).responseBytes()).isEqualTo(response.length);
        assertThat(h.logs().get(0).endNanos()).as("the response starts with the first segment")
                .isEqualTo(h.logs().get(0).startNanos() + 1_000);
        assertThat(h.engine().counters().carryOverflows(L7Protocol.HTTP1)).isZero();
        assertThat(h.engine().counters().parseErrors(L7Protocol.HTTP1)).isZero();
    }

    @Test
    void pipelinedRequestsWhoseSecondHeadIsSplitBeforeALargeBody() {
        byte[] first = ascii("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
        byte[] post = cat(ascii("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Length: " + BODY_BYTES + "\r\n\r\n"), filled(BODY_BYTES, 'b'));
        byte[] third = ascii("GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
        byte[] stream = cat(first, post, third);
        EngineHarness h = new EngineHarness().serverPort(8080);
        // first segment: request 1 and 12 bytes of the POST's head; then the rest in one segment
        split(h, Direction.EGRESS, stream, first.length + 12);
        h.response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(h.logs()).extracting(l -> l.method() + " " + l.resource() + " " + l.statusCode())
                .containsExactly("GET /a 200", "POST /upload 201", "GET /c 200");
        assertThat(h.logs().get(1).requestBytes()).isEqualTo(post.length);
        assertThat(h.engine().counters().carryOverflows(L7Protocol.HTTP1)).isZero();
    }

    @Test
    void carryThatStillHoldsWholeMessagesIsParsedRoundByRound() {
        // a small carry: the first segment leaves a head behind, the next brings several messages
        ProtocolConfig config = ProtocolConfig.builder().maxCarryBytes(64).build();
        EngineHarness h = new EngineHarness(config).serverPort(6379);
        StringBuilder replies = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            h.request("*2\r\n$3\r\nGET\r\n$3\r\nk" + (char) ('a' + i) + "x\r\n");
            replies.append("$5\r\nvalue\r\n");
        }
        split(h, Direction.INGRESS, ascii(replies.toString()), 3);
        assertThat(h.logs()).hasSize(20).allMatch(l -> l.statusClass() == StatusClass.OK);
        assertThat(h.engine().counters().carryOverflows(L7Protocol.REDIS)).isZero();
        assertThat(h.engine().counters().orphanResponses(L7Protocol.REDIS)).isZero();
    }

    @Test
    void redisBulkReplyHeaderSplitBeforeTheLargeValue() {
        byte[] reply = cat(ascii("$" + BODY_BYTES + "\r\n"), filled(BODY_BYTES, 'v'), ascii("\r\n"));
        EngineHarness h = new EngineHarness().serverPort(6379).request("*2\r\n$3\r\nGET\r\n$8\r\nblob:big\r\n");
        split(h, Direction.INGRESS, reply, 3);
        // a SET whose value is large, its head split too, then a small command
        byte[] set = cat(ascii("*3\r\n$3\r\nSET\r\n$5\r\nother\r\n$" + BODY_BYTES + "\r\n"), filled(BODY_BYTES, 's'),
                ascii("\r\n"));
        split(h, Direction.EGRESS, set, 9);
        h.response("+OK\r\n").request("*1\r\n$4\r\nPING\r\n").response("+PONG\r\n");

        assertThat(h.logs()).extracting(l -> l.method() + " " + l.resource())
                .containsExactly("GET blob:big", "SET other", "PING ");
        assertThat(h.logs().get(0).responseBytes()).isEqualTo(reply.length);
        assertThat(h.logs().get(1).requestBytes()).isEqualTo(set.length);
        assertThat(h.engine().counters().carryOverflows(L7Protocol.REDIS)).isZero();
        assertThat(h.engine().counters().parseErrors(L7Protocol.REDIS)).isZero();
    }

    @Test
    void postgresResultSetSplitInsideItsFirstMessageHeader() {
        ByteArrayOutputStream rows = new ByteArrayOutputStream();
        rows.writeBytes(pg('T', ascii("\0\1v\0\0\0@\0\0\2\0\0\0\31\377\377\377\377\377\377\0\0")));
        int n = 0;
        while (rows.size() < BODY_BYTES) {
            rows.writeBytes(pg('D', cat(ascii("\0\1\0\0\0\100"), filled(64, 'r'))));
            n++;
        }
        rows.writeBytes(pg('C', ascii("SELECT " + n + "\0")));
        rows.writeBytes(pg('Z', ascii("I")));
        byte[] response = rows.toByteArray();
        EngineHarness h = new EngineHarness().serverPort(5432);
        h.send(Direction.EGRESS, pg('Q', ascii("SELECT v FROM chain\0")), -1);
        split(h, Direction.INGRESS, response, 3);
        h.send(Direction.EGRESS, pg('Q', ascii("SELECT 1\0")), -1);
        h.send(Direction.INGRESS, cat(pg('C', ascii("SELECT 1\0")), pg('Z', ascii("I"))), -1);

        assertThat(h.logs()).extracting(l -> l.resource().toString())
                .containsExactly("SELECT v FROM chain", "SELECT ?");
        assertThat(h.logs().get(0).attributeCount()).isPositive();
        assertThat(h.logs().get(0).responseBytes()).isEqualTo(response.length);
        assertThat(h.logs().get(0).statusClass()).isEqualTo(StatusClass.OK);
        assertThat(h.engine().counters().carryOverflows(L7Protocol.POSTGRESQL)).isZero();
    }

    @Test
    void headLargerThanTheCarryIsCountedAndTheConnectionResynchronises() {
        ProtocolConfig config = ProtocolConfig.builder().maxCarryBytes(256).build();
        byte[] request = ascii("GET /" + "y".repeat(600) + " HTTP/1.1\r\nHost: h\r\n\r\n");
        EngineHarness h = new EngineHarness(config).serverPort(8080).request("GET /a HTTP/1.1\r\n\r\n")
                .response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        split(h, Direction.EGRESS, request, 10);
        assertThat(h.engine().counters().carryOverflows(L7Protocol.HTTP1)).isEqualTo(1);
        h.request("GET /b HTTP/1.1\r\n\r\n").response("HTTP/1.1 204 No Content\r\n\r\n");
        assertThat(h.logs()).extracting(l -> l.resource() + " " + l.statusCode()).contains("/a 200", "/b 204");
    }
}
