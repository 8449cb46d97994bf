package io.periscope.ebpf.libbpf;

import com.sun.jna.Native;
import io.periscope.ebpf.BpfObjects;
import io.periscope.ebpf.ringbuf.MappedRingBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Tag("kernel")
class BpfObjectKernelTest {
    /** getppid(2), called straight through JNA so the test knows exactly which syscall it made. */
    static final class Getppid {
        static {
            Native.register("c");
        }

        static native int getppid();
    }

    @Test
    void shouldLoadSetConstantAttachAndReadEventsThroughMappedRing() {
        int self = (int) ProcessHandle.current().pid();
        try (BpfObject obj = BpfObject.open("feature_probe", BpfObjects.load("feature_probe"))) {
            obj.setInt("target_tgid", self);
            obj.load();
            BpfMap ring = obj.map("probe_events");
            obj.program("probe_getppid").attachTracepoint("syscalls", "sys_enter_getppid");
            try (MappedRingBuffer mapped = MappedRingBuffer.map(ring.fd(), ring.maxEntries())) {
                for (int i = 0; i < 3; i++) {
                    Getppid.getppid();
                }
                List<long[]> events = new ArrayList<>();
                for (int attempt = 0; attempt < 50 && events.size() < 3; attempt++) {
                    if (mapped.poll((b, o, l) -> events.add(new long[] {b.getInt(o), b.getInt(o + 4), l}), 10) == 0) {
                        mapped.await(100);
                    }
                }
                BpfProgram.ProgramInfo info = obj.program("probe_getppid").info();
                assertThat(info.kernelName()).isEqualTo("probe_getppid");
                assertThat(info.recursionMisses()).isNotNegative();
                assertThat(events).hasSize(3).allSatisfy(e -> {
                    assertThat(e[0]).isEqualTo(self);
                    assertThat(e[1]).isEqualTo(0x70657269L);
                    assertThat(e[2]).isEqualTo(8);
                });
            }
        }
    }

    @Test
    void shouldFireUprobeBySymbolForOnePidAndRawTracepoint() {
        int self = (int) ProcessHandle.current().pid();
        try (BpfObject obj = BpfObject.open("feature_probe", BpfObjects.load("feature_probe"))) {
            obj.setInt("target_tgid", self);
            obj.program("probe_getppid").setAutoload(false);
            obj.program("probe_uprobe").setAutoload(true);
            obj.program("probe_raw_tp").setAutoload(true);
            obj.load();
            BpfLink uprobe = obj.program("probe_uprobe").attachUprobe("libc.so.6", "getppid", 0, self, false);
            BpfLink rawTp = obj.program("probe_raw_tp").attachRawTracepoint("sys_enter");
            assertThat(uprobe.description()).contains("uprobe libc.so.6:getppid+0 pid " + self);
            BpfMap ring = obj.map("probe_events");
            try (MappedRingBuffer mapped = MappedRingBuffer.map(ring.fd(), ring.maxEntries())) {
                Getppid.getppid();
                List<Integer> magics = new ArrayList<>();
                for (int attempt = 0; attempt < 50 && magics.size() < 2; attempt++) {
                    if (mapped.poll((b, o, l) -> magics.add(b.getInt(o + 4)), 10) == 0) {
                        mapped.await(100);
                    }
                }
                assertThat(magics).containsExactlyInAnyOrder(0x75707262, 0x72617774);

                uprobe.close();
                rawTp.close();
                Getppid.getppid();
                mapped.await(100);
                assertThat(mapped.poll((b, o, l) -> magics.add(b.getInt(o + 4)), 10)).as("after detach").isZero();
            }
        }
    }

    @Test
    void shouldUpdateLookUpIterateAndDeleteHashEntries() {
        try (BpfObject obj = BpfObject.open("feature_probe", BpfObjects.load("feature_probe"))) {
            obj.load();
            BpfMap hash = obj.map("probe_hash");
            byte[] one = {1, 0, 0, 0};
            byte[] two = {2, 0, 0, 0};
            hash.update(one, new byte[] {11, 0, 0, 0, 0, 0, 0, 0});
            hash.update(two, new byte[] {22, 0, 0, 0, 0, 0, 0, 0});
            byte[] value = new byte[8];
            assertThat(hash.lookup(two, value)).isTrue();
            assertThat(value[0]).isEqualTo((byte) 22);

            List<Byte> keys = new ArrayList<>();
            byte[] key = null;
            byte[] next = new byte[4];
            while (hash.nextKey(key, next)) {
                keys.add(next[0]);
                key = next.clone();
            }
            assertThat(keys).containsExactlyInAnyOrder((byte) 1, (byte) 2);

            assertThat(hash.delete(one)).isTrue();
            assertThat(hash.delete(one)).isFalse();
            assertThat(hash.lookup(one, value)).isFalse();
            assertThatThrownBy(() -> hash.lookup(new byte[2], value)).hasMessageContaining("key of 2 bytes")
                    .hasMessageContaining("needs 4");
            assertThatThrownBy(() -> hash.update(one, new byte[4])).hasMessageContaining("value of 4 bytes");
        }
    }

