package io.periscope.core.telemetry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time and resident memory of a process, from {@code /proc/<pid>/stat} and {@code status}.
 * Read once per second by the guard and per scrape; not for the hot path.
 */
public final class ProcessStats {
    /**
     * USER_HZ, the unit of the times in /proc/pid/stat. The kernel fixes it at 100 for user space on
     * every architecture Linux ships (it is not CONFIG_HZ), so no sysconf call is needed.
     */
    public static final long CLOCK_TICKS_PER_SECOND = 100;
    private static final int UTIME_FIELD = 14;
    private static final int STIME_FIELD = 15;
    private static final int START_TIME_FIELD = 22;
    private static final long BYTES_PER_KIB = 1024;

    private final Path stat;
    private final Path status;

    /** Stats of the process whose procfs directory is {@code procDir} (e.g. /proc/self). */
    public ProcessStats(Path procDir) {
        this.stat = procDir.resolve("stat");
        this.status = procDir.resolve("status");
    }

    /** This JVM. */
    public static ProcessStats self() {
        return new ProcessStats(Path.of("/proc/self"));
    }

    /** User plus system CPU time in seconds; NaN when procfs cannot be read. */
    public double cpuSeconds() {
        try {
            return cpuTicks(Files.readString(stat)) / (double) CLOCK_TICKS_PER_SECOND;
        } catch (IOException | IllegalArgumentException e) {
            return Double.NaN;
        }
    }

    /** Resident set size in bytes; -1 when procfs cannot be read. */
    public long rssBytes() {
        try {
            return rssBytes(Files.readString(status));
        } catch (IOException | IllegalArgumentException e) {
            return -1;
        }
    }

    /** utime + stime of a /proc/pid/stat line, in clock ticks. */
    public static long cpuTicks(String statLine) {
        return Long.parseLong(field(statLine, UTIME_FIELD)) + Long.parseLong(field(statLine, STIME_FIELD));
    }

    /** The start time of a /proc/pid/stat line, in clock ticks since boot. */
    public static long startTimeTicks(String statLine) {
        return Long.parseLong(field(statLine, START_TIME_FIELD));
    }

    /**
     * Field {@code number} (1-based, as in proc(5)) of a stat line. The comm (field 2) is in
     * parentheses and may itself contain spaces and parentheses, so counting starts after the last ')'.
     */
    public static String field(String statLine, int number) {
        int close = statLine.lastIndexOf(')');
        if (close < 0 || number < 3) {
            throw new IllegalArgumentException("not a /proc/pid/stat line or field " + number + " not supported");
        }
        String[] rest = statLine.substring(close + 1).trim().split("\\s+");
        int index = number - 3;
        if (index >= rest.length) {
            throw new IllegalArgumentException("stat line has no field " + number);
        }
        return rest[index];
    }

    /** VmRSS of a /proc/pid/status text, in bytes. */
    public static long rssBytes(String statusText) {
        for (String line : statusText.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
                return Long.parseLong(parts[0]) * BYTES_PER_KIB;
            }
        }
        // Kernel threads and zombies have no VmRSS line: nothing resident.
        return 0;
    }
}
