package io.periscope.sender;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OtlpJsonIdsTest {
    @Test
    void shouldRewriteTheThreeIdKeysFromBase64ToHex() {
        String json = "{\"traceId\":\"AAECAwQFBgcICQoLDA0ODw==\",\"spanId\":\"AQIDBAUGBwg=\","
                + "\"parentSpanId\":\"CAcGBQQDAgE=\",\"name\":\"x\"}";

        assertThat(OtlpJson.base64IdsToHex(json)).isEqualTo("{\"traceId\":\"000102030405060708090a0b0c0d0e0f\","
                + "\"spanId\":\"0102030405060708\",\"parentSpanId\":\"0807060504030201\",\"name\":\"x\"}");
    }

    @Test
    void shouldLeaveOtherKeysAndStringContentAlone() {
        // Inside a JSON string every quote is escaped, so an id-looking text in a value never matches;
        // neither does a key that merely ends in "Id".
        String json = "{\"stringValue\":\"traceId\\\":\\\"QUJD\",\"requestId\":\"QUJD\",\"n\":1}";

        assertThat(OtlpJson.base64IdsToHex(json)).isSameAs(json);
    }
}
