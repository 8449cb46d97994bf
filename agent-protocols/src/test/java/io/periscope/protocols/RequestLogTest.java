package io.periscope.protocols;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

class RequestLogTest {
    @Test
    void shouldCutTextAtCapacityAndSaySo() {
        TextField field = new TextField(4);
        UnsafeBuffer src = new UnsafeBuffer("GET /index".getBytes(StandardCharsets.US_ASCII));

        field.set(src, 0, 10);

        assertThat(field.toString()).isEqualTo("GET ");
        assertThat(field.truncated()).isTrue();
        assertThat(field.set(src, 0, 3).truncated()).isFalse();
        assertThat(field.contentEquals("GET")).isTrue();
    }

    @Test
    void shouldFormatDecimalsWithoutAllocatingStrings() {
        TextField field = new TextField(32);
        assertThat(field.appendDecimal(0).toString()).isEqualTo("0");
        assertThat(field.clear().appendDecimal(404).toString()).isEqualTo("404");
        assertThat(field.clear().appendDecimal(-17).toString()).isEqualTo("-17");
        assertThat(field.clear().appendDecimal(Long.MIN_VALUE).toString()).isEqualTo("-9223372036854775808");
    }

    @Test
    void shouldCopyEveryFieldAndClearBackToUnknown() {
        RequestLog a = new RequestLog()
                .protocol(L7Protocol.HTTP1).statusCode(200).statusClass(StatusClass.OK)
                .startNanos(10).endNanos(35).pid(42).localPort(80).role(Role.SERVER).requestBytes(77);
        a.method().setAscii("GET");
        a.resource().setAscii("/users/7");
        a.addAttribute("http.route").setAscii("/users/{id}");
        a.localAddress()[0] = 127;

        RequestLog b = new RequestLog().copyFrom(a);

        assertThat(b.protocol()).isEqualTo(L7Protocol.HTTP1);
        assertThat(b.method().toString()).isEqualTo("GET");
        assertThat(b.resource().toString()).isEqualTo("/users/7");
        assertThat(b.durationNanos()).isEqualTo(25);
        assertThat(b.attribute("http.route").toString()).isEqualTo("/users/{id}");
        assertThat(b.localAddress()[0]).isEqualTo((byte) 127);
        assertThat(b.role()).isEqualTo(Role.SERVER);

        b.clear();
        assertThat(b.protocol()).isEqualTo(L7Protocol.UNKNOWN);
        assertThat(b.statusCode()).isEqualTo(-1);
        assertThat(b.method().isEmpty()).isTrue();
        assertThat(b.attributeCount()).isZero();
        assertThat(b.attribute("http.route")).isNull();
        assertThat(a.method().toString()).as("the source is untouched").isEqualTo("GET");
    }

    @Test
    void shouldCountAttributesBeyondTheLimit() {
        RequestLog log = new RequestLog();
        for (int i = 0; i < RequestLog.MAX_ATTRIBUTES; i++) {
            assertThat(log.addAttribute("k" + i)).isNotNull();
        }
        assertThat(log.addAttribute("one.too.many")).isNull();
        assertThat(log.attributesDropped()).isEqualTo(1);
    }

    /**
     * A pooled record's reset (the engine's per-request fixed cost, which later changes may try
     * to trim): every text field, written through its accessor, cut at capacity or filled by
     * copyFrom, must come back empty and uncut.
     */
    @Test
    void shouldEmptyEveryWrittenTextFieldOnReuse() {
        RequestLog log = new RequestLog();
        List<Function<RequestLog, TextField>> fields = List.of(RequestLog::version, RequestLog::method,
                RequestLog::resource, RequestLog::endpoint, RequestLog::host, RequestLog::errorMessage,
                RequestLog::requestId, RequestLog::userAgent);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < fields.size(); i++) {
                if ((i + round) % 2 == 0) {
                    TextField f = fields.get(i).apply(log);
                    f.setAscii("x".repeat(f.capacity() + 1));
                }
            }
            log.clearForRequest();
            assertEmpty(log, fields);
        }
        RequestLog full = new RequestLog();
        for (Function<RequestLog, TextField> f : fields) {
            f.apply(full).setAscii("abc");
        }
        RequestLog copy = new RequestLog().copyFrom(full);
        assertThat(copy.userAgent().toString()).isEqualTo("abc");
        RequestLog reused = new RequestLog().copyFrom(full);
        reused.clearForRequest();
        assertEmpty(reused, fields);
        full.clear();
        assertEmpty(full, fields);
    }

    private static void assertEmpty(RequestLog log, List<Function<RequestLog, TextField>> fields) {
        for (Function<RequestLog, TextField> f : fields) {
            assertThat(f.apply(log).isEmpty()).isTrue();
            assertThat(f.apply(log).truncated()).isFalse();
        }
    }
}
