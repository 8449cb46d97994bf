package io.periscope.ebpf.libbpf;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.periscope.ebpf.internal.LibBpf;
import io.periscope.ebpf.internal.LibBpfLog;
import io.periscope.ebpf.internal.LibC;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** One program of a {@link BpfObject}; attachments are owned (and detached) by the object. */
public final class BpfProgram {
    /** Attach to every process (uprobes). */
    public static final int ALL_PIDS = -1;

    /** Offsets in {@code struct bpf_uprobe_opts} (libbpf 1.1, x86_64). */
    private static final int UPROBE_OPTS_BYTES = 40;
    private static final int UPROBE_OPTS_RETPROBE = 24;
    private static final int UPROBE_OPTS_FUNC_NAME = 32;
    /** Offsets in {@code struct bpf_tc_hook} / {@code struct bpf_tc_opts}. */
    private static final int TC_HOOK_BYTES = 24;
    private static final int TC_HOOK_IFINDEX = 8;
    private static final int TC_HOOK_ATTACH_POINT = 12;
    private static final int TC_OPTS_BYTES = 32;
    private static final int TC_OPTS_PROG_FD = 8;
    private static final int TC_OPTS_FLAGS = 12;
    private static final int TC_OPTS_PROG_ID = 16;
    private static final int TC_OPTS_HANDLE = 20;
    private static final int TC_OPTS_PRIORITY = 24;
    private static final int BPF_TC_INGRESS = 1;
    private static final int BPF_TC_EGRESS = 2;
    private static final int EEXIST = 17;
    /** Offsets in {@code struct bpf_prog_info} (UAPI, stable). */
    private static final int PROG_INFO_BYTES = 232;
    private static final int PROG_INFO_NAME = 64;
    private static final int PROG_INFO_NAME_BYTES = 16;
    private static final int PROG_INFO_RUN_TIME_NS = 192;
    private static final int PROG_INFO_RUN_CNT = 200;
    private static final int PROG_INFO_RECURSION_MISSES = 208;

    private final BpfObject object;
    private final Pointer prog;
    private final String name;

    BpfProgram(BpfObject object, Pointer prog, String name) {
        this.object = object;
        this.prog = prog;
        this.name = name;
    }

    /** The C function's name. */
    public String name() {
        return name;
    }

    /** The ELF section, e.g. {@code tracepoint/syscalls/sys_enter_read}. */
    public String section() {
        return LibBpf.bpfProgramSectionName(prog);
    }

    /** Whether load() loads it. */
    public boolean autoload() {
        return LibBpf.bpfProgramAutoload(prog);
    }

    /** Include or skip this program at load (before load only): for optional probes. */
    public void setAutoload(boolean autoload) {
        object.ensureOpen();
        check(LibBpf.bpfProgramSetAutoload(prog, autoload), "set autoload of");
    }

    /** The kernel fd of the loaded program. */
    public int fd() {
        object.ensureLoaded();
        return LibBpf.bpfProgramFd(prog);
    }

    /**
     * What the kernel reports about the loaded program: its name, run count and time (non-zero
     * only while {@code kernel.bpf_stats_enabled=1}) and runs it skipped because another BPF
     * program was already running on that CPU (recursion misses: events lost before any map or
     * ring saw them).
     */
    public ProgramInfo info() {
        byte[] info = new byte[PROG_INFO_BYTES];
        int[] len = {PROG_INFO_BYTES};
        int err = LibBpf.bpfObjGetInfoByFd(fd(), info, len);
        if (err != 0) {
            throw failure("read info of program " + name, err, "needs CAP_BPF/CAP_SYS_ADMIN");
        }
        ByteBuffer b = ByteBuffer.wrap(info).order(ByteOrder.LITTLE_ENDIAN);
        byte[] kernelName = new byte[PROG_INFO_NAME_BYTES];
        b.get(PROG_INFO_NAME, kernelName);
        return new ProgramInfo(Native.toString(kernelName), b.getLong(PROG_INFO_RUN_CNT),
                b.getLong(PROG_INFO_RUN_TIME_NS), b.getLong(PROG_INFO_RECURSION_MISSES));
    }

    /**
     * Kernel-side facts of a loaded program.
     *
     * @param kernelName the name as the kernel stores it (first 15 bytes)
     * @param runCount runs counted while bpf stats are enabled
     * @param runTimeNanos total run time while bpf stats are enabled
     * @param recursionMisses runs skipped because a BPF program was already running on the CPU
     */
    public record ProgramInfo(String kernelName, long runCount, long runTimeNanos, long recursionMisses) {
    }

    /** Attaches by the SEC() name libbpf understands. */
    public BpfLink attach() {
        object.ensureLoaded();
        return link(LibBpf.bpfProgramAttach(prog), "attach " + name + " (" + section() + ")");
    }

    /** Attaches to tracefs event {@code category/event}, e.g. syscalls/sys_enter_read. */
    public BpfLink attachTracepoint(String category, String event) {
        object.ensureLoaded();
        return link(LibBpf.bpfProgramAttachTracepoint(prog, category, event),
                "attach " + name + " to tracepoint " + category + "/" + event);
    }

    /** Attaches to a raw tracepoint, e.g. sys_enter. */
    public BpfLink attachRawTracepoint(String event) {
        object.ensureLoaded();
        return link(LibBpf.bpfProgramAttachRawTracepoint(prog, event), "attach " + name + " to raw_tp " + event);
    }

