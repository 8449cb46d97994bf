package io.periscope.core;

import io.periscope.core.config.ConfigLoader;
import io.periscope.core.guard.GuardLevel;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** protocols.NAME.ports reaches the engine's port hints. */
class AgentProtocolConfigTest {
    @Test
    void configuredPortsReplaceTheEnginesHintsForThatProtocol() throws Exception {
        AgentConfig config = ConfigLoader.parse("protocols:\n  redis: {ports: [16379, 17000-17002]}\n",
                "test.yaml", List.of(), null);
        ProtocolConfig engine = Agent.protocolConfig(config, GuardLevel.NORMAL);
        assertThat(engine.portHint(16379)).isEqualTo(L7Protocol.REDIS);
        assertThat(engine.portHint(17001)).isEqualTo(L7Protocol.REDIS);
        assertThat(engine.portHint(6379)).as("the default is replaced").isNull();
        assertThat(engine.portHint(5432)).isEqualTo(L7Protocol.POSTGRESQL);
    }
}
