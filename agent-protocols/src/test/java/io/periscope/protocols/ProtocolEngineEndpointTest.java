package io.periscope.protocols;

import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The endpoint cache for connections of unknown role, and port hints from the configuration. */
class ProtocolEngineEndpointTest {
    private static final String PING = "*1\r\n$4\r\nPING\r\n";

    /** A client connection (role known) to 127.0.0.1:9999 teaches the engine that it speaks Redis. */
    private static EngineHarness learntRedisOn9999() {
        EngineHarness h = new EngineHarness().serverPort(9999).role(Role.CLIENT);
        h.socket(1).request(PING).response("+PONG\r\n");
        assertThat(h.engine().counters().inferred(L7Protocol.REDIS)).isEqualTo(1);
        return h;
    }

    @Test
    void unknownRoleClientSideUsesTheCachedServerEndpoint() {
        EngineHarness h = learntRedisOn9999();
        // a socket opened before the tracer: role unknown, first bytes a reply inference cannot place
        h.socket(2).role(Role.UNKNOWN).localPort(40002).response("+PONG\r\n");
        assertThat(h.engine().counters().unknownMessages()).isZero();
        assertThat(h.engine().counters().orphanResponses(L7Protocol.REDIS)).isEqualTo(1);
        h.request("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").response("$-1\r\n");
        assertThat(h.logs()).hasSize(2);
        RequestLog get = h.logs().get(1);
        assertThat(get.method().toString()).isEqualTo("GET");
        assertThat(get.role()).isEqualTo(Role.CLIENT);
        assertThat(h.engine().counters().inferred(L7Protocol.REDIS)).as("no second inference").isEqualTo(1);
    }

    @Test
    void unknownRoleServerSideUsesItsOwnCachedEndpointAndIsTheServer() {
        EngineHarness h = learntRedisOn9999();
        // the server's own socket, accepted before the tracer: local 127.0.0.1:9999, peer 40003.
        // It sends a reply first (a response inference alone does not take), then reads a request.
        h.socket(3).role(Role.UNKNOWN).localPort(9999).serverPort(40003);
        h.send(Direction.EGRESS, "+OK\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII), -1);
        assertThat(h.engine().counters().unknownMessages()).isZero();
        h.send(Direction.INGRESS, PING.getBytes(java.nio.charset.StandardCharsets.US_ASCII), -1);
        h.send(Direction.EGRESS, "+PONG\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII), -1);
        assertThat(h.logs()).hasSize(2);
        RequestLog ping = h.logs().get(1);
        assertThat(ping.method().toString()).isEqualTo("PING");
        assertThat(ping.role()).isEqualTo(Role.SERVER);
        assertThat(ping.localPort()).isEqualTo(9999);
    }

    @Test
    void unknownRoleWithoutACachedEndpointStillNeedsInference() {
        EngineHarness h = new EngineHarness().serverPort(9999).role(Role.UNKNOWN);
        h.response("+PONG\r\n");
        assertThat(h.engine().counters().unknownMessages()).isEqualTo(1);
    }

    @Test
    void bothEndpointsCachedPrefersTheHintedThenTheLowerPort() {
        EngineHarness h = learntRedisOn9999();
        // an HTTP server was seen listening on 40010 (a port that is also someone's ephemeral port)
        h.socket(4).role(Role.SERVER).localPort(40010).serverPort(50000)
                .send(Direction.INGRESS, "GET / HTTP/1.1\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                        -1);
        assertThat(h.engine().counters().inferred(L7Protocol.HTTP1)).isEqualTo(1);
        // now a connection of unknown role from 40010 to the Redis server on 9999: Redis (lower port)
        h.socket(5).role(Role.UNKNOWN).localPort(40010).serverPort(9999).response("+PONG\r\n")
                .request(PING).response("+PONG\r\n");
        assertThat(h.logs()).extracting(l -> l.protocol() + " " + l.method() + " " + l.role())
                .containsExactly("REDIS PING CLIENT", "REDIS PING CLIENT");
    }

    @Test
    void configuredPortHintsAndRemovedDefaultsDoNot() {
        ProtocolConfig config = ProtocolConfig.builder().ports(L7Protocol.REDIS, 16379)
                .addPortRange(L7Protocol.HTTP1, 18080, 18089).ports(L7Protocol.POSTGRESQL).build();
        assertThat(config.portHint(16379)).isEqualTo(L7Protocol.REDIS);
        assertThat(config.portHint(6379)).isNull();
        assertThat(config.portHint(18085)).isEqualTo(L7Protocol.HTTP1);
        assertThat(config.portHint(5432)).isNull();
        assertThat(config.ports(L7Protocol.HTTP1)).containsExactly(80, 8000, 8080, 18080, 18081, 18082, 18083,
                18084, 18085, 18086, 18087, 18088, 18089);
        assertThat(ProtocolConfig.defaults().portHint(6379)).isEqualTo(L7Protocol.REDIS);
        assertThatThrownBy(() -> ProtocolConfig.builder().ports(L7Protocol.DNS, 0)).hasMessageContaining("1-65535");

        // "+OK\r\n" alone passes Redis inference only with a port hint
        EngineHarness hinted = new EngineHarness(config).serverPort(16379).response("+OK\r\n");
        assertThat(hinted.engine().counters().inferred(L7Protocol.REDIS)).isEqualTo(1);
        EngineHarness removed = new EngineHarness(config).serverPort(6379).response("+OK\r\n");
        assertThat(removed.engine().counters().inferred(L7Protocol.REDIS)).isZero();
        assertThat(removed.engine().counters().unknownMessages()).isEqualTo(1);
        EngineHarness byDefault = new EngineHarness().serverPort(6379).response("+OK\r\n");
        assertThat(byDefault.engine().counters().inferred(L7Protocol.REDIS)).isEqualTo(1);
    }

    @Test
    void aConfiguredPortIsStillOnlyAHint() {
        ProtocolConfig config = ProtocolConfig.builder().ports(L7Protocol.REDIS, 16379).build();
        EngineHarness h = new EngineHarness(config).serverPort(16379)
                .request("GET / HTTP/1.1\r\n\r\n").response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(h.only().protocol()).isEqualTo(L7Protocol.HTTP1);
    }
}
