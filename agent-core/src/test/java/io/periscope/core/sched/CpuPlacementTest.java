package io.periscope.core.sched;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CpuPlacementTest {
    private static final long SLICE_NANOS = 300_000;

    @AfterEach
    void restore() throws IOException {
        // This JVM runs the other tests too: give its threads the kernel's slice and every CPU back.
        CpuPlacement.reset();
        String online = Files.readString(Path.of("/sys/devices/system/cpu/online"));
        CpuPlacement.apply(0, 0, CpuPlacement.parseCpuList(online));
    }

    @Test
    void shouldParseLinuxCpuLists() {
        assertThat(CpuPlacement.parseCpuList("0-3, 6,8-9")).isEqualTo(bits(0, 1, 2, 3, 6, 8, 9));
        assertThat(CpuPlacement.parseCpuList("5")).isEqualTo(bits(5));
        assertThat(CpuPlacement.parseCpuList(" ").isEmpty()).isTrue();
        assertThatThrownBy(() -> CpuPlacement.parseCpuList("3-1")).hasMessageContaining("bad CPU range '3-1'");
        assertThatThrownBy(() -> CpuPlacement.parseCpuList("1,,2")).hasMessageContaining("'' is not a CPU number");
        assertThatThrownBy(() -> CpuPlacement.parseCpuList("-1")).hasMessageContaining("is not a CPU number");
        assertThatThrownBy(() -> CpuPlacement.parseCpuList("9000")).hasMessageContaining("CPUs 0-8191");
    }

    @Test
    void shouldRejectSlicesTheKernelWouldClamp() {
        assertThatThrownBy(() -> CpuPlacement.apply(99, 0, new BitSet())).hasMessageContaining("100-100000");
        assertThatThrownBy(() -> CpuPlacement.apply(100_001, 0, new BitSet())).hasMessageContaining("100-100000");
        assertThatThrownBy(() -> CpuPlacement.apply(0, 20, new BitSet())).hasMessageContaining("0-19");
        assertThatThrownBy(() -> CpuPlacement.apply(0, -1, new BitSet())).hasMessageContaining("0-19");
    }

    @Test
    @Tag("kernel")
    void shouldGiveEveryThreadAndItsLaterChildrenTheSlice() throws Exception {
        CpuPlacement.Result result = CpuPlacement.apply((int) (SLICE_NANOS / 1000), 0, new BitSet());

        assertThat(result.problem()).as("custom EEVDF slices need Linux 6.12+ (this test needs them)").isNull();
        assertThat(result.sliceSupported()).isTrue();
        assertThat(result.sliceNanos()).isEqualTo(SLICE_NANOS);
        assertThat(result.threads()).isGreaterThan(1);
        for (Path task : tasks()) {
            String sched = readIfAlive(task.resolve("sched"));
            if (sched != null) {
                assertThat(sched).as("slice of %s", task).containsPattern("se\\.slice +: +" + SLICE_NANOS + "\n");
            }
        }
        assertThat(schedField(taskOfNewThread(), "se.slice")).isEqualTo(SLICE_NANOS);

        CpuPlacement.reset();
        assertThat(schedField(Path.of("/proc/thread-self"), "se.slice")).isNotEqualTo(SLICE_NANOS);
    }

    @Test
    @Tag("kernel")
    void shouldKeepEveryThreadAndItsLaterChildrenOnTheGivenCpus() throws Exception {
        CpuPlacement.Result result = CpuPlacement.apply(0, 0, bits(0));

        assertThat(result.affinityFailures()).isZero();
        for (Path task : tasks()) {
            String status = readIfAlive(task.resolve("status"));
            if (status != null) {
                assertThat(status).as("CPUs of %s", task).contains("Cpus_allowed_list:\t0\n");
            }
        }
        assertThat(status(taskOfNewThread(), "Cpus_allowed_list")).isEqualTo("0");
    }

    @Test
    @Tag("kernel")
    void shouldGiveEveryThreadAndItsLaterChildrenTheNiceValue() throws Exception {
        CpuPlacement.Result result = CpuPlacement.apply(0, 7, new BitSet());

        assertThat(result.niceFailures()).isZero();
        for (Path task : tasks()) {
            String stat = readIfAlive(task.resolve("stat"));
            if (stat != null) {
                assertThat(niceOf(stat)).as("nice of %s", task).isEqualTo(7);
            }
        }
        assertThat(niceOf(Files.readString(taskOfNewThread().resolve("stat")))).isEqualTo(7);

        CpuPlacement.reset();
        assertThat(niceOf(Files.readString(Path.of("/proc/thread-self/stat")))).isZero();
    }

    /** Field 19 of /proc/[tid]/stat, counted after the command name's closing parenthesis. */
    private static int niceOf(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(fields[19 - 3]);
    }

    /** What a thread started now reads of itself (its sched and status), as a task-shaped directory. */
    private static Path taskOfNewThread() throws Exception {
        Path dir = Files.createTempDirectory("task");
        AtomicReference<Exception> failed = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                Files.copy(Path.of("/proc/thread-self/sched"), dir.resolve("sched"));
                Files.copy(Path.of("/proc/thread-self/status"), dir.resolve("status"));
                Files.copy(Path.of("/proc/thread-self/stat"), dir.resolve("stat"));
            } catch (IOException e) {
                failed.set(e);
            }
        });
        thread.start();
        thread.join();
        if (failed.get() != null) {
            throw failed.get();
        }
        return dir;
    }

    private static long schedField(Path task, String name) throws IOException {
        for (String line : Files.readAllLines(task.resolve("sched"))) {
            if (line.startsWith(name + " ")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        throw new AssertionError(name + " missing in " + task.resolve("sched"));
    }

    private static String status(Path task, String name) throws IOException {
        for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).trim();
            }
        }
        throw new AssertionError(name + " missing in " + task.resolve("status"));
    }

    /** A thread that ended since the listing has no files left; null then. */
    private static String readIfAlive(Path file) throws IOException {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static List<Path> tasks() throws IOException {
        List<Path> tasks = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            dir.forEach(tasks::add);
        }
        return tasks;
    }

    private static BitSet bits(int... cpus) {
        BitSet set = new BitSet();
        for (int cpu : cpus) {
            set.set(cpu);
        }
        return set;
    }
}
