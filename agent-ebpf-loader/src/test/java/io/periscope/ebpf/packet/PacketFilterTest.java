package io.periscope.ebpf.packet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class PacketFilterTest {
    @Test
    void shouldCompileTcpdumpExpressionsWithLibpcap() {
        PacketFilter all = PacketFilter.compile("", CaptureInterface.DLT_EN10MB, 128);
        assertThat(all.instructionCount()).as("accept-all is a single 'ret #snaplen'").isEqualTo(1);
        PacketFilter port = PacketFilter.compile("tcp port 18100 or udp port 18101", CaptureInterface.DLT_EN10MB,
                65535);
        assertThat(port.instructionCount()).isGreaterThan(5);
        PacketFilter raw = PacketFilter.compile("ip and tcp", CaptureInterface.DLT_RAW, 65535);
        assertThat(raw.instructionCount()).isGreaterThan(1);
    }

    @Test
    void shouldRejectABadExpressionWithLibpcapsMessage() {
        assertThatThrownBy(() -> PacketFilter.compile("tcp port banana", CaptureInterface.DLT_EN10MB, 65535))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tcp port banana");
    }

    @Test
    void shouldListInterfacesAndSelectByPattern() {
        List<CaptureInterface> all = CaptureInterface.all();
        assertThat(all).anySatisfy(i -> {
            assertThat(i.name()).isEqualTo("lo");
            assertThat(i.loopback()).isTrue();
            assertThat(i.linkType()).isEqualTo(CaptureInterface.DLT_EN10MB);
        });
        assertThat(CaptureInterface.select(List.of(), false)).noneMatch(CaptureInterface::loopback);
        // A glob means interfaces that carry traffic: up, and loopback only when asked for.
        assertThat(CaptureInterface.select(List.of("l?"), false)).extracting(CaptureInterface::name)
                .doesNotContain("lo");
        assertThat(CaptureInterface.select(List.of("l?"), true)).extracting(CaptureInterface::name).contains("lo");
        assertThat(CaptureInterface.select(List.of("*"), false))
                .allMatch(CaptureInterface::up).noneMatch(CaptureInterface::loopback);
        // An exact name is taken as given.
        assertThat(CaptureInterface.select(List.of("lo"), false)).extracting(CaptureInterface::name)
                .containsExactly("lo");
        assertThatThrownBy(() -> CaptureInterface.select(List.of("psfnothing*"), false))
                .hasMessageContaining("psfnothing*").hasMessageContaining("lo");
    }

    @Test
    void shouldRejectImpossibleRingSettings() {
        assertThatThrownBy(() -> PacketRingConfig.builder().blockBytes(5000).build())
                .hasMessageContaining("blockBytes");
        assertThatThrownBy(() -> PacketRingConfig.builder().snapLengthBytes(10).build())
                .hasMessageContaining("snapLengthBytes");
    }
}
