package io.periscope.sender;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.periscope.sender.TestRecords.attributes;
import static io.periscope.sender.TestRecords.num;
import static io.periscope.sender.TestRecords.str;
import static org.assertj.core.api.Assertions.assertThat;

class SpanEncoderTest {
    private static final long OFFSET_NANOS = 1_700_000_000_000_000_000L;
    private final ProcessResource nginx = ProcessResource.builder("nginx").hostName("node-1").pid(4242)
            .executableName("nginx").containerId("abc123").build();

    private List<ExportTraceServiceRequest> encode(SpanEncoder enc, RequestLog[] recs, ProcessResource[] res) {
        List<ExportTraceServiceRequest> out = new ArrayList<>();
        enc.encode(recs, res, recs.length, (bytes, len, n) -> {
            try {
                ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(Arrays.copyOf(bytes, len));
                int spans = req.getResourceSpansList().stream().flatMap(rs -> rs.getScopeSpansList().stream())
                        .mapToInt(ss -> ss.getSpansCount()).sum();
                assertThat(spans).isEqualTo(n);
                out.add(req);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        return out;
    }

    private Span single(RequestLog r) {
        SpanEncoder enc = new SpanEncoder(OFFSET_NANOS, 0, 4 << 20, 1);
        List<ExportTraceServiceRequest> reqs = encode(enc, new RequestLog[] {r}, new ProcessResource[] {nginx});
        assertThat(reqs).hasSize(1);
        return reqs.get(0).getResourceSpans(0).getScopeSpans(0).getSpans(0);
    }

    @Test
    void shouldMapHttpServerSpanFieldByField() {
        RequestLog r = TestRecords.httpServer("GET", "/users/42?x=1", "/users/{id}", 200);
        r.addAttribute("http.request.header.x-tenant").setAscii("t1");
        SpanEncoder enc = new SpanEncoder(OFFSET_NANOS, 0, 4 << 20, 1);
        ExportTraceServiceRequest req = encode(enc, new RequestLog[] {r}, new ProcessResource[] {nginx}).get(0);
        ResourceSpans rs = req.getResourceSpans(0);
        Map<String, AnyValue> res = attributes(rs.getResource().getAttributesList());
        assertThat(str(res, "service.name")).isEqualTo("nginx");
        assertThat(str(res, "host.name")).isEqualTo("node-1");
        assertThat(num(res, "process.pid")).isEqualTo(4242L);
        assertThat(str(res, "process.executable.name")).isEqualTo("nginx");
        assertThat(str(res, "container.id")).isEqualTo("abc123");
        assertThat(rs.getScopeSpans(0).getScope().getName()).isEqualTo("io.periscope.sender");

        Span s = rs.getScopeSpans(0).getSpans(0);
        assertThat(s.getName()).isEqualTo("GET /users/{id}");
        assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
        assertThat(s.getStartTimeUnixNano()).isEqualTo(OFFSET_NANOS + TestRecords.START_NANOS);
        assertThat(s.getEndTimeUnixNano()).isEqualTo(OFFSET_NANOS + TestRecords.START_NANOS + 2_500_000);
        assertThat(s.getTraceId().size()).isEqualTo(16);
        assertThat(s.getSpanId().size()).isEqualTo(8);
        assertThat(s.getParentSpanId().isEmpty()).isTrue();
        assertThat(s.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_UNSET);
        Map<String, AnyValue> a = attributes(s.getAttributesList());
        assertThat(str(a, "http.request.method")).isEqualTo("GET");
        assertThat(str(a, "url.path")).isEqualTo("/users/42");
        assertThat(str(a, "url.query")).isEqualTo("x=1");
        assertThat(str(a, "http.route")).isEqualTo("/users/{id}");
        assertThat(num(a, "http.response.status_code")).isEqualTo(200L);
        assertThat(str(a, "server.address")).isEqualTo("shop.example");
        assertThat(num(a, "server.port")).isEqualTo(8080L);
        assertThat(str(a, "client.address")).isEqualTo("10.1.2.3");
        assertThat(num(a, "client.port")).isEqualTo(51234L);
        assertThat(str(a, "network.peer.address")).isEqualTo("10.1.2.3");
        assertThat(num(a, "network.peer.port")).isEqualTo(51234L);
        assertThat(str(a, "network.transport")).isEqualTo("tcp");
        assertThat(str(a, "network.type")).isEqualTo("ipv4");
        assertThat(str(a, "network.protocol.version")).isEqualTo("1.1");
        assertThat(str(a, "user_agent.original")).isEqualTo("curl/7.88.1");
        assertThat(str(a, "http.request.header.x-tenant")).isEqualTo("t1");
        assertThat(num(a, "periscope.syscall_trace_id.request")).isEqualTo(1001L);
        assertThat(num(a, "periscope.syscall_trace_id.response")).isEqualTo(1002L);
        assertThat(num(a, "periscope.tcp_seq.request")).isEqualTo(5000L);
        assertThat(num(a, "periscope.tcp_seq.response")).isEqualTo(9000L);
        // The pid is the resource's process.pid (asserted above), not repeated on every span.
        assertThat(a).doesNotContainKey("periscope.pid");
        assertThat(num(a, "periscope.tid")).isEqualTo(4243L);
        assertThat(str(a, "periscope.comm")).isEqualTo("nginx");
        assertThat(str(a, "periscope.capture")).isEqualTo("syscall");
        assertThat(str(a, "periscope.request_id")).isEqualTo("req-1");
        assertThat(a).doesNotContainKey("error.type");
    }

    @Test
    void shouldKeepPeriscopePidOnlyWhenTheResourceDoesNotCarryIt() {
        RequestLog r = TestRecords.httpServer("GET", "/a", "/a", 200);
        assertThat(r.pid()).isEqualTo(4242);
        ProcessResource otherPid = ProcessResource.builder("nginx").hostName("node-1").pid(7).build();
        ProcessResource noPid = ProcessResource.builder("unknown_service").hostName("node-1").build();
        // One encoder, one connection: the cached connection block must follow the resource.
        SpanEncoder enc = new SpanEncoder(OFFSET_NANOS, 0, 4 << 20, 1);
        RequestLog[] recs = {r, r, r, r};
        ProcessResource[] res = {nginx, otherPid, noPid, nginx};
        List<ExportTraceServiceRequest> reqs = encode(enc, recs, res);
        assertThat(reqs).hasSize(1);
        Map<Long, List<Map<String, AnyValue>>> byResourcePid = new java.util.HashMap<>();
        for (ResourceSpans rs : reqs.get(0).getResourceSpansList()) {
            Map<String, AnyValue> resAttrs = attributes(rs.getResource().getAttributesList());
            long pid = resAttrs.containsKey("process.pid") ? resAttrs.get("process.pid").getIntValue() : -1;
            for (Span s : rs.getScopeSpans(0).getSpansList()) {
                byResourcePid.computeIfAbsent(pid, k -> new ArrayList<>()).add(attributes(s.getAttributesList()));
            }
        }
        assertThat(byResourcePid.get(4242L)).hasSize(2)
                .allSatisfy(a -> assertThat(a).doesNotContainKey("periscope.pid").containsKey("periscope.comm"));
        assertThat(byResourcePid.get(7L)).singleElement()
                .satisfies(a -> assertThat(num(a, "periscope.pid")).isEqualTo(4242L));
        assertThat(byResourcePid.get(-1L)).singleElement()
                .satisfies(a -> assertThat(num(a, "periscope.pid")).isEqualTo(4242L));

        // A span encoded alone (no resource known) keeps it too, and with the resource it is
        // exactly the periscope.pid attribute shorter.
        SpanEncoder single = SpanEncoder.forSpans(OFFSET_NANOS, 0, 4 << 20, 1);
        int alone = single.encodeSpan(r);
        int underNginx = single.encodeSpan(r, nginx);
        int underNginxAgain = single.encodeSpan(r, nginx);
        int aloneAgain = single.encodeSpan(r, null);
        assertThat(aloneAgain).isEqualTo(alone);
        assertThat(underNginxAgain).isEqualTo(underNginx);
        assertThat(alone - underNginx).isEqualTo(KeyValues.key("periscope.pid").length + 2 + 2 + 1 + 2);
    }

    @Test
    void shouldJoinIncomingTraceContext() {
        RequestLog r = TestRecords.httpServer("POST", "/pay", "/pay", 503);
        for (int i = 0; i < 16; i++) {
            r.traceId()[i] = (byte) (i + 1);
        }
        for (int i = 0; i < 8; i++) {
            r.parentSpanId()[i] = (byte) (0x10 + i);
        }
        r.hasTraceContext(true).sampled(true);
        r.errorMessage().setAscii("upstream down");
        Span s = single(r);
        assertThat(s.getTraceId().toByteArray()).isEqualTo(Arrays.copyOf(r.traceId(), 16));
        assertThat(s.getParentSpanId().toByteArray()).isEqualTo(Arrays.copyOf(r.parentSpanId(), 8));
        assertThat(s.getFlags() & 0xff).isEqualTo(1);
        assertThat(s.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(s.getStatus().getMessage()).isEqualTo("upstream down");
        assertThat(str(attributes(s.getAttributesList()), "error.type")).isEqualTo("503");
    }

    @Test
    void shouldGiveFreshTraceIdsWithoutContext() {
        SpanEncoder enc = new SpanEncoder(0, 0, 4 << 20, 1);
        RequestLog[] recs = {TestRecords.httpServer("GET", "/", "/", 200),
            TestRecords.httpServer("GET", "/", "/", 200)};
        List<Span> spans = encode(enc, recs, new ProcessResource[] {nginx, nginx}).get(0)
                .getResourceSpans(0).getScopeSpans(0).getSpansList();
        assertThat(spans.get(0).getTraceId()).isNotEqualTo(spans.get(1).getTraceId());
        assertThat(spans.get(0).getSpanId()).isNotEqualTo(spans.get(1).getSpanId());
    }

    @Test
    void shouldNameDatabaseMessagingDnsAndRpcSpans() {
        RequestLog sql = TestRecords.httpServer("x", "", "", 0).protocol(L7Protocol.MYSQL).role(Role.CLIENT)
                .statusCode(-1).statusClass(StatusClass.OK);
        sql.method().setAscii("SELECT");
        sql.endpoint().setAscii("orders");
        sql.resource().setAscii("SELECT * FROM orders WHERE id = ?");
        sql.host().setAscii("shop");
        Span s = single(sql);
        Map<String, AnyValue> a = attributes(s.getAttributesList());
        assertThat(s.getName()).isEqualTo("SELECT orders");
        assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
        assertThat(str(a, "db.system.name")).isEqualTo("mysql");
        assertThat(str(a, "db.operation.name")).isEqualTo("SELECT");
        assertThat(str(a, "db.query.text")).isEqualTo("SELECT * FROM orders WHERE id = ?");
        assertThat(str(a, "db.namespace")).isEqualTo("shop");
        assertThat(str(a, "server.address")).isEqualTo("10.1.2.3");
        assertThat(num(a, "server.port")).isEqualTo(51234L);

        RequestLog redis = TestRecords.httpServer("x", "", "", 0).protocol(L7Protocol.REDIS).role(Role.CLIENT)
                .statusCode(-1).statusClass(StatusClass.SERVER_ERROR);
        redis.method().setAscii("GET");
        redis.resource().setAscii("user:1");
        redis.errorMessage().setAscii("ERR wrong type");
        s = single(redis);
        a = attributes(s.getAttributesList());
        assertThat(s.getName()).isEqualTo("redis GET");
        assertThat(str(a, "db.system.name")).isEqualTo("redis");
        assertThat(str(a, "db.query.text")).isEqualTo("GET user:1");
        assertThat(s.getStatus().getMessage()).isEqualTo("ERR wrong type");

        RequestLog dns = TestRecords.httpServer("x", "", "", 0).protocol(L7Protocol.DNS).role(Role.CLIENT)
                .l4Protocol(17).statusCode(0).statusClass(StatusClass.OK);
        dns.method().setAscii("QUERY");
        dns.resource().setAscii("example.com");
        s = single(dns);
        a = attributes(s.getAttributesList());
        assertThat(s.getName()).isEqualTo("QUERY example.com");
        assertThat(str(a, "dns.question.name")).isEqualTo("example.com");
        assertThat(str(a, "network.transport")).isEqualTo("udp");

        RequestLog grpc = TestRecords.httpServer("POST", "/shop.Cart/Add", "", 0).protocol(L7Protocol.GRPC)
                .statusClass(StatusClass.OK);
        s = single(grpc);
        a = attributes(s.getAttributesList());
        assertThat(s.getName()).isEqualTo("shop.Cart/Add");
        assertThat(str(a, "rpc.system")).isEqualTo("grpc");
        assertThat(str(a, "rpc.service")).isEqualTo("shop.Cart");
        assertThat(str(a, "rpc.method")).isEqualTo("Add");
        assertThat(num(a, "rpc.grpc.status_code")).isEqualTo(0L);

        RequestLog kafka = TestRecords.httpServer("x", "", "", 0).protocol(L7Protocol.KAFKA).role(Role.CLIENT)
                .statusClass(StatusClass.TIMEOUT);
        kafka.method().setAscii("Produce");
        kafka.resource().setAscii("orders");
        s = single(kafka);
        a = attributes(s.getAttributesList());
        assertThat(s.getName()).isEqualTo("Produce orders");
        assertThat(str(a, "messaging.system")).isEqualTo("kafka");
        assertThat(str(a, "messaging.destination.name")).isEqualTo("orders");
        assertThat(str(a, "error.type")).isEqualTo("timeout");
        assertThat(s.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
    }

    @Test
    void shouldFormatIpv6AndMappedAddresses() {
        RequestLog r = TestRecords.httpServer("GET", "/", "/", 200).ipVersion(6).captureSource(CaptureSource.PACKET);
        r.host().clear();
        Arrays.fill(r.remoteAddress(), (byte) 0);
        r.remoteAddress()[0] = 0x20;
        r.remoteAddress()[1] = 0x01;
        r.remoteAddress()[2] = 0x0d;
        r.remoteAddress()[3] = (byte) 0xb8;
        r.remoteAddress()[15] = 1;
        Arrays.fill(r.localAddress(), (byte) 0);
        r.localAddress()[10] = (byte) 0xff;
        r.localAddress()[11] = (byte) 0xff;
        r.localAddress()[12] = (byte) 192;
        r.localAddress()[13] = (byte) 168;
        r.localAddress()[15] = 9;
        Span s = single(r);
        Map<String, AnyValue> a = attributes(s.getAttributesList());
        assertThat(str(a, "client.address")).isEqualTo("2001:db8::1");
        assertThat(str(a, "server.address")).isEqualTo("192.168.0.9");
        assertThat(str(a, "periscope.capture")).isEqualTo("packet");
        assertThat(s.getStartTimeUnixNano()).isEqualTo(TestRecords.START_NANOS);
    }

    @Test
    void shouldReplaceMalformedUtf8() {
        RequestLog r = TestRecords.httpServer("GET", "/", "/", 200);
        byte[] bad = {'/', 'a', (byte) 0xff, 'b'};
        r.resource().set(bad, 0, bad.length);
        SpanEncoder enc = new SpanEncoder(0, 0, 4 << 20, 1);
        Span s = encode(enc, new RequestLog[] {r}, new ProcessResource[] {nginx}).get(0)
                .getResourceSpans(0).getScopeSpans(0).getSpans(0);
        assertThat(str(attributes(s.getAttributesList()), "url.path")).isEqualTo("/a\uFFFDb");
        assertThat(enc.invalidUtf8Fields()).isEqualTo(1);
    }

    @Test
    void shouldGroupByResourceAndSplitAtMaxMessageSize() {
        ProcessResource other = ProcessResource.builder("redis").pid(7).build();
        int count = 1000;
        RequestLog[] recs = new RequestLog[count];
        ProcessResource[] res = new ProcessResource[count];
        for (int i = 0; i < count; i++) {
            recs[i] = TestRecords.httpServer("GET", "/item/" + i, "/item/{id}", 200);
            res[i] = i % 3 == 0 ? other : nginx;
        }
        int maxBytes = 64 * 1024;
        SpanEncoder enc = new SpanEncoder(0, 0, maxBytes, 1);
        List<Integer> sizes = new ArrayList<>();
        List<ExportTraceServiceRequest> reqs = new ArrayList<>();
        enc.encode(recs, res, count, (bytes, len, n) -> {
            sizes.add(len);
            try {
                reqs.add(ExportTraceServiceRequest.parseFrom(Arrays.copyOf(bytes, len)));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat(reqs.size()).isGreaterThan(1);
        assertThat(sizes).allSatisfy(len -> assertThat(len).isLessThanOrEqualTo(maxBytes));
        List<String> paths = new ArrayList<>();
        for (ExportTraceServiceRequest req : reqs) {
            for (ResourceSpans rs : req.getResourceSpansList()) {
                String service = str(attributes(rs.getResource().getAttributesList()), "service.name");
                for (Span s : rs.getScopeSpans(0).getSpansList()) {
                    String path = str(attributes(s.getAttributesList()), "url.path");
                    int i = Integer.parseInt(path.substring("/item/".length()));
                    assertThat(service).isEqualTo(i % 3 == 0 ? "redis" : "nginx");
                    paths.add(path);
                }
            }
        }
        assertThat(paths).hasSize(count).doesNotHaveDuplicates();
    }
}
