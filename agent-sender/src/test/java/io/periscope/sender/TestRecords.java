package io.periscope.sender;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Request logs as the parsers would fill them, and helpers to read OTLP attributes back. */
final class TestRecords {
    static final long START_NANOS = 1_000_000_000L;

    private TestRecords() {
    }

    static RequestLog httpServer(String method, String path, String route, int status) {
        RequestLog r = new RequestLog();
        r.captureSource(CaptureSource.SYSCALL).pid(4242).tid(4243).socketId(77).role(Role.SERVER)
                .ipVersion(4).localPort(8080).remotePort(51234).l4Protocol(6)
                .syscallTraceIdRequest(1001).syscallTraceIdResponse(1002)
                .tcpSeqRequest(5000).tcpSeqResponse(9000)
                .protocol(L7Protocol.HTTP1).statusCode(status)
                .statusClass(status >= 500 ? StatusClass.SERVER_ERROR
                        : status >= 400 ? StatusClass.CLIENT_ERROR : StatusClass.OK)
                .requestBytes(120).responseBytes(512)
                .startNanos(START_NANOS).endNanos(START_NANOS + 2_500_000);
        r.comm().setAscii("nginx");
        byte[] local = {127, 0, 0, 1};
        byte[] remote = {10, 1, 2, 3};
        System.arraycopy(local, 0, r.localAddress(), 0, 4);
        System.arraycopy(remote, 0, r.remoteAddress(), 0, 4);
        r.version().setAscii("1.1");
        r.method().setAscii(method);
        r.resource().setAscii(path);
        r.endpoint().setAscii(route);
        r.host().setAscii("shop.example:8080");
        r.userAgent().setAscii("curl/7.88.1");
        r.requestId().setAscii("req-1");
        return r;
    }

    static Map<String, AnyValue> attributes(List<KeyValue> kvs) {
        Map<String, AnyValue> m = new LinkedHashMap<>();
        for (KeyValue kv : kvs) {
            if (m.put(kv.getKey(), kv.getValue()) != null) {
                throw new AssertionError("duplicate attribute " + kv.getKey());
            }
        }
        return m;
    }

    static String str(Map<String, AnyValue> attrs, String key) {
        AnyValue v = attrs.get(key);
        return v == null ? null : v.getStringValue();
    }

    static Long num(Map<String, AnyValue> attrs, String key) {
        AnyValue v = attrs.get(key);
        return v == null ? null : v.getIntValue();
    }
}
