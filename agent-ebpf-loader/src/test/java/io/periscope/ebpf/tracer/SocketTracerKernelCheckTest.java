package io.periscope.ebpf.tracer;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The tracer's up-front check for the dynptr copy kfunc (kernel >= 6.16) in kernel BTF. */
class SocketTracerKernelCheckTest {
    @Test
    void shouldFindOnlyWholeNulTerminatedNames(@TempDir Path dir) throws Exception {
        Path btf = dir.resolve("btf");
        String strings = "\0bpf_rdonly_cast\0xbpf_probe_read_user_dynptr\0bpf_probe_read_user_dynptr_x\0";
        Files.write(btf, strings.getBytes(StandardCharsets.US_ASCII));
        assertThat(SocketTracer.btfNames(btf, "bpf_rdonly_cast")).isTrue();
        assertThat(SocketTracer.btfNames(btf, SocketTracer.REQUIRED_KFUNC))
                .as("only as part of longer names").isFalse();
        Files.write(btf, (strings + SocketTracer.REQUIRED_KFUNC + "\0").getBytes(StandardCharsets.US_ASCII));
        assertThat(SocketTracer.btfNames(btf, SocketTracer.REQUIRED_KFUNC)).isTrue();
    }

    @Test
    @Tag("kernel")
    void shouldFindTheKfuncInThisKernelsBtf() {
        assertThat(SocketTracer.btfNames(Path.of("/sys/kernel/btf/vmlinux"), SocketTracer.REQUIRED_KFUNC))
                .as("this 6.18 kernel has %s", SocketTracer.REQUIRED_KFUNC).isTrue();
    }
}
