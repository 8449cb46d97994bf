package io.periscope.ebpf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The compiled kernel programs of {@code bpf-src}, embedded in this jar at build time. */
public final class BpfObjects {
    private static final String RESOURCE_DIR = "/io/periscope/ebpf/bpf/";

    private BpfObjects() {
    }

    /**
     * The ELF bytes of {@code <name>.bpf.o}.
     *
     * @throws IllegalStateException if the jar was built without it (bpf-src did not compile)
     */
    public static byte[] load(String name) {
        String resource = RESOURCE_DIR + name + ".bpf.o";
        try (InputStream in = BpfObjects.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("BPF object " + resource + " is not in the agent jar; "
                        + "rebuild with clang and libbpf-dev installed (./periscope does it)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }
}
