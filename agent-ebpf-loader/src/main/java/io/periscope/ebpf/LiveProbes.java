package io.periscope.ebpf;

import com.sun.jna.Native;
import io.periscope.ebpf.internal.LibBpf;
import io.periscope.ebpf.internal.LibC;
import io.periscope.ebpf.libbpf.BpfMap;
import io.periscope.ebpf.libbpf.BpfObject;
import io.periscope.ebpf.libbpf.BpfProgram;
import io.periscope.ebpf.ringbuf.MappedRingBuffer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPInputStream;

/**
 * Probes by doing: loads bpf-src/feature_probe.bpf.c and attaches each kind of program for real
 * (then detaches), opens an AF_PACKET socket. A facility is available only if that worked.
 */
final class LiveProbes {
    private static final String OBJECT = "feature_probe";
    private static final int PROBE_MAGIC = 0x70657269;
    private static final int RING_WAIT_MILLIS = 200;

    private LiveProbes() {
    }

    /** getppid(2) straight through JNA, so the tracepoint sees exactly our call. */
    private static final class Syscalls {
        static {
            Native.register("c");
        }

        static native int getppid();
    }

    static List<Facility> probe() {
        List<Facility> out = new ArrayList<>();
        if (!LibBpf.isAvailable()) {
            String why = "libbpf.so.1 not loadable (" + LibBpf.unavailabilityCause().getMessage().split("\n")[0]
                    + "); install libbpf1";
            out.add(Facility.unavailable("libbpf", why));
            for (String name : new String[] {"tracepoints", "BPF ring buffer", "kprobes", "fentry", "uprobes",
                    "tc/clsact"}) {
                out.add(Facility.unavailable(name, "needs libbpf: " + why));
            }
        } else {
            out.add(Facility.available("libbpf", "libbpf " + LibBpf.libbpfMajorVersion() + "."
                    + LibBpf.libbpfMinorVersion()));
            String config = kernelConfig();
            tracepointAndRing(out);
            out.add(attachProbe("kprobes", "probe_kprobe", config, "CONFIG_KPROBES",
                    p -> p.attach()));
            out.add(attachProbe("fentry", "probe_fentry", config, "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS",
                    p -> p.attach()));
            out.add(attachProbe("uprobes", "probe_uprobe", config, "CONFIG_UPROBE_EVENTS",
                    p -> p.attachUprobe("libc.so.6", "getppid", 0, (int) ProcessHandle.current().pid(), false)));
            out.add(tc(config));
        }
        out.add(afPacket());
        return out;
    }

    private static void tracepointAndRing(List<Facility> out) {
        int self = (int) ProcessHandle.current().pid();
        try (BpfObject obj = BpfObject.open(OBJECT, BpfObjects.load(OBJECT))) {
            obj.setInt("target_tgid", self);
            obj.load();
            BpfMap ring = obj.map("probe_events");
            obj.program("probe_getppid").attachTracepoint("syscalls", "sys_enter_getppid");
            out.add(Facility.available("tracepoints", "syscalls/sys_enter_getppid attached"));
            try (MappedRingBuffer mapped = MappedRingBuffer.map(ring.fd(), ring.maxEntries())) {
                Syscalls.getppid();
                int[] seen = new int[1];
                for (int i = 0; i < 5 && seen[0] == 0; i++) {
                    mapped.poll((b, o, l) -> {
                        if (l == 8 && b.getInt(o) == self && b.getInt(o + 4) == PROBE_MAGIC) {
                            seen[0]++;
                        }
                    }, 16);
                    if (seen[0] == 0) {
                        mapped.await(RING_WAIT_MILLIS);
                    }
                }
                out.add(seen[0] > 0
                        ? Facility.available("BPF ring buffer", "event read back through mmap")
                        : Facility.unavailable("BPF ring buffer", "tracepoint fired but no event arrived"));
            }
        } catch (RuntimeException e) {
            String why = oneLine(e);
            if (out.stream().noneMatch(f -> f.name().equals("tracepoints"))) {
                out.add(Facility.unavailable("tracepoints", why));
            }
            out.add(Facility.unavailable("BPF ring buffer", why));
        }
    }

    /** How a probe attaches its program. */
    private interface Attach {
        void attach(BpfProgram program);
    }

    private static Facility attachProbe(String name, String program, String config, String option, Attach how) {
        try (BpfObject obj = BpfObject.open(OBJECT, BpfObjects.load(OBJECT))) {
            obj.program("probe_getppid").setAutoload(false);
            obj.program(program).setAutoload(true);
            obj.load();
            how.attach(obj.program(program));
            return Facility.available(name, "test program attached and detached");
        } catch (RuntimeException e) {
            String hint = configHint(config, option);
            // With the kernel config naming the cause, libbpf's own account is noise.
            return Facility.unavailable(name, hint.isEmpty() ? oneLine(e) : hint + withoutLibbpfDetail(oneLine(e)));
        }
    }

    /** Attaches a tc program to lo in a throwaway network namespace, so the host's qdiscs are untouched. */
    private static Facility tc(String config) {
        AtomicReference<Facility> result = new AtomicReference<>();
        Thread t = new Thread(() -> {
            // Network namespaces are per thread: this one dies with the thread.
            if (LibC.unshare(LibC.CLONE_NEWNET) != 0) {
                result.set(Facility.unavailable("tc/clsact", "cannot create a network namespace to test in: "
                        + LibC.lastError() + "; needs CAP_SYS_ADMIN"));
                return;
            }
            try (BpfObject obj = BpfObject.open(OBJECT, BpfObjects.load(OBJECT))) {
                obj.program("probe_getppid").setAutoload(false);
                obj.program("probe_tc").setAutoload(true);
                obj.load();
                obj.program("probe_tc").attachTc("lo", true);
                result.set(Facility.available("tc/clsact", "classifier attached to clsact ingress in a test netns"));
            } catch (RuntimeException e) {
                result.set(Facility.unavailable("tc/clsact", configHint(config, "CONFIG_NET_SCH_INGRESS")
                        + oneLine(e)));
            }
        }, "periscope-tc-probe");
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Facility.unavailable("tc/clsact", "probe interrupted");
        }
        return result.get();
    }

    private static Facility afPacket() {
        int fd = LibC.socket(LibC.AF_PACKET, LibC.SOCK_RAW, LibC.ETH_P_ALL_BE);
        if (fd < 0) {
            return Facility.unavailable("AF_PACKET", "socket(AF_PACKET, SOCK_RAW) failed: " + LibC.lastError()
                    + "; needs CAP_NET_RAW and CONFIG_PACKET");
        }
        LibC.close(fd);
        return Facility.available("AF_PACKET", "raw packet socket opened");
    }

    private static String configHint(String config, String option) {
        if (config.contains("# " + option + " is not set")) {
            return "kernel built without " + option + "; ";
        }
        return "";
    }

    private static String withoutLibbpfDetail(String line) {
        int at = line.indexOf(" (libbpf:");
        if (at < 0) {
            at = line.indexOf("; libbpf:");
        }
        return at < 0 ? line : line.substring(0, at);
    }

    private static String oneLine(Throwable e) {
        String msg = String.valueOf(e.getMessage());
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }

    /** /proc/config.gz when the kernel exposes it; only used to explain failures. */
    private static String kernelConfig() {
        Path p = Path.of("/proc/config.gz");
        if (!Files.isReadable(p)) {
            return "";
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }
}
