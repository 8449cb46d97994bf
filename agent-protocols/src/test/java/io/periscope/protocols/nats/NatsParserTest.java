package io.periscope.protocols.nats;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

class NatsParserTest {
    @Test
    void shouldPairVerboseAcknowledgementsAndPings() {
        EngineHarness h = new EngineHarness()
                .response("INFO {\"server_id\":\"x\",\"version\":\"2.10\"}\r\n")
                .request("CONNECT {\"verbose\":true,\"pedantic\":false}\r\nPING\r\n")
                .response("+OK\r\nPONG\r\n")
                .request("SUB orders.* 1\r\nPUB orders.new reply.1 5\r\nhello\r\nPUB bad 2\r\n")
                .request("xy\r\n")
                .response("+OK\r\n+OK\r\n-ERR 'Permissions Violation for Publish to bad'\r\n");
        assertThat(h.logs()).extracting(l -> l.method() + " " + l.resource())
                .containsExactly("CONNECT ", "PING ", "SUB orders.*", "PUB orders.new", "PUB bad");
        assertThat(h.logs().get(0).protocol()).isEqualTo(L7Protocol.NATS);
        assertThat(h.logs().get(3).attribute(NatsParser.REPLY_TO).toString()).isEqualTo("reply.1");
        assertThat(h.logs().get(3).requestBytes()).isEqualTo("PUB orders.new reply.1 5\r\nhello\r\n".length());
        RequestLog bad = h.logs().get(4);
        assertThat(bad.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(bad.errorMessage().toString()).isEqualTo("'Permissions Violation for Publish to bad'");
        assertThat(h.engine().pendingCount()).isZero();
    }

    @Test
    void shouldReadTraceparentFromHeadersAndSkipPayloadsAcrossMessages() {
        String headers = "NATS/1.0\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n";
        String payload = "p".repeat(6000);
        int total = headers.length() + payload.length();
        EngineHarness h = new EngineHarness()
                .response("INFO {\"server_id\":\"x\"}\r\n")
                .request("CONNECT {\"verbose\":false}\r\n")
                .response("MSG in.box 9 3\r\nabc\r\nHMSG traced 9 " + headers.length() + " " + total + "\r\n" + headers
                        + payload.substring(0, 1000))
                .response(payload.substring(1000) + "\r\nPING\r\n");
        assertThat(h.logs()).extracting(l -> l.method() + " " + l.resource())
                .containsExactly("CONNECT ", "MSG in.box", "HMSG traced");
        RequestLog traced = h.logs().get(2);
        assertThat(traced.hasTraceContext()).isTrue();
        assertThat(HexFormat.of().formatHex(traced.traceId())).isEqualTo("0af7651916cd43dd8448eb211c80319c");
        assertThat(traced.sampled()).isTrue();
        assertThat(h.engine().counters().parseErrors(L7Protocol.NATS)).isZero();
    }
}
