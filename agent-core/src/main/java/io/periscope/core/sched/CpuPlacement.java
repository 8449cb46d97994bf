package io.periscope.core.sched;

import com.sun.jna.FunctionMapper;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where and how long the agent's threads may run: an EEVDF time slice for every thread of this
 * JVM ({@code sched_setattr} with {@code sched_runtime}, kernel 6.12 or newer), a nice value, and,
 * opt-in, the CPUs they may run on. Applied once at start to every thread in {@code /proc/self/task}; threads
 * made later inherit both from the thread that makes them (the kernel copies them on clone).
 *
 * <p>Why a short slice: the agent shares CPUs with the workloads it traces. On a CPU where an agent
 * thread runs, a workload thread that wakes up waits until the agent's slice protection ends
 * (EEVDF's run-to-parity) or the next tick (4 ms at HZ=250); with a 100 µs slice that protection
 * is over almost at once. Why nice: at equal weight EEVDF lets an agent thread that has had less
 * than its fair share keep the CPU while the woken workload waits (it is still "eligible" with an
 * earlier deadline); at nice 5 (weight 335 against 1024) its virtual time runs three times faster,
 * so a woken workload thread overtakes it within its first slice. The agent still gets every idle
 * cycle; only when a CPU is contended does it get a third of a nice-0 thread's share.
 */
public final class CpuPlacement {
    /** Kernel bounds for a fair task's custom slice (kernel/sched/syscalls.c clamps to 0.1-100 ms). */
    public static final int MIN_SLICE_MICROS = 100;
    public static final int MAX_SLICE_MICROS = 100_000;

    /** The kernel's cpumask limit (CONFIG_NR_CPUS is at most 8192). */
    private static final int MAX_CPUS = 8192;
    /** The weakest nice value (weight 15 against nice 0's 1024). */
    public static final int MAX_NICE = 19;
    private static final int PRIO_PROCESS = 0;
    private static final int SCHED_ATTR_SIZE_VER0 = 48;
    /** errno of a thread that ended between the listing and the call: nothing to place. */
    private static final int ESRCH = 3;
    private static final int OFFSET_RUNTIME = 24;
    private static final long NANOS_PER_MICRO = 1_000;
    /** A thread may appear while the task directory is read; a few passes catch its creator's children. */
    private static final int MAX_PASSES = 4;

    private CpuPlacement() {
    }

    /** What {@link #apply} did: threads changed, the slice the kernel reports, and why not if it could not. */
    public record Result(int threads, long sliceNanos, boolean sliceSupported, int niceFailures, int affinityFailures,
                         String problem) {
    }

    /**
     * Sets the slice (0: leave the kernel's default), the nice value (0: leave it; 1-19: lower the
     * threads' weight) and the CPU set (empty: leave it) on every thread of this process. Never
     * throws for a kernel or architecture without the call: the result says so and the agent runs
     * with the kernel's defaults.
     */
    public static Result apply(int sliceMicros, int nice, BitSet cpus) {
        if (nice < 0 || nice > MAX_NICE) {
            throw new IllegalArgumentException("nice must be 0-" + MAX_NICE + ", got " + nice);
        }
        if (sliceMicros != 0 && (sliceMicros < MIN_SLICE_MICROS || sliceMicros > MAX_SLICE_MICROS)) {
            throw new IllegalArgumentException("slice must be 0 or " + MIN_SLICE_MICROS + "-" + MAX_SLICE_MICROS
                    + " µs, got " + sliceMicros);
        }
        return place(sliceMicros * NANOS_PER_MICRO, sliceMicros != 0, nice, nice != 0, cpus);
    }

    /**
     * Gives every thread of this process the kernel's default slice and nice 0 again (lowering
     * nice needs CAP_SYS_NICE; the tests run as root).
     */
    public static Result reset() {
        return place(0, true, 0, true, new BitSet());
    }

    private static Result place(long sliceNanos, boolean setSlice, int nice, boolean setNice, BitSet cpus) {
        long[] numbers = syscallNumbers();
        if (setSlice && numbers == null) {
            return new Result(0, 0, false, 0, 0, "sched_setattr: no syscall number known for "
                    + System.getProperty("os.arch"));
        }
        LibC libc;
        try {
            libc = LibC.INSTANCE;
        } catch (UnsatisfiedLinkError e) {
            return new Result(0, 0, false, 0, 0, "libc not loadable: " + e.getMessage());
        }
        Memory mask = cpus.isEmpty() ? null : mask(cpus);
        Set<Integer> done = new HashSet<>();
        long sliceSeen = -1;
        String problem = null;
        int affinityFailures = 0;
        int niceFailures = 0;
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            Set<Integer> tids = tasks();
            tids.removeAll(done);
            if (tids.isEmpty()) {
                break;
            }
            for (int tid : tids) {
                done.add(tid);
                if (setSlice && problem == null) {
                    long seen = setSlice(libc, numbers, tid, sliceNanos);
                    if (seen < 0) {
                        int errno = Native.getLastError();
                        if (errno != ESRCH) {
                            problem = "sched_setattr: errno " + errno;
                        }
                    } else {
                        sliceSeen = sliceSeen < 0 ? seen : Math.min(sliceSeen, seen);
                    }
                }
                if (setNice && libc.setpriority(PRIO_PROCESS, tid, nice) != 0 && Native.getLastError() != ESRCH) {
                    niceFailures++;
                }
                if (mask != null && libc.schedSetaffinity(tid, mask.size(), mask) != 0
                        && Native.getLastError() != ESRCH) {
                    affinityFailures++;
                }
            }
        }
        if (!setSlice) {
            return new Result(done.size(), 0, true, niceFailures, affinityFailures, null);
        }
        if (problem == null && sliceSeen == 0 && sliceNanos != 0) {
            // Kernels before 6.12 accept sched_runtime for a fair policy and ignore it.
            problem = "the kernel ignores a fair task's sched_runtime (custom slices need Linux 6.12+)";
        }
        return new Result(done.size(), Math.max(sliceSeen, 0), problem == null, niceFailures, affinityFailures,
                problem);
    }

    /** Returns the slice the kernel reports after setting it, or -1 if a call failed. */
    private static long setSlice(LibC libc, long[] numbers, int tid, long sliceNanos) {
        try (Memory attr = new Memory(SCHED_ATTR_SIZE_VER0)) {
            attr.clear();
            if (libc.syscall(numbers[1], (long) tid, attr, (long) SCHED_ATTR_SIZE_VER0, 0L) != 0) {
                return -1;
            }
            // Keep the policy (SCHED_BATCH from the launcher) and nice; only the slice changes.
            attr.setInt(0, SCHED_ATTR_SIZE_VER0);
            attr.setLong(OFFSET_RUNTIME, sliceNanos);
            if (libc.syscall(numbers[0], (long) tid, attr, 0L) != 0) {
                return -1;
            }
            attr.clear();
            if (libc.syscall(numbers[1], (long) tid, attr, (long) SCHED_ATTR_SIZE_VER0, 0L) != 0) {
                return -1;
            }
            return attr.getLong(OFFSET_RUNTIME);
        }
    }

    /** {sched_setattr, sched_getattr} for this architecture (glibc 2.36 has no wrappers), or null. */
    private static long[] syscallNumbers() {
        switch (System.getProperty("os.arch", "").toLowerCase(Locale.ROOT)) {
            case "amd64":
            case "x86_64":
                return new long[] {314, 315};
            case "aarch64":
            case "arm64":
                return new long[] {274, 275};
            default:
                return null;
        }
    }

    private static Memory mask(BitSet cpus) {
        long[] words = cpus.toLongArray();
        Memory mask = new Memory(Math.max(1, words.length) * (long) Long.BYTES);
        mask.clear();
        for (int i = 0; i < words.length; i++) {
            mask.setLong((long) i * Long.BYTES, words[i]);
        }
        return mask;
    }

    private static Set<Integer> tasks() {
        Set<Integer> tids = new HashSet<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : dir) {
                tids.add(Integer.parseInt(task.getFileName().toString()));
            }
        } catch (IOException | NumberFormatException e) {
            tids.add(0); // 0: the calling thread; its later children inherit from it
        }
        return tids;
    }

    /**
     * Parses a Linux CPU list ("0-3,6,8-9", as in /sys/devices/system/cpu/online and taskset -c);
     * empty or blank means no restriction.
     */
    public static BitSet parseCpuList(String list) {
        BitSet cpus = new BitSet();
        if (list == null || list.isBlank()) {
            return cpus;
        }
        for (String part : list.split(",", -1)) {
            String item = part.trim();
            int dash = item.indexOf('-');
            try {
                int from = Integer.parseInt(dash < 0 ? item : item.substring(0, dash).trim());
                int to = dash < 0 ? from : Integer.parseInt(item.substring(dash + 1).trim());
                if (from < 0 || to < from || to >= MAX_CPUS) {
                    throw new IllegalArgumentException("bad CPU range '" + item + "' in '" + list
                            + "' (CPUs 0-" + (MAX_CPUS - 1) + ", low-high)");
                }
                cpus.set(from, to + 1);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad CPU list '" + list + "': '" + item
                        + "' is not a CPU number or range such as 2 or 4-7", e);
            }
        }
        return cpus;
    }

    /** The libc calls, made once per thread at start (never per event). */
    interface LibC extends Library {
        /** Java names are the C names in camelCase ({@code schedSetaffinity} is {@code sched_setaffinity}). */
        LibC INSTANCE = Native.load("c", LibC.class, Map.of(Library.OPTION_FUNCTION_MAPPER, (FunctionMapper)
                (library, method) -> method.getName().replaceAll("([A-Z])", "_$1").toLowerCase(Locale.ROOT)));

        /** libc's syscall(2); every argument is passed as a long (syscall reads them as longs). */
        long syscall(long number, Object... args);

        /** On Linux, PRIO_PROCESS with a thread id sets that thread's nice value only. */
        int setpriority(int which, int who, int prio);

        /** With a thread id, limits that thread only. */
        int schedSetaffinity(int tid, long cpuSetBytes, Pointer mask);
    }
}