    @Test
    void shouldRefuseToPollAClosedRingInsteadOfReadingUnmappedMemory() {
        try (BpfObject obj = BpfObject.open("feature_probe", BpfObjects.load("feature_probe"))) {
            obj.load();
            BpfMap ring = obj.map("probe_events");
            MappedRingBuffer mapped = MappedRingBuffer.map(ring.fd(), ring.maxEntries());
            mapped.close();
            mapped.close();
            assertThatThrownBy(() -> mapped.poll((b, o, l) -> { }, 1)).hasMessageContaining("closed");
            assertThatThrownBy(() -> mapped.await(1)).hasMessageContaining("closed");
        }
    }

    @Test
    void shouldTolerateDoubleCloseAndRefuseUseAfterClose() {
        int self = (int) ProcessHandle.current().pid();
        BpfObject obj = BpfObject.open("feature_probe", BpfObjects.load("feature_probe"));
        obj.setInt("target_tgid", self);
        obj.load();
        BpfLink link = obj.program("probe_getppid").attachTracepoint("syscalls", "sys_enter_getppid");
        assertThat(link.description()).contains("sys_enter_getppid");
        obj.close();
        obj.close();
        assertThatThrownBy(() -> obj.map("probe_events")).hasMessageContaining("closed");
    }

    @Test
    void shouldLeaveNothingAttachedWhenClosedAfterAFailedAttach() throws Exception {
        long before = attachmentFds();
        BpfObject obj = BpfObject.open("feature_probe", BpfObjects.load("feature_probe"));
        obj.load();
        obj.program("probe_getppid").attachTracepoint("syscalls", "sys_enter_getppid");
        assertThat(attachmentFds()).isEqualTo(before + 1);
        assertThatThrownBy(() -> obj.program("probe_getppid").attachTracepoint("syscalls", "sys_enter_nope"))
                .isInstanceOf(BpfException.class);
        obj.close();
        assertThat(attachmentFds()).isEqualTo(before);
    }

    /** Tracepoint attachments hold a perf_event fd (anon_inode:[perf_event]) per link. */
    private static long attachmentFds() throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().contains("perf_event");
                } catch (Exception e) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void shouldNameMissingTracepointInAttachError() {
        try (BpfObject obj = BpfObject.open("feature_probe", BpfObjects.load("feature_probe"))) {
            obj.load();
            assertThatThrownBy(() -> obj.program("probe_getppid").attachTracepoint("syscalls", "sys_enter_nope"))
                    .isInstanceOf(BpfException.class)
                    .hasMessageContaining("sys_enter_nope")
                    .hasMessageContaining("No such file");
        }
    }

    @Test
    void shouldIterateUpdateAndDeleteMapEntries() {
        try (BpfObject obj = BpfObject.open("feature_probe", BpfObjects.load("feature_probe"))) {
            obj.load();
            BpfMap rodata = obj.map(".rodata");
            byte[] key = new byte[4];
            byte[] value = new byte[rodata.valueSize()];
            assertThat(rodata.lookup(key, value)).isTrue();
            byte[] next = new byte[4];
            assertThat(rodata.nextKey(null, next)).isTrue();
            assertThat(rodata.nextKey(next, new byte[4])).isFalse();
        }
    }

    @Test
    void shouldRejectUnknownVariableAndLateConstant() {
        try (BpfObject obj = BpfObject.open("feature_probe", BpfObjects.load("feature_probe"))) {
            assertThatThrownBy(() -> obj.setInt("no_such_var", 1)).hasMessageContaining("no_such_var");
            assertThatThrownBy(() -> obj.setLong("target_tgid", 1)).hasMessageContaining("4 bytes");
            obj.load();
            assertThatThrownBy(() -> obj.setInt("target_tgid", 1)).hasMessageContaining("before load");
        }
    }
}
