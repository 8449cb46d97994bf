package io.periscope.core.metadata;

import io.periscope.core.config.MetadataConfig;
import io.periscope.core.metadata.kubernetes.ContainerMetadata;
import io.periscope.core.metadata.kubernetes.PodDirectory;
import io.periscope.core.telemetry.Counter;
import io.periscope.core.telemetry.MetricsRegistry;
import io.periscope.core.telemetry.ProcessStats;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * pid to {@link ProcessInfo}, read from procfs on first use and kept in a bounded LRU. The
 * pipeline calls {@link #onExec(int)} and {@link #onExit(int)} so a pid's entry never outlives the
 * program it described. Lookups happen once per new connection, not per event, so a lock is cheap
 * here; procfs is read outside it.
 *
 * <p>With Kubernetes metadata on, {@link #pod(ProcessInfo)} maps the process's container id to its pod
 * (a map lookup, made when a sink resolves a new pid, never per event).
 *
 * <p>{@code service.name}: the config's {@code metadata.service_names} entry for the comm, else the
 * process's own OTEL_SERVICE_NAME, else the executable's file name when the comm agrees with it (started
 * through a link to another binary, the comm: the name it was started by), else the comm.
 */
public final class ProcessMetadataCache {
    private static final int MAX_CMDLINE_BYTES = 4096;
    /** TASK_COMM_LEN less the terminating NUL: a longer program name is cut to this. */
    private static final int MAX_COMM_CHARS = 15;
    private static final int MAX_ENVIRON_BYTES = 64 * 1024;
    private static final int MAX_SMALL_FILE_BYTES = 64 * 1024;
    private static final long MILLIS_PER_SECOND = 1000;
    private static final String SERVICE_NAME_VARIABLE = "OTEL_SERVICE_NAME=";

    private final Path procRoot;
    private final int capacity;
    private final LinkedHashMap<Integer, ProcessInfo> entries;
    private final Counter hits;
    private final Counter misses;
    private final Counter absent;
    private final Counter evictions;
    private volatile Map<String, String> serviceNames;
    private volatile PodDirectory pods;
    private volatile long bootEpochSeconds = -1;

    /** A cache sized and pointed at procfs by {@code config}; counters go to {@code registry}. */
    public ProcessMetadataCache(MetadataConfig config, MetricsRegistry registry) {
        this(Path.of(config.procRoot()), config.cacheSize(), config.serviceNames(), registry);
    }

    /** A cache over the procfs at {@code procRoot} holding at most {@code capacity} processes. */
    public ProcessMetadataCache(Path procRoot, int capacity, Map<String, String> serviceNames,
                                MetricsRegistry registry) {
        this.procRoot = procRoot;
        this.capacity = capacity;
        this.serviceNames = Map.copyOf(serviceNames);
        this.entries = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true);
        String help = "Process metadata lookups by result (absent: no such process)";
        this.hits = registry.counter("periscope_metadata_lookups_total", help, "result", "hit");
        this.misses = registry.counter("periscope_metadata_lookups_total", help, "result", "miss");
        this.absent = registry.counter("periscope_metadata_lookups_total", help, "result", "absent");
        this.evictions = registry.counter("periscope_metadata_evictions_total",
                "Processes dropped from the full metadata cache (raise metadata.cache_size if high)");
        registry.gauge("periscope_metadata_cached_processes", "Processes in the metadata cache", this::size);
    }

    /** The metadata of {@code pid}, read from procfs when not cached; null when there is no such process. */
    public ProcessInfo lookup(int pid) {
        synchronized (entries) {
            ProcessInfo cached = entries.get(pid);
            if (cached != null) {
                hits.increment();
                return cached;
            }
        }
        ProcessInfo loaded = read(pid);
        if (loaded == null) {
            absent.increment();
            return null;
        }
        misses.increment();
        synchronized (entries) {
            entries.put(pid, loaded);
            if (entries.size() > capacity) {
                Integer eldest = entries.keySet().iterator().next();
                entries.remove(eldest);
                evictions.increment();
            }
        }
        return loaded;
    }

    /** {@code pid} ran execve: its names and command line changed, read them again on next lookup. */
    public void onExec(int pid) {
        synchronized (entries) {
            entries.remove(pid);
        }
    }

    /** {@code pid} exited: forget it (the pid may be reused by another program). */
    public void onExit(int pid) {
        synchronized (entries) {
            entries.remove(pid);
        }
    }

    /** New explicit service names (config reload); cached entries are re-derived on next lookup. */
    public void updateServiceNames(Map<String, String> names) {
        Map<String, String> copy = Map.copyOf(names);
        if (copy.equals(serviceNames)) {
            return;
        }
        serviceNames = copy;
        synchronized (entries) {
            entries.clear();
        }
    }

    /**
     * Pod metadata from now on (Main calls this once when {@code metadata.kubernetes} is on); null
     * turns it off.
     */
    public void kubernetes(PodDirectory directory) {
        pods = directory;
    }

    /** The pod container {@code info}'s process runs in, or null (off, on the host, not a pod of this node). */
    public ContainerMetadata pod(ProcessInfo info) {
        PodDirectory directory = pods;
        if (directory == null || info == null || info.container() == null) {
            return null;
        }
        return directory.byContainerId(info.container().id());
    }

    /**
     * The {@code service.name} of {@code info}'s spans: a name a person chose (config, OTEL_SERVICE_NAME),
     * else the pod's (annotation, app.kubernetes.io/name, app label, workload), else the process rule.
     */
    public static String serviceName(ProcessInfo info, ContainerMetadata pod) {
        if (pod != null && !info.serviceNameExplicit() && pod.serviceName() != null) {
            return pod.serviceName();
        }
        return info.serviceName();
    }

    /**
     * Changes whenever a {@link #pod} answer may have changed (a pod came, changed or went); callers
     * caching resources per pid compare it to know when to look again. 0 while Kubernetes metadata is off.
     */
    public long podVersion() {
        PodDirectory directory = pods;
        return directory == null ? 0 : directory.version();
    }

    /** How many processes are cached. */
    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    private ProcessInfo read(int pid) {
        Path dir = procRoot.resolve(Integer.toString(pid));
        String stat;
        try {
            stat = readBounded(dir.resolve("stat"), MAX_SMALL_FILE_BYTES);
        } catch (IOException e) {
            return null;
        }
        String comm = readQuietly(dir.resolve("comm"), MAX_SMALL_FILE_BYTES).strip();
        String commandLine = readQuietly(dir.resolve("cmdline"), MAX_CMDLINE_BYTES).replace('\0', ' ').strip();
        String executable;
        try {
            executable = Files.readSymbolicLink(dir.resolve("exe")).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            executable = "";
        }
        long startTicks;
        try {
            startTicks = ProcessStats.startTimeTicks(stat);
        } catch (IllegalArgumentException e) {
            startTicks = -1;
        }
        Instant startTime = startTicks < 0 || bootEpochSeconds() < 0 ? Instant.EPOCH
                : Instant.ofEpochMilli(bootEpochSeconds() * MILLIS_PER_SECOND
                        + startTicks * MILLIS_PER_SECOND / ProcessStats.CLOCK_TICKS_PER_SECOND);
        ContainerId container = ContainerId.fromCgroup(readQuietly(dir.resolve("cgroup"), MAX_SMALL_FILE_BYTES));
        String explicit = explicitServiceName(comm, dir);
        return new ProcessInfo(pid, comm, executable, commandLine, startTicks, startTime, container,
                explicit != null ? explicit : serviceName(comm, executable, dir), explicit != null);
    }

    /** The config's name for {@code comm}, else the process's OTEL_SERVICE_NAME, else null. */
    private String explicitServiceName(String comm, Path dir) {
        String configured = serviceNames.get(comm);
        if (configured != null) {
            return configured;
        }
        String environ = readQuietly(dir.resolve("environ"), MAX_ENVIRON_BYTES);
        for (String variable : environ.split("\0")) {
            if (variable.startsWith(SERVICE_NAME_VARIABLE) && variable.length() > SERVICE_NAME_VARIABLE.length()) {
                return variable.substring(SERVICE_NAME_VARIABLE.length());
            }
        }
        return null;
    }

    private String serviceName(String comm, String executable, Path dir) {
        // "(deleted)" marks an executable replaced on disk (an upgrade); the name is still right.
        String exe = executable.replace(" (deleted)", "");
        int slash = exe.lastIndexOf('/');
        String base = slash < 0 ? exe : exe.substring(slash + 1);
        if (base.isEmpty()) {
            return comm;
        }
        if (comm.isEmpty() || base.startsWith(comm)) {
            return base; // python3 running /usr/bin/python3.11: the file name says more
        }
        // The program was started through a link to another binary (Debian's redis-server is a
        // link to redis-check-rdb): the comm is the name it was started by, so it names the service.
        // A comm at the kernel's 15-byte limit is cut short: take the full name from argv[0].
        if (comm.length() >= MAX_COMM_CHARS) {
            String argv0 = commandLine(dir);
            if (argv0.startsWith(comm)) {
                return argv0;
            }
        }
        return comm;
    }

    /** The file name of argv[0], or "" when there is none. */
    private static String commandLine(Path dir) {
        String cmdline = readQuietly(dir.resolve("cmdline"), MAX_CMDLINE_BYTES);
        int end = cmdline.indexOf('\0');
        String argv0 = end < 0 ? cmdline : cmdline.substring(0, end);
        return argv0.substring(argv0.lastIndexOf('/') + 1);
    }

    private long bootEpochSeconds() {
        if (bootEpochSeconds < 0) {
            for (String line : readQuietly(procRoot.resolve("stat"), MAX_ENVIRON_BYTES).split("\n")) {
                if (line.startsWith("btime ")) {
                    try {
                        bootEpochSeconds = Long.parseLong(line.substring("btime ".length()).trim());
                    } catch (NumberFormatException e) {
                        return -1;
                    }
                }
            }
        }
        return bootEpochSeconds;
    }

    private static String readQuietly(Path file, int maxBytes) {
        try {
            return readBounded(file, maxBytes);
        } catch (IOException | SecurityException e) {
            return "";
        }
    }

    /** procfs files report size 0, so read up to a bound rather than trusting Files.size. */
    private static String readBounded(Path file, int maxBytes) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readNBytes(maxBytes), StandardCharsets.UTF_8);
        }
    }
}
