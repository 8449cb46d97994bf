package io.periscope.protocols;

import io.periscope.protocols.testing.EngineHarness;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProtocolEngineTest {
    private static String endpoint(EndpointRule rule, String path) {
        UnsafeBuffer buf = new UnsafeBuffer(path.getBytes(StandardCharsets.US_ASCII));
        TextField out = new TextField(64);
        rule.apply(buf, 0, path.length(), out);
        return out.toString();
    }

    @Test
    void endpointRuleShouldKeepLeadingSegmentsAndHideIds() {
        EndpointRule two = new EndpointRule(2, true);
        assertThat(endpoint(two, "/api/users/12345/orders?x=1")).isEqualTo("/api/users");
        assertThat(endpoint(two, "/users/12345/orders")).isEqualTo("/users/{id}");
        assertThat(endpoint(two, "/o/3f2504e0-4f89-11d3-9a0c-0305e82c3301")).isEqualTo("/o/{id}");
        assertThat(endpoint(two, "/blob/deadbeefcafe0123456789ab")).isEqualTo("/blob/{id}");
        assertThat(endpoint(two, "/v1/catalog")).isEqualTo("/v1/catalog");
        assertThat(endpoint(two, "/")).isEqualTo("/");
        assertThat(endpoint(new EndpointRule(3, false), "/a/1/b/2")).isEqualTo("/a/1/b");
    }

    @Test
    void configShouldRejectNonsenseWithTheKeyName() {
        assertThatThrownBy(() -> ProtocolConfig.builder().maxPendingTotal(0))
                .hasMessageContaining("maxPendingTotal");
        assertThatThrownBy(() -> ProtocolConfig.builder().timeoutNanos(L7Protocol.DNS, -1))
                .hasMessageContaining("timeoutNanos");
    }

    @Test
    void shouldBoundPendingRequestsInTotalAcrossConnections() {
        EngineHarness h = new EngineHarness(ProtocolConfig.builder().maxPendingTotal(3).build());
        for (int c = 1; c <= 5; c++) {
            h.socket(c).request("GET /" + c + " HTTP/1.1\r\n\r\n");
        }
        assertThat(h.engine().pendingCount()).isEqualTo(3);
        assertThat(h.engine().counters().pendingDrops(L7Protocol.HTTP1)).isEqualTo(2);
        // answering frees records for new requests
        h.socket(1).response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        h.socket(6).request("GET /6 HTTP/1.1\r\n\r\n");
        assertThat(h.engine().pendingCount()).isEqualTo(3);
        assertThat(h.engine().counters().pendingDrops(L7Protocol.HTTP1)).isEqualTo(2);
    }

    @Test
    void shouldBoundConnectionsAndForgetIdleOnes() {
        EngineHarness h = new EngineHarness(ProtocolConfig.builder().maxConnections(2).connectionIdleNanos(1_000_000)
                .build());
        h.socket(1).request("GET /a HTTP/1.1\r\n\r\n");
        h.socket(2).request("GET /b HTTP/1.1\r\n\r\n");
        h.socket(3).request("GET /c HTTP/1.1\r\n\r\n");
        assertThat(h.engine().connectionCount()).isEqualTo(2);
        assertThat(h.engine().counters().connectionDrops()).isEqualTo(1);
        h.advance(2_000_000).tick();
        assertThat(h.engine().connectionCount()).isZero();
        assertThat(h.logs()).hasSize(2).allMatch(l -> l.statusClass() == StatusClass.TIMEOUT
                && l.errorMessage().contentEquals("connection idle"));
        h.socket(3).request("GET /c HTTP/1.1\r\n\r\n");
        assertThat(h.engine().connectionCount()).isEqualTo(1);
    }

    @Test
    void shouldRememberTheProtocolOfAServerEndpoint() {
        EngineHarness h = new EngineHarness().serverPort(9999);
        h.socket(1).request("*1\r\n$4\r\nPING\r\n").response("+PONG\r\n");
        // a new connection to the same server: its first bytes would not pass inference alone
        h.socket(2).response("+PONG\r\n");
        assertThat(h.engine().counters().inferred(L7Protocol.REDIS)).isEqualTo(1);
        assertThat(h.engine().counters().unknownMessages()).isZero();
        assertThat(h.engine().counters().orphanResponses(L7Protocol.REDIS)).isEqualTo(1);
    }

    @Test
    void portIsOnlyAHint() {
        // HTTP on the Redis port is still HTTP
        EngineHarness h = new EngineHarness().serverPort(6379)
                .request("GET / HTTP/1.1\r\n\r\n").response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(h.only().protocol()).isEqualTo(L7Protocol.HTTP1);
    }

    @Test
    void disabledProtocolsAreNotParsed() {
        EngineHarness h = new EngineHarness(ProtocolConfig.builder().enable(L7Protocol.REDIS, false).build())
                .request("*1\r\n$4\r\nPING\r\n").response("+PONG\r\n");
        assertThat(h.logs()).isEmpty();
        assertThat(h.engine().counters().unknownMessages()).isEqualTo(2);
    }
}
