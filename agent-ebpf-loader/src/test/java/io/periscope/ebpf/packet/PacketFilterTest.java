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
    void shouldPrefixAHardwareTypeCheckThatJumpsOverTheDrop() {
        PacketFilter port = PacketFilter.compile("udp port 18130", CaptureInterface.DLT_EN10MB, 128);
        PacketFilter ether = port.onlyHardwareTypes(CaptureInterface.ARPHRD_ETHER);
        PacketFilter both = port.onlyHardwareTypes(CaptureInterface.ARPHRD_ETHER, CaptureInterface.ARPHRD_LOOPBACK);
        assertThat(ether.instructionCount()).isEqualTo(port.instructionCount() + 3);
        assertThat(both.instructionCount()).isEqualTo(port.instructionCount() + 4);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(both.instructions()).order(java.nio.ByteOrder.nativeOrder());
        // ld [SKF_AD_OFF + SKF_AD_HATYPE]
        assertThat(b.getShort(0)).isEqualTo((short) PacketFilter.BPF_LD_W_ABS);
        assertThat(b.getInt(4)).isEqualTo(PacketFilter.SKF_AD_OFF + PacketFilter.SKF_AD_HATYPE);
        // jeq #1: true jumps 2 ahead (over the loopback check and the drop), false to the next check
        assertThat(b.getShort(8)).isEqualTo((short) PacketFilter.BPF_JMP_JEQ_K);
        assertThat(b.get(10)).isEqualTo((byte) 2);
        assertThat(b.get(11)).isEqualTo((byte) 0);
        assertThat(b.getInt(12)).isEqualTo(CaptureInterface.ARPHRD_ETHER);
        assertThat(b.get(18)).isEqualTo((byte) 1);
        assertThat(b.getInt(20)).isEqualTo(CaptureInterface.ARPHRD_LOOPBACK);
        // ret #0, then the expression unchanged
        assertThat(b.getShort(24)).isEqualTo((short) PacketFilter.BPF_RET_K);
        assertThat(b.getInt(28)).isZero();
        byte[] tail = java.util.Arrays.copyOfRange(both.instructions(), 32, both.instructions().length);
        assertThat(tail).isEqualTo(port.instructions());
        assertThatThrownBy(port::onlyHardwareTypes).isInstanceOf(IllegalArgumentException.class);
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
