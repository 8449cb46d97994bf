package io.periscope.sender;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.trace.v1.Span;
import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static io.periscope.sender.TestRecords.attributes;
import static io.periscope.sender.TestRecords.num;
import static io.periscope.sender.TestRecords.str;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-connection attribute block a {@link SpanEncoder} reuses across the spans of one
 * connection: reused only while every input it was encoded from is unchanged, and then the span
 * carries exactly the attributes a fresh encoder writes.
 */
class ConnectionAttributesTest {
    private static final long OFFSET_NANOS = 1_700_000_000_000_000_000L;

    private static Span decode(SpanEncoder enc, RequestLog r) throws Exception {
        int n = enc.encodeSpan(r);
        return Span.parseFrom(Arrays.copyOf(enc.spanBytes(), n));
    }

    /** The attributes without the random ids: what a span encoded by a fresh encoder carries. */
    private static Map<String, AnyValue> fresh(RequestLog r) throws Exception {
        return attributes(decode(new SpanEncoder(OFFSET_NANOS, 0, 4 << 20, 9), r).getAttributesList());
    }

    @Test
    void secondSpanOfAConnectionReusesTheBlockAndCarriesTheSameAttributes() throws Exception {
        SpanEncoder enc = new SpanEncoder(OFFSET_NANOS, 0, 4 << 20, 1);
        RequestLog first = TestRecords.httpServer("GET", "/a", "/a", 200);
        Map<String, AnyValue> a1 = attributes(decode(enc, first).getAttributesList());
        RequestLog second = TestRecords.httpServer("POST", "/b?q=1", "/b", 201);
        second.tid(4999).requestBytes(7);
        Map<String, AnyValue> a2 = attributes(decode(enc, second).getAttributesList());

        assertThat(enc.connectionAttributes().misses()).isEqualTo(1);
        assertThat(enc.connectionAttributes().hits()).isEqualTo(1);
        assertThat(a1).isEqualTo(fresh(first));
        assertThat(a2).isEqualTo(fresh(second));
        assertThat(num(a2, "periscope.tid")).isEqualTo(4999L);
        assertThat(num(a2, "periscope.request.bytes")).isEqualTo(7L);
        assertThat(num(a2, "periscope.socket_id")).isEqualTo(77L);
        assertThat(str(a2, "client.address")).isEqualTo("10.1.2.3");
        assertThat(str(a2, "server.address")).isEqualTo("shop.example");
    }

    @Test
    void anyChangedInputOfTheSameSocketIdEncodesTheBlockAgain() throws Exception {
        for (Consumer<RequestLog> change : changes()) {
            SpanEncoder enc = new SpanEncoder(OFFSET_NANOS, 0, 4 << 20, 1);
            decode(enc, TestRecords.httpServer("GET", "/a", "/a", 200));
            RequestLog changed = TestRecords.httpServer("GET", "/a", "/a", 200);
            change.accept(changed);
            Map<String, AnyValue> a = attributes(decode(enc, changed).getAttributesList());
            assertThat(enc.connectionAttributes().hits()).isZero();
            assertThat(enc.connectionAttributes().misses()).isEqualTo(2);
            assertThat(a).isEqualTo(fresh(changed));
        }
    }

    private static List<Consumer<RequestLog>> changes() {
        return List.of(
            r -> r.pid(1),
            r -> r.remotePort(1),
            r -> r.localPort(1),
            r -> r.remoteAddress()[3] = 9,
            r -> r.localAddress()[3] = 9,
            r -> r.comm().setAscii("nginx2"),
            r -> r.role(Role.CLIENT),
            r -> r.protocol(L7Protocol.HTTP2),
            r -> r.captureSource(CaptureSource.PACKET),
            r -> r.l4Protocol(17),
            // Without a Host header server.address comes from the socket, so the block differs.
            r -> r.host().clear());
    }

    @Test
    void serverAddressFollowsEachRequestsHostHeaderOnOneConnection() throws Exception {
        SpanEncoder enc = new SpanEncoder(OFFSET_NANOS, 0, 4 << 20, 1);
        RequestLog withHost = TestRecords.httpServer("GET", "/a", "/a", 200);
        RequestLog noHost = TestRecords.httpServer("GET", "/a", "/a", 200);
        noHost.host().clear();
        for (int round = 0; round < 2; round++) {
            assertThat(str(attributes(decode(enc, withHost).getAttributesList()), "server.address"))
                    .isEqualTo("shop.example");
            assertThat(str(attributes(decode(enc, noHost).getAttributesList()), "server.address"))
                    .isEqualTo("127.0.0.1");
        }
        RequestLog otherHost = TestRecords.httpServer("GET", "/a", "/a", 200);
        otherHost.host().setAscii("api.example");
        assertThat(str(attributes(decode(enc, otherHost).getAttributesList()), "server.address"))
                .isEqualTo("api.example");
    }

    @Test
    void malformedCommIsCountedForEverySpanNotOnlyTheFirst() throws Exception {
        SpanEncoder enc = new SpanEncoder(OFFSET_NANOS, 0, 4 << 20, 1);
        RequestLog r = TestRecords.httpServer("GET", "/a", "/a", 200);
        r.comm().set(new byte[] {'n', (byte) 0xC3, 'x'}, 0, 3);
        for (int i = 0; i < 3; i++) {
            Map<String, AnyValue> a = attributes(decode(enc, r).getAttributesList());
            assertThat(str(a, "periscope.comm")).isEqualTo("n\uFFFDx");
        }
        assertThat(enc.connectionAttributes().hits()).isEqualTo(2);
        assertThat(enc.invalidUtf8Fields()).isEqualTo(3);
    }

    @Test
    void manyConnectionsKeepTheirOwnAttributes() throws Exception {
        SpanEncoder enc = new SpanEncoder(OFFSET_NANOS, 0, 4 << 20, 1);
        int connections = ConnectionAttributes.SLOTS * 2;
        for (int round = 0; round < 2; round++) {
            for (int c = 0; c < connections; c++) {
                RequestLog r = TestRecords.httpServer("GET", "/a", "/a", 200);
                r.socketId(1000 + c).remotePort(40000 + c);
                Map<String, AnyValue> a = attributes(decode(enc, r).getAttributesList());
                assertThat(num(a, "periscope.socket_id")).isEqualTo(1000L + c);
                assertThat(num(a, "client.port")).isEqualTo(40000L + c);
            }
        }
        assertThat(enc.connectionAttributes().hits() + enc.connectionAttributes().misses())
                .isEqualTo(2L * connections);
    }
}
