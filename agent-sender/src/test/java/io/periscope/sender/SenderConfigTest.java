package io.periscope.sender;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SenderConfigTest {
    @Test
    void shouldDefaultToTheFileExporter() {
        SenderConfig c = SenderConfig.builder().build();
        assertThat(c.destination()).isEqualTo(SenderConfig.Destination.FILE);
        assertThat(c.dropPolicy()).isEqualTo(DropPolicy.DROP_NEWEST);
        assertThat(c.gzip()).isTrue();
    }

    @Test
    void shouldParseEndpointsWithAndWithoutScheme() {
        SenderConfig plain = SenderConfig.builder().endpoint("collector.local:4318").build();
        assertThat(plain.destination()).isEqualTo(SenderConfig.Destination.GRPC);
        assertThat(plain.host()).isEqualTo("collector.local");
        assertThat(plain.port()).isEqualTo(4318);
        assertThat(plain.tls()).isFalse();
        SenderConfig secure = SenderConfig.builder().endpoint("https://otel.example.com").build();
        assertThat(secure.tls()).isTrue();
        assertThat(secure.port()).isEqualTo(4317);
        assertThat(SenderConfig.builder().endpoint("http://[::1]:9999").build().host()).isEqualTo("[::1]");
    }

    @Test
    void shouldNameTheSettingInErrors() {
        assertThatThrownBy(() -> SenderConfig.builder().endpoint("http://"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sender.endpoint");
        assertThatThrownBy(() -> SenderConfig.builder().maxBatchSize(0))
                .hasMessageContaining("sender.max_batch_size").hasMessageContaining("0");
        assertThatThrownBy(() -> SenderConfig.builder().queueCapacity(Signal.LOGS, 0))
                .hasMessageContaining("sender.queue.logs");
        assertThatThrownBy(() -> SenderConfig.builder().exportTimeout(Duration.ZERO))
                .hasMessageContaining("sender.export_timeout");
        assertThatThrownBy(() -> SenderConfig.builder().maxMessageBytes(100))
                .hasMessageContaining("sender.max_message_bytes");
        assertThatThrownBy(() -> SenderConfig.builder().backoff(Duration.ofMillis(1), Duration.ofMillis(2), 0.5, 0))
                .hasMessageContaining("sender.retry");
        assertThatThrownBy(() -> SenderConfig.builder().file(Path.of("x"), 10, 1))
                .hasMessageContaining("sender.file");
    }
}
