package io.periscope.protocols.http2;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The request examples of RFC 7541 Appendix C.4 (Huffman strings, dynamic table across blocks). */
class HpackDecoderTest {
    private final HpackDecoder decoder = new HpackDecoder();
    private final List<String> headers = new ArrayList<>();

    private List<String> decode(String hex) {
        headers.clear();
        byte[] block = HexFormat.of().parseHex(hex);
        boolean ok = decoder.decode(new UnsafeBuffer(block), 0, block.length,
                (n, nl, v, vl) -> headers.add(n.getStringWithoutLengthAscii(0, nl) + ": "
                        + v.getStringWithoutLengthAscii(0, vl)));
        assertThat(ok).isTrue();
        return headers;
    }

    @Test
    void shouldDecodeTheRfcRequestExamplesWithHuffmanAndTheDynamicTable() {
        assertThat(decode("828684418cf1e3c2e5f23a6ba0ab90f4ff"))
                .containsExactly(":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com");
        assertThat(decode("828684be5886a8eb10649cbf"))
                .containsExactly(":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com",
                        "cache-control: no-cache");
        assertThat(decode("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"))
                .containsExactly(":method: GET", ":scheme: https", ":path: /index.html",
                        ":authority: www.example.com", "custom-key: custom-value");
    }

    @Test
    void shouldSkipReferencesToEntriesItNeverSaw() {
        // as if the capture began after the first block: index 62 is unknown to a fresh decoder
        assertThat(decode("828684be")).containsExactly(":method: GET", ":scheme: http", ":path: /");
        assertThat(decoder.unknownReferences()).isEqualTo(1);
    }
}
