package io.periscope.core;

import io.periscope.core.config.ConfigLoader;
import io.periscope.sender.SenderConfig;
import io.periscope.sender.Signal;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AgentSenderConfigTest {
    @Test
    void shouldSizeTheSpanQueueFromPipelineExportRingSize() throws Exception {
        AgentConfig config = ConfigLoader.parse("pipeline: {export_ring_size: 32768}\n", "test.yaml",
                List.of(), null);
        SenderConfig sender = Agent.senderConfig(config.exporters(), config.pipeline());
        assertThat(sender.queueCapacity(Signal.TRACES)).isEqualTo(32768);

        AgentConfig defaults = ConfigLoader.parse("{}\n", "test.yaml", List.of(), null);
        assertThat(Agent.senderConfig(defaults.exporters(), defaults.pipeline()).queueCapacity(Signal.TRACES))
                .isEqualTo(defaults.pipeline().exportRingSize()).isEqualTo(8192);
    }
}
