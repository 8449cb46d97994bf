package io.periscope.core.pipeline;

import io.periscope.core.config.PortFilter;
import io.periscope.core.config.PortRange;
import io.periscope.core.config.ProcessFilter;
import io.periscope.core.metadata.ProcessInfo;
import io.periscope.core.metadata.ProcessMetadataCache;
import io.periscope.core.metadata.kubernetes.ContainerMetadata;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.RequestLogSink;
import io.periscope.sender.OtlpExporter;
import io.periscope.sender.ProcessResource;
import org.agrona.collections.Int2ObjectHashMap;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * Where one parse shard's request logs go: the port and process filters of the config, the
 * resource guard's sampling (sampled-out requests feed only the RED metrics), then the
 * exporter with the resource of the process that made the request. Resources are cached per pid
 * on the shard's own thread; exec/exit of any process bumps {@link Generation}, which empties the
 * caches so a reused pid never inherits another program's name.
 */
final class SpanSink implements RequestLogSink {
    /**
     * Advanced on every exec/exit the tracer reports (of any process on the node); read once per
     * request log. Keeps the last {@link #RECENT_PIDS} pids it was advanced for, so that a sink can
     * forget just those pids instead of its whole cache: on a busy node execs elsewhere are
     * frequent, and each emptied cache made every active process be resolved again.
     */
    static final class Generation {
        /** How far a sink can catch up pid by pid; further behind, it empties its cache. */
        static final int RECENT_PIDS = 64;
        private final AtomicLong value = new AtomicLong();
        private final AtomicIntegerArray recent = new AtomicIntegerArray(RECENT_PIDS);

        /** Records that {@code pid} exec'd or exited. Rare, and from one thread in practice. */
        synchronized void advance(int pid) {
            long n = value.get();
            recent.set((int) (n & (RECENT_PIDS - 1)), pid);
            // Published after the pid: a reader that sees n + 1 sees the pid of advance n.
            value.set(n + 1);
        }

        long current() {
            return value.get();
        }

        /**
         * Hands {@code forget} the pid of every advance from {@code seen} up to {@code now}.
         * Returns false (the caller must forget everything) when some of them are no longer
         * kept: too far behind at the start, or overwritten while being read.
         */
        boolean catchUp(long seen, long now, IntConsumer forget) {
            if (seen < 0 || now - seen > RECENT_PIDS) {
                return false;
            }
            for (long n = seen; n < now; n++) {
                forget.accept(recent.get((int) (n & (RECENT_PIDS - 1))));
            }
            return value.get() - seen <= RECENT_PIDS;
        }
    }

    /**
     * This sink's counters. One thread writes them (the sink's shard), so they are published with
     * ordered stores instead of contended atomic increments; readers sum every sink's.
     */
    static final class Counters {
        final AtomicLong offered = new AtomicLong();
        final AtomicLong droppedByExporter = new AtomicLong();
        final AtomicLong filteredPort = new AtomicLong();
        final AtomicLong filteredProcess = new AtomicLong();
        final AtomicLong sampledOut = new AtomicLong();

        private static void increment(AtomicLong counter) {
            counter.lazySet(counter.get() + 1);
        }
    }

    /**
     * The share of request logs kept as spans, set by the resource guard: 1.0 (all) below guard
     * level 2, the configured {@code limits.guard.sample_keep_ratio} at level 2 and above.
     */
    static final class KeepRatio {
        private volatile double value = 1.0;

        void set(double ratio) {
            value = ratio;
        }

        double get() {
            return value;
        }
    }

    /**
     * One {@link ProcessResource} object per distinct process identity, shared by every sink: the
     * exporter keys its RED metric series by resource object, so two shards (or two cache
     * generations) making their own object for the same process would export two series with the
     * same identity that overwrite each other downstream, and grow the exporter's tables.
     */
    static final class Resources {
        private static final int MAX_RESOURCES = 16_384;

        private record Key(String service, String host, int pid, String executable, String containerId,
                           Map<String, String> attributes) {
        }

        private final ConcurrentHashMap<Key, ProcessResource> byKey = new ConcurrentHashMap<>();

        /** The shared object equal to {@code resource}; called only on a sink's cache miss. */
        ProcessResource intern(ProcessResource resource) {
            Key key = new Key(resource.serviceName(), resource.hostName(), resource.pid(),
                    resource.executableName(), resource.containerId(), resource.extraAttributes());
            ProcessResource shared = byKey.get(key);
            if (shared != null) {
                return shared;
            }
            if (byKey.size() >= MAX_RESOURCES) {
                // Bounded: dead pids' entries go; a live process gets a new object once more.
                byKey.clear();
            }
            shared = byKey.putIfAbsent(key, resource);
            return shared == null ? resource : shared;
        }

        int size() {
            return byKey.size();
        }
    }

    /** A pid's resource and whether the process filter admits it. */
    private record Entry(ProcessResource resource, boolean admitted) {
    }

    private static final int MAX_CACHED_PIDS = 4096;

