package io.periscope.bench.sender;

import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;

/** Typical HTTP server request logs (16 routes, one 500), the sender benchmarks' input. */
final class TypicalRequestLogs {
    /** Routes made; a power of two, so callers can index with a mask. */
    static final int ROUTES = 16;

    private TypicalRequestLogs() {
    }

    /** {@link #ROUTES} request logs of an nginx (pid 4242) serving /api/v1/items/&lt;i&gt;. */
    static RequestLog[] http() {
        RequestLog[] records = new RequestLog[ROUTES];
        for (int i = 0; i < ROUTES; i++) {
            RequestLog r = new RequestLog();
            r.captureSource(CaptureSource.SYSCALL).pid(4242).tid(4243).role(Role.SERVER).ipVersion(4)
                    .localPort(8080).remotePort(40000 + i).l4Protocol(6).protocol(L7Protocol.HTTP1)
                    .statusCode(i == 0 ? 500 : 200).statusClass(i == 0 ? StatusClass.SERVER_ERROR : StatusClass.OK)
                    .startNanos(1_000_000L).endNanos(1_000_000L + 300_000L * (i + 1));
            r.comm().setAscii("nginx");
            r.method().setAscii("GET");
            r.resource().setAscii("/api/v1/items/" + i + "?x=1");
            r.endpoint().setAscii("/api/v1/items/{id}/" + i);
            r.host().setAscii("shop.example.com");
            r.userAgent().setAscii("curl/7.88.1");
            records[i] = r;
        }
        return records;
    }
}
