package io.periscope.ebpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * What this kernel and this process can do, probed once, each facility reported as available or
 * "unavailable: why" (in the manner of Netty's {@code Epoll.unavailabilityCause()}).
 */
public final class KernelFeatures {
    /** Capability numbers from include/uapi/linux/capability.h. */
    private static final int CAP_NET_ADMIN = 12;
    private static final int CAP_NET_RAW = 13;
    private static final int CAP_SYS_PTRACE = 19;
    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_PERFMON = 38;
    private static final int CAP_BPF = 39;

    private final String kernelRelease;
    private final List<Facility> facilities;

    private KernelFeatures(String kernelRelease, List<Facility> facilities) {
        this.kernelRelease = kernelRelease;
        this.facilities = Collections.unmodifiableList(facilities);
    }

    /**
     * Probes the running kernel and process: files under /proc and /sys, then live checks that
     * load and attach a test program of each kind (tracepoint + ring buffer, kprobe, fentry,
     * uprobe, tc) and open an AF_PACKET socket. Takes well under a second; call it once.
     */
    public static KernelFeatures probe() {
        KernelFeatures files = probe(Path.of("/"));
        List<Facility> all = new ArrayList<>(files.facilities);
        all.addAll(1, LiveProbes.probe());
        return new KernelFeatures(files.kernelRelease, all);
    }

    /** Probes with every path resolved under {@code root} (tests point it at a fake tree). */
    static KernelFeatures probe(Path root) {
        List<Facility> list = new ArrayList<>();
        String release = read(root.resolve("proc/sys/kernel/osrelease")).map(String::trim).orElse("unknown");

        Path btf = root.resolve("sys/kernel/btf/vmlinux");
        list.add(Files.isReadable(btf)
                ? Facility.available("BTF", "/sys/kernel/btf/vmlinux")
                : Facility.unavailable("BTF", "/sys/kernel/btf/vmlinux missing: the kernel needs "
                        + "CONFIG_DEBUG_INFO_BTF=y (kernel >= 5.8 with BTF)"));

        String mounts = read(root.resolve("proc/mounts")).orElse("");
        list.add(mounted(mounts, "tracefs", "/sys/kernel/tracing",
                "mount -t tracefs tracefs /sys/kernel/tracing (./periscope run does it)"));
        list.add(mounted(mounts, "bpf", "/sys/fs/bpf",
                "mount -t bpf bpffs /sys/fs/bpf (./periscope run does it)"));

        long capEff = read(root.resolve("proc/self/status")).map(KernelFeatures::effectiveCaps).orElse(0L);
        list.add(capability(capEff, CAP_BPF, "CAP_BPF", "load BPF programs and maps"));
        list.add(capability(capEff, CAP_PERFMON, "CAP_PERFMON", "attach tracepoints and uprobes"));
        list.add(capability(capEff, CAP_NET_RAW, "CAP_NET_RAW", "open AF_PACKET sockets"));
        list.add(capability(capEff, CAP_NET_ADMIN, "CAP_NET_ADMIN", "attach tc programs, set promiscuous mode"));
        list.add(capability(capEff, CAP_SYS_PTRACE, "CAP_SYS_PTRACE", "read /proc/<pid> of other users"));
        list.add(capability(capEff, CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "mount tracefs/bpffs; BPF on kernels < 5.8"));
        return new KernelFeatures(release, list);
    }

    private static Facility mounted(String mounts, String fsType, String mountPoint, String fix) {
        String name = fsType.equals("bpf") ? "bpffs mounted" : fsType + " mounted";
        for (String line : mounts.split("\n")) {
            String[] fields = line.split(" ");
            if (fields.length > 2 && fields[1].equals(mountPoint) && fields[2].equals(fsType)) {
                return Facility.available(name, mountPoint);
            }
        }
        return Facility.unavailable(name, "not mounted at " + mountPoint + "; " + fix);
    }

    private static Facility capability(long capEff, int bit, String name, String purpose) {
        return (capEff & (1L << bit)) != 0
                ? Facility.available(name, purpose)
                : Facility.unavailable(name, "missing (needed to " + purpose + "); run as root or grant " + name);
    }

    static long effectiveCaps(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                return Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
            }
        }
        return 0L;
    }

    private static Optional<String> read(Path path) {
        try {
            return Optional.of(Files.readString(path));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The kernel release, e.g. {@code 6.18.44}. */
    public String kernelRelease() {
        return kernelRelease;
    }

    /** Every facility probed, in report order. */
    public List<Facility> facilities() {
        return facilities;
    }

    /** The facility called {@code name}. */
    public Optional<Facility> facility(String name) {
        return facilities.stream().filter(f -> f.name().equals(name)).findFirst();
    }

    /** A multi-line report for {@code periscope check}. */
    public String report() {
        StringBuilder out = new StringBuilder("kernel " + kernelRelease + "\n");
        for (Facility f : facilities) {
            out.append("  ").append(f.line()).append('\n');
        }
        return out.toString();
    }

    /** A one-line summary for the log. */
    public String summary() {
        long missing = facilities.stream().filter(f -> !f.available()).count();
        return kernelRelease + ", " + (facilities.size() - missing) + "/" + facilities.size()
                + " facilities available" + (missing == 0 ? "" : " (run `periscope check` for what is missing)");
    }
}
