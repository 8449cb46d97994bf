package io.periscope.ebpf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BpfObjectsTest {
    private static final int EM_BPF = 247;

    @Test
    void shouldEmbedFeatureProbeAsBpfElfWithBtf() {
        byte[] elf = BpfObjects.load("feature_probe");

        ByteBuffer buf = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new String(elf, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("ELF");
        assertThat(buf.getShort(18) & 0xffff).as("e_machine").isEqualTo(EM_BPF);
        assertThat(sectionNames(buf)).contains(".BTF", ".maps", "tracepoint/syscalls/sys_enter_getppid", "license");
    }

    @Test
    void shouldNameTheFixWhenAnObjectIsMissing() {
        assertThatThrownBy(() -> BpfObjects.load("no_such_program"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no_such_program.bpf.o")
                .hasMessageContaining("clang");
    }

    /** Reads section names from a 64-bit little-endian ELF. */
    private static List<String> sectionNames(ByteBuffer elf) {
        long shoff = elf.getLong(0x28);
        int shentsize = elf.getShort(0x3A) & 0xffff;
        int shnum = elf.getShort(0x3C) & 0xffff;
        int shstrndx = elf.getShort(0x3E) & 0xffff;
        long strtabOffset = elf.getLong((int) (shoff + (long) shstrndx * shentsize + 0x18));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < shnum; i++) {
            int nameOffset = elf.getInt((int) (shoff + (long) i * shentsize));
            int start = (int) (strtabOffset + nameOffset);
            int end = start;
            while (elf.get(end) != 0) {
                end++;
            }
            byte[] name = new byte[end - start];
            elf.get(start, name);
            names.add(new String(name, StandardCharsets.US_ASCII));
        }
        return names;
    }
}
