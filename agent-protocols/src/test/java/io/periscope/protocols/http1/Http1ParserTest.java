package io.periscope.protocols.http1;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class Http1ParserTest {
    private static final String REQ = "GET /api/users/12345/orders?page=2 HTTP/1.1\r\nHost: shop.example\r\n"
            + "User-Agent: curl/8.1\r\nAuthorization: Bearer secret\r\nCookie: a=b\r\n"
            + "X-Request-ID: req-42\r\n"
            + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n";
    private static final String RESP = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: s=1\r\n\r\nhello";

    @Test
    void shouldPairRequestWithResponseAndReadHeaders() {
        EngineHarness h = new EngineHarness().request(REQ).response(RESP);

        RequestLog log = h.only();
        assertThat(log.protocol()).isEqualTo(L7Protocol.HTTP1);
        assertThat(log.method().toString()).isEqualTo("GET");
        assertThat(log.version().toString()).isEqualTo("1.1");
        assertThat(log.resource().toString()).isEqualTo("/api/users/12345/orders?page=2");
        assertThat(log.endpoint().toString()).isEqualTo("/api/users");
        assertThat(log.host().toString()).isEqualTo("shop.example");
        assertThat(log.userAgent().toString()).isEqualTo("curl/8.1");
        assertThat(log.requestId().toString()).isEqualTo("req-42");
        assertThat(log.hasTraceContext()).isTrue();
        assertThat(log.sampled()).isTrue();
        assertThat(log.traceId()[0]).isEqualTo((byte) 0x0a);
        assertThat(log.traceId()[15]).isEqualTo((byte) 0x9c);
        assertThat(log.parentSpanId()[7]).isEqualTo((byte) 0x31);
        assertThat(log.statusCode()).isEqualTo(200);
        assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
        assertThat(log.requestBytes()).isEqualTo(REQ.length());
        assertThat(log.responseBytes()).isEqualTo(RESP.length());
        assertThat(log.durationNanos()).isEqualTo(1_000);
        assertThat(log.role()).isEqualTo(Role.CLIENT);
    }

    @Test
    void shouldNeverKeepCredentials() {
        EngineHarness h = new EngineHarness().request(REQ).response(RESP);
        RequestLog log = h.only();
        StringBuilder all = new StringBuilder(log.resource() + " " + log.host() + " " + log.errorMessage());
        for (int i = 0; i < log.attributeCount(); i++) {
            all.append(' ').append(log.attributeValue(i));
        }
        assertThat(all.toString()).doesNotContain("secret").doesNotContain("a=b").doesNotContain("s=1");
    }

    @Test
    void shouldPairPipelinedRequestsInOrder() {
        EngineHarness h = new EngineHarness()
                .request("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
                .response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Not Found\r\n"
                        + "Content-Length: 2\r\n\r\nnoHTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");

        assertThat(h.logs()).extracting(l -> l.resource().toString()).containsExactly("/a", "/b", "/c");
        assertThat(h.logs()).extracting(RequestLog::statusCode).containsExactly(200, 404, 500);
        assertThat(h.logs()).extracting(RequestLog::statusClass)
                .containsExactly(StatusClass.OK, StatusClass.CLIENT_ERROR, StatusClass.SERVER_ERROR);
        assertThat(h.logs().get(2).requestBytes()).isEqualTo(39 + 3);
        assertThat(h.logs().get(1).errorMessage().toString()).isEqualTo("Not Found");
    }

    @Test
    void shouldSkipChunkedBodiesAcrossMessages() {
        EngineHarness h = new EngineHarness()
                .request("GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n")
                .response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
                .response("lo\r\n3;ext=1\r\nabc\r\n0\r\n")
                .response("\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");

        assertThat(h.logs()).extracting(RequestLog::statusCode).containsExactly(200, 201);
        String head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        String body = "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n";
        assertThat(h.logs().get(0).responseBytes()).isEqualTo(head.length() + body.length());
    }

    @Test
    void shouldWaitPast100ContinueForTheFinalStatus() {
        EngineHarness h = new EngineHarness()
                .request("PUT /upload HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
                .response("HTTP/1.1 100 Continue\r\n\r\n");
        assertThat(h.logs()).isEmpty();
        h.request("data").response("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
        assertThat(h.only().statusCode()).isEqualTo(201);
        assertThat(h.only().method().toString()).isEqualTo("PUT");
    }

    @Test
    void shouldJoinAHeadSplitAcrossSegments() {
        EngineHarness h = new EngineHarness()
                .request("GET /split HTTP/1.1\r\nHo")
                .request("st: h\r\n\r\n")
                .response("HTTP/1.1 30")
                .response("4 Not Modified\r\nContent-Length: 10\r\n\r\n");

        RequestLog log = h.only();
        assertThat(log.host().toString()).isEqualTo("h");
        assertThat(log.statusCode()).isEqualTo(304);
    }

    @Test
    void shouldCountTruncatedBodiesOffByTrueLength() {
        byte[] resp = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nxxxx".getBytes(StandardCharsets.US_ASCII);
        EngineHarness h = new EngineHarness().request("GET /big HTTP/1.1\r\n\r\n");
        h.send(Direction.INGRESS, resp, resp.length - 4 + 100_000);
        h.request("GET /next HTTP/1.1\r\n\r\n").response("HTTP/1.1 204 No Content\r\n\r\n");

        assertThat(h.logs()).extracting(RequestLog::statusCode).containsExactly(200, 204);
        assertThat(h.engine().counters().truncatedMessages(L7Protocol.HTTP1)).isEqualTo(1);
    }

    @Test
    void shouldNotTreatAHeadResponseContentLengthAsBody() {
        EngineHarness h = new EngineHarness()
                .request("HEAD /h HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n")
                .response("HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(h.logs()).extracting(l -> l.resource().toString()).containsExactly("/h", "/g");
    }

    @Test
    void shouldReadB3UberAndSw8Headers() {
        EngineHarness h = new EngineHarness()
                .request("GET /1 HTTP/1.1\r\nb3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1\r\n\r\n")
                .response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .request("GET /2 HTTP/1.1\r\nX-B3-TraceId: 463ac35c9f6413ad\r\nX-B3-SpanId: a2fb4a1d1a96d312\r\n"
                        + "X-B3-Sampled: 1\r\n\r\n")
                .response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .request("GET /3 HTTP/1.1\r\nuber-trace-id: 5af7183fb1d4cf5f:6ee3ff4b9bc2e3d1:0:1\r\n\r\n")
                .response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .request("GET /4 HTTP/1.1\r\n"
                        + "sw8: 1-MzkxMjE5NmRlMGNm-MzkxMjE5-4-c2Vydg==-aW5zdA==-L2E=-aG9zdA==\r\n\r\n")
                .response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        assertThat(h.logs()).hasSize(4);
        assertThat(h.logs().get(0).traceId()[0]).isEqualTo((byte) 0x80);
        assertThat(h.logs().get(0).parentSpanId()[0]).isEqualTo((byte) 0xe4);
        assertThat(h.logs().get(0).sampled()).isTrue();
        assertThat(h.logs().get(1).traceId()[7]).isEqualTo((byte) 0x00);
        assertThat(h.logs().get(1).traceId()[8]).isEqualTo((byte) 0x46);
        assertThat(h.logs().get(1).parentSpanId()[0]).isEqualTo((byte) 0xa2);
        assertThat(h.logs().get(1).sampled()).isTrue();
        assertThat(h.logs().get(2).traceId()[8]).isEqualTo((byte) 0x5a);
        assertThat(h.logs().get(2).hasTraceContext()).isTrue();
        assertThat(h.logs().get(3).attribute(Http1Parser.SW8_TRACE_ID).toString()).isEqualTo("3912196de0cf");
    }

    @Test
    void shallowModeKeepsOnlyLinesAndFraming() {
        EngineHarness h = new EngineHarness(ProtocolConfig.builder().shallow(L7Protocol.HTTP1, true).build())
                .request(REQ).response(RESP);
        RequestLog log = h.only();
        assertThat(log.method().toString()).isEqualTo("GET");
        assertThat(log.statusCode()).isEqualTo(200);
        assertThat(log.responseBytes()).isEqualTo(RESP.length());
        assertThat(log.host().isEmpty()).isTrue();
        assertThat(log.hasTraceContext()).isFalse();
    }

    @Test
    void shouldEndUnansweredRequestsAsTimeout() {
        EngineHarness h = new EngineHarness(ProtocolConfig.builder().timeoutNanos(L7Protocol.HTTP1, 5_000).build())
                .request("GET /slow HTTP/1.1\r\n\r\n");
        h.tick();
        assertThat(h.logs()).isEmpty();
        h.advance(10_000).tick();
        assertThat(h.only().statusClass()).isEqualTo(StatusClass.TIMEOUT);
        assertThat(h.engine().counters().timeouts(L7Protocol.HTTP1)).isEqualTo(1);
        assertThat(h.engine().pendingCount()).isZero();
    }

    @Test
    void shouldBoundPendingRequestsPerConnectionAndCountDrops() {
        EngineHarness h = new EngineHarness(ProtocolConfig.builder().maxPendingPerConnection(2).build());
        for (int i = 0; i < 5; i++) {
            h.request("GET /" + i + " HTTP/1.1\r\n\r\n");
        }
        assertThat(h.engine().pendingCount()).isEqualTo(2);
        assertThat(h.engine().counters().pendingDrops(L7Protocol.HTTP1)).isEqualTo(3);
        h.close();
        assertThat(h.logs()).hasSize(2).allMatch(l -> l.statusClass() == StatusClass.TIMEOUT);
    }

    @Test
    void shouldRecogniseAResponseFirstCaptureWhenRoleIsUnknown() {
        EngineHarness h = new EngineHarness().role(Role.UNKNOWN)
                .response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .request("GET /after HTTP/1.1\r\n\r\n")
                .response("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
        assertThat(h.only().statusCode()).isEqualTo(202);
        assertThat(h.engine().counters().orphanResponses(L7Protocol.HTTP1)).isEqualTo(1);
    }

    @Test
    void shouldGiveUpOnUnknownBytesAfterBoundedTries() {
        EngineHarness h = new EngineHarness(ProtocolConfig.builder().maxInferenceAttempts(3).build());
        for (int i = 0; i < 10; i++) {
            h.request("\u0001\u0002garbage" + i);
        }
        assertThat(h.engine().counters().inferenceGiveUps()).isEqualTo(1);
        assertThat(h.engine().counters().unknownMessages()).isEqualTo(10);
        h.request("GET / HTTP/1.1\r\n\r\n").response("HTTP/1.1 200 OK\r\n\r\n");
        assertThat(h.logs()).isEmpty();
    }

    @Test
    void shouldResyncAfterGarbage() {
        EngineHarness h = new EngineHarness()
                .request("GET /ok HTTP/1.1\r\n\r\n").response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .request("\u0000\u0001\u0002 not http at all\r\n\r\n")
                .request("GET /again HTTP/1.1\r\n\r\n").response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(h.logs()).extracting(l -> l.resource().toString()).containsExactly("/ok", "/again");
        assertThat(h.engine().counters().parseErrors(L7Protocol.HTTP1)).isEqualTo(1);
    }
}
