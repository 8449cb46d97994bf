package io.periscope.protocols;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

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
}
