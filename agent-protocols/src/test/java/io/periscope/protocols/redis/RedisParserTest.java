package io.periscope.protocols.redis;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RedisParserTest {
    @Test
    void shouldReadCommandAndKeyAndDropTheValue() {
        String set = "*3\r\n$3\r\nset\r\n$4\r\nuser\r\n$6\r\nsecret\r\n";
        EngineHarness h = new EngineHarness().request(set).response("+OK\r\n");
        RequestLog log = h.only();
        assertThat(log.protocol()).isEqualTo(L7Protocol.REDIS);
        assertThat(log.method().toString()).isEqualTo("SET");
        assertThat(log.resource().toString()).isEqualTo("user");
        assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
        assertThat(log.requestBytes()).isEqualTo(set.length());
        assertThat(log.responseBytes()).isEqualTo(5);
    }

    @Test
    void shouldKeepArgumentsWhenObfuscationIsOff() {
        EngineHarness h = new EngineHarness(ProtocolConfig.builder().obfuscate(false).build())
                .request("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n").response("+OK\r\n");
        assertThat(h.only().resource().toString()).isEqualTo("k v");
    }

    @Test
    void shouldPairPipelinedCommandsAndReportErrors() {
        EngineHarness h = new EngineHarness()
                .request("*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n"
                        + "*2\r\n$4\r\nLLEN\r\n$1\r\nc\r\n")
                .response("$3\r\nabc\r\n+PONG\r\n-WRONGTYPE Operation against a key\r\n-OOM command not allowed\r\n");
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("GET", "PING", "INCR", "LLEN");
        assertThat(h.logs()).extracting(RequestLog::statusClass).containsExactly(StatusClass.OK, StatusClass.OK,
                StatusClass.CLIENT_ERROR, StatusClass.SERVER_ERROR);
        assertThat(h.logs().get(2).errorMessage().toString()).isEqualTo("WRONGTYPE Operation against a key");
    }

    @Test
    void shouldFrameNestedAndResp3RepliesAcrossMessages() {
        EngineHarness h = new EngineHarness()
                .request("*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nn\r\n")
                .response("%2\r\n$1\r\na\r\n*2\r\n:1\r\n$5\r\nhel")
                .response("lo\r\n$1\r\nb\r\n#t\r\n")
                .response(">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n+PONG\r\n_\r\n");
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("HGETALL", "PING", "GET");
        assertThat(h.logs().get(0).responseBytes())
                .isEqualTo("%2\r\n$1\r\na\r\n*2\r\n:1\r\n$5\r\nhello\r\n$1\r\nb\r\n#t\r\n".length());
        assertThat(h.engine().counters().orphanResponses(L7Protocol.REDIS)).isZero();
    }

    @Test
    void shouldSkipLargeValuesSpanningMessages() {
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            big.append('v');
        }
        String req = "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$10000\r\n" + big + "\r\n";
        EngineHarness h = new EngineHarness();
        h.request(req.substring(0, 3000)).request(req.substring(3000)).response("+OK\r\n");
        h.request("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n")
                .response("$10000\r\n" + big.substring(0, 5000)).response(big.substring(5000) + "\r\n");
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("SET", "GET");
        assertThat(h.logs().get(0).requestBytes()).isEqualTo(req.length());
        assertThat(h.logs().get(1).responseBytes()).isEqualTo(10_000 + 10);
    }

    @Test
    void shouldAcceptInlineCommands() {
        EngineHarness h = new EngineHarness().serverPort(6379).request("PING\r\n").response("+PONG\r\n");
        assertThat(h.only().method().toString()).isEqualTo("PING");
    }
}
