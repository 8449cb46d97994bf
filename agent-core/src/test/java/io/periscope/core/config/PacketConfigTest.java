package io.periscope.core.config;

import io.periscope.core.AgentConfig;
import io.periscope.core.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The packet ring's geometry: a growing ring by default, a fixed one when configured smaller. */
class PacketConfigTest {
    private static final int KIB = 1024;

    private static PacketConfig parse(String yaml) throws ConfigException {
        AgentConfig config = ConfigLoader.parse(yaml, "agent.yaml", List.of(), null);
        return config.packet();
    }

    @Test
    void shouldStartTheRingAtFourMibAndLetItGrowToSixteen() {
        PacketConfig packet = PacketConfig.defaults();
        assertThat(packet.blockBytes()).isEqualTo(KIB * KIB);
        assertThat((long) packet.initialBlockCount() * packet.blockBytes()).as("ring at start")
                .isEqualTo(4L * KIB * KIB);
        assertThat((long) packet.blockCount() * packet.blockBytes()).as("ring at most")
                .isEqualTo(16L * KIB * KIB);
    }

    @Test
    void shouldKeepARingConfiguredBelowTheStartFixed() throws ConfigException {
        PacketConfig packet = parse("packet: {block_count: 2}\n");
        assertThat(packet.blockCount()).isEqualTo(2);
        assertThat(packet.initialBlockCount()).as("no more blocks at start than at most").isEqualTo(2);
    }

    @Test
    void shouldBindTheInitialBlockCount() throws ConfigException {
        PacketConfig packet = parse("packet: {block_bytes: 1048576, block_count: 32, initial_block_count: 8}\n");
        assertThat(packet.blockBytes()).isEqualTo(KIB * KIB);
        assertThat(packet.blockCount()).isEqualTo(32);
        assertThat(packet.initialBlockCount()).isEqualTo(8);
        assertThatThrownBy(() -> parse("packet: {initial_block_count: 1}\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("initial_block_count");
    }
}
