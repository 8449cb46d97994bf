package io.periscope.protocols;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TextFieldTest {
    @Test
    void asciiTextShouldBeCopiedOneBytePerCharAndCutToCapacity() {
        TextField f = new TextField(8);
        f.setAscii("handshake");
        assertThat(f.toString()).isEqualTo("handshak");
        assertThat(f.truncated()).isTrue();
        f.setAscii("GET");
        assertThat(f.toString()).isEqualTo("GET");
        assertThat(f.truncated()).isFalse();
        f.appendAscii(new StringBuilder(" /a/b/c"));
        assertThat(f.toString()).isEqualTo("GET /a/b");
        assertThat(f.truncated()).isTrue();
        f.clear().appendAscii("").appendAscii("0x").appendAscii("1F");
        assertThat(f.toString()).isEqualTo("0x1F");
        assertThat(f.length()).isEqualTo(4);
    }
}
