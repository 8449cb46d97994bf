package io.periscope.ebpf.libbpf;

import io.periscope.ebpf.tracer.SocketTracer;
import io.periscope.ebpf.tracer.SocketTracerConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Bad input: what the user sees when the verifier refuses a program or libbpf is missing. */
class BpfLoadFailureTest {
    /** Run in a child JVM pointed at a libbpf that does not exist. */
    public static final class MissingLibbpfMain {
        private MissingLibbpfMain() {
        }

        public static void main(String[] args) {
            try {
                SocketTracer.open(SocketTracerConfig.defaults()).close();
                System.out.println("opened");
            } catch (IllegalStateException e) {
                System.out.println(e.getMessage());
                System.exit(3);
            }
        }
    }

    @Test
    @Tag("kernel")
    void shouldNameRejectedProgramAndQuoteVerifierLog(@TempDir Path dir) throws Exception {
        Path source = dir.resolve("verifier_reject.bpf.c");
        try (InputStream in = getClass().getResourceAsStream("verifier_reject.bpf.c")) {
            Files.write(source, in.readAllBytes());
        }
        Path object = dir.resolve("verifier_reject.bpf.o");
        String include = Path.of(System.getProperty("periscope.projectRoot"), "bpf-src", "include").toString();
        Process clang = new ProcessBuilder("clang", "-target", "bpf", "-g", "-O2", "-D__TARGET_ARCH_x86",
                "-I" + include, "-c", source.toString(), "-o", object.toString()).redirectErrorStream(true).start();
        String out = new String(clang.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(clang.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(clang.exitValue()).as(out).isZero();

        try (BpfObject obj = BpfObject.open("verifier_reject", Files.readAllBytes(object))) {
            BpfLoadException e = catchThrowableOfType(BpfLoadException.class, obj::load);

            assertThat(e).isNotNull();
            assertThat(e.programName()).isEqualTo("unchecked_lookup");
            assertThat(e.getMessage()).contains("program unchecked_lookup of verifier_reject")
                    .contains("map_value_or_null").contains("fix:");
            assertThat(e.verifierLog()).isNotEmpty().hasSizeLessThanOrEqualTo(25);
            assertThat(obj.isLoaded()).isFalse();
            assertThatThrownBy(() -> obj.program("fine_program").attachTracepoint("syscalls", "sys_enter_getppid"))
                    .hasMessageContaining("not loaded");
        }
    }

    @Test
    void shouldRejectGarbageElfWithClearError() {
        assertThatThrownBy(() -> BpfObject.open("garbage", "not an ELF file".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(BpfException.class)
                .hasMessageContaining("cannot open BPF object garbage");
    }

    @Test
    void shouldExplainMissingLibbpfInOneLine() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Dperiscope.libbpf=libbpf-absent.so.9", "-cp",
                System.getProperty("java.class.path"), MissingLibbpfMain.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(3);
        assertThat(out.strip()).startsWith("libbpf (libbpf.so.1) could not be loaded")
                .contains("apt-get install libbpf1").doesNotContain("\n");
    }
}