    /** Attaches a kprobe (or kretprobe) to kernel function {@code function}. */
    public BpfLink attachKprobe(String function, boolean retprobe) {
        object.ensureLoaded();
        return link(LibBpf.bpfProgramAttachKprobe(prog, retprobe, function),
                "attach " + name + " to " + (retprobe ? "kretprobe " : "kprobe ") + function);
    }

    /**
     * Attaches a uprobe (or uretprobe) in {@code binaryPath}, at {@code symbol} plus {@code offset}
     * (symbol null: {@code offset} is the file offset).
     *
     * @param pid one process, or {@link #ALL_PIDS}
     */
    public BpfLink attachUprobe(String binaryPath, String symbol, long offset, int pid, boolean retprobe) {
        object.ensureLoaded();
        Memory opts = new Memory(UPROBE_OPTS_BYTES);
        opts.clear();
        opts.setLong(0, UPROBE_OPTS_BYTES);
        opts.setByte(UPROBE_OPTS_RETPROBE, (byte) (retprobe ? 1 : 0));
        Memory func = null;
        if (symbol != null) {
            func = new Memory(symbol.length() + 1L);
            func.setString(0, symbol, "US-ASCII");
            opts.setPointer(UPROBE_OPTS_FUNC_NAME, func);
        }
        Pointer link = LibBpf.bpfProgramAttachUprobeOpts(prog, pid, binaryPath, offset, opts);
        Reference.reachabilityFence(func);
        return link(link, "attach " + name + " to " + (retprobe ? "uretprobe " : "uprobe ") + binaryPath + ":"
                + (symbol == null ? "" : symbol + "+") + offset + (pid == ALL_PIDS ? "" : " pid " + pid));
    }

    /** Attaches as a tc (clsact) classifier on interface {@code ifindex}, creating clsact if absent. */
    public BpfLink attachTc(int ifindex, boolean ingress) {
        object.ensureLoaded();
        Memory hook = new Memory(TC_HOOK_BYTES);
        hook.clear();
        hook.setLong(0, TC_HOOK_BYTES);
        hook.setInt(TC_HOOK_IFINDEX, ifindex);
        hook.setInt(TC_HOOK_ATTACH_POINT, ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
        String what = "attach " + name + " to tc " + (ingress ? "ingress" : "egress") + " of ifindex " + ifindex;
        int err = LibBpf.bpfTcHookCreate(hook);
        if (err != 0 && err != -EEXIST) {
            throw failure(what, err, "needs CAP_NET_ADMIN and an existing interface");
        }
        Memory opts = new Memory(TC_OPTS_BYTES);
        opts.clear();
        opts.setLong(0, TC_OPTS_BYTES);
        opts.setInt(TC_OPTS_PROG_FD, fd());
        err = LibBpf.bpfTcAttach(hook, opts);
        if (err != 0) {
            throw failure(what, err, "needs CAP_NET_ADMIN and tc/clsact support");
        }
        // Detach wants only handle and priority set; we never destroy the clsact qdisc because
        // other tools' filters may live on it.
        opts.setInt(TC_OPTS_PROG_FD, 0);
        opts.setInt(TC_OPTS_FLAGS, 0);
        opts.setInt(TC_OPTS_PROG_ID, 0);
        int handle = opts.getInt(TC_OPTS_HANDLE);
        int priority = opts.getInt(TC_OPTS_PRIORITY);
        return object.own(new BpfLink() {
            private boolean closed;

            @Override
            public String description() {
                return what + " (handle " + handle + ", priority " + priority + ")";
            }

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    LibBpf.bpfTcDetach(hook, opts);
                }
            }
        });
    }

    /** Attaches as a tc classifier on the interface called {@code ifname}. */
    public BpfLink attachTc(String ifname, boolean ingress) {
        int ifindex = LibC.ifNametoindex(ifname);
        if (ifindex == 0) {
            throw new BpfException("no network interface " + ifname + " (attach " + name + " to tc)");
        }
        return attachTc(ifindex, ingress);
    }

    private BpfLink link(Pointer link, String what) {
        if (link == null) {
            int errno = Native.getLastError();
            throw failure(what, -errno, hint(errno));
        }
        return object.own(new LibbpfLink(link, what));
    }

    private static String hint(int errno) {
        switch (errno) {
            case 1:
            case 13:
                return "needs root or CAP_BPF+CAP_PERFMON";
            case 2:
                return "the target does not exist here (tracefs mounted? symbol/binary/event present?)";
            case 95:
                return "this kernel lacks the facility (see `periscope check`)";
            default:
                return "see `periscope check`";
        }
    }

    private BpfException failure(String what, int err, String fix) {
        List<String> libbpf = LibBpfLog.drain();
        return new BpfException("cannot " + what + ": " + LibBpf.strerror(err)
                + (libbpf.isEmpty() ? "" : " (libbpf: " + String.join(" | ", libbpf) + ")") + "; " + fix);
    }

    private void check(int err, String verb) {
        if (err != 0) {
            throw failure(verb + " program " + name, err, "call it before load()");
        }
    }

    /** A {@code struct bpf_link} owned by libbpf. */
    private static final class LibbpfLink implements BpfLink {
        private final String description;
        private Pointer link;

        LibbpfLink(Pointer link, String description) {
            this.link = link;
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }

        @Override
        public synchronized void close() {
            if (link != null) {
                LibBpf.bpfLinkDestroy(link);
                link = null;
            }
        }
    }
}