    private final OtlpExporter exporter;
    private final ProcessMetadataCache metadata;
    private final String hostName;
    private final ProcessResource unknownProcess;
    private final Generation generation;
    private final Resources resources;
    private final KeepRatio keepRatio;
    private final RequestLogSampler sampler = new RequestLogSampler();
    private final Counters counters = new Counters();
    private final Int2ObjectHashMap<Entry> byPid = new Int2ObjectHashMap<>();
    private final IntConsumer forgetPid = byPid::remove;
    private volatile Filters filters;
    private long seenGeneration;
    private long seenPodVersion;

    /** The filters in force; replaced whole on config reload. */
    record Filters(PortFilter ports, ProcessFilter processes) {
    }

    SpanSink(OtlpExporter exporter, ProcessMetadataCache metadata, String hostName, Filters filters,
            Generation generation, Resources resources, KeepRatio keepRatio) {
        this.exporter = exporter;
        this.resources = resources;
        this.keepRatio = keepRatio;
        this.metadata = metadata;
        this.hostName = hostName;
        this.filters = filters;
        this.generation = generation;
        this.unknownProcess = ProcessResource.builder("unknown_service").hostName(hostName).build();
    }

    Counters counters() {
        return counters;
    }

    void filters(Filters newFilters) {
        filters = newFilters;
        // The process verdicts were cached under the old filter.
        seenGeneration = -1;
    }

    @Override
    public void onRequestLog(RequestLog log) {
        Filters f = filters;
        if (!admitsPorts(f.ports(), log.localPort(), log.remotePort())) {
            Counters.increment(counters.filteredPort);
            return;
        }
        Entry entry = entry(log, f.processes());
        if (!entry.admitted()) {
            Counters.increment(counters.filteredProcess);
            return;
        }
        double ratio = keepRatio.get();
        if (ratio < 1.0 && !sampler.keep(log, ratio)) {
            // Sampled out: no span, but the RED metrics still count the request.
            Counters.increment(counters.sampledOut);
            exporter.offerMetricsOnly(log, entry.resource());
            return;
        }
        Counters.increment(counters.offered);
        if (!exporter.offer(log, entry.resource())) {
            Counters.increment(counters.droppedByExporter);
        }
    }

    private Entry entry(RequestLog log, ProcessFilter processFilter) {
        int pid = log.pid();
        long g = generation.current();
        // A pod appearing (or going) changes the resource of processes already cached.
        long pods = metadata.podVersion();
        if (byPid.size() >= MAX_CACHED_PIDS || pods != seenPodVersion) {
            byPid.clear();
            seenPodVersion = pods;
            seenGeneration = g;
        } else if (g != seenGeneration) {
            if (!generation.catchUp(seenGeneration, g, forgetPid)) {
                byPid.clear();
            }
            seenGeneration = g;
        }
        Entry entry = byPid.get(pid);
        if (entry == null) {
            entry = resolve(pid, log, processFilter);
            byPid.put(pid, entry);
        }
        return entry;
    }

    private Entry resolve(int pid, RequestLog log, ProcessFilter processFilter) {
        ProcessInfo info = pid > 0 ? metadata.lookup(pid) : null;
        if (info == null) {
            if (pid <= 0 || log.comm().isEmpty()) {
                return new Entry(unknownProcess, processFilter.allow().isEmpty());
            }
            // Short-lived clients (curl) are often gone from /proc by the time their response is
            // parsed: the command name the kernel reported is then the best name there is.
            String comm = log.comm().toString();
            return new Entry(resources.intern(
                    ProcessResource.builder(comm).hostName(hostName).pid(pid).executableName(comm).build()),
                    processFilter.admits(comm));
        }
        // An exiting process (a zombie) still has a pid but no readable exe or comm: fall back to
        // the command name the kernel reported with the event.
        String comm = info.comm() == null || info.comm().isBlank() ? log.comm().toString() : info.comm();
        String executable = info.executable() == null || info.executable().isBlank()
                ? comm : baseName(info.executable());
        ContainerMetadata pod = metadata.pod(info);
        String named = ProcessMetadataCache.serviceName(info, pod);
        String service = named == null || named.isBlank() ? comm : named;
        ProcessResource.Builder resource = ProcessResource.builder(service)
                .hostName(hostName)
                .pid(pid)
                .executableName(executable);
        if (info.container() != null) {
            resource.containerId(info.container().id());
        }
        if (pod != null) {
            pod.resourceAttributes().forEach(resource::attribute);
        }
        return new Entry(resources.intern(resource.build()), processFilter.admits(comm));
    }

    private static String baseName(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }

    /** Denied if either port is denied; with an allow list, one of the ports must be on it. */
    static boolean admitsPorts(PortFilter filter, int localPort, int remotePort) {
        if (contains(filter.deny(), localPort) || contains(filter.deny(), remotePort)) {
            return false;
        }
        return filter.allow().isEmpty() || contains(filter.allow(), localPort) || contains(filter.allow(), remotePort);
    }

    private static boolean contains(List<PortRange> ranges, int port) {
        for (int i = 0; i < ranges.size(); i++) {
            if (ranges.get(i).contains(port)) {
                return true;
            }
        }
        return false;
    }
}
