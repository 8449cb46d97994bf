package io.periscope.core.metadata.kubernetes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pods of this node, by container id (for a process's resource) and by pod IP (for a
 * connection's peer). Readers do one {@link ConcurrentHashMap#get}; the watcher writes under this
 * object's lock (a few writes a second at most). A deleted pod stays for a grace period so the
 * spans its processes made just before they died still resolve; at most {@code maxPods} pods are
 * kept (a node runs ~110 by default), pods beyond are dropped and counted.
 *
 * <p>{@link #version()} changes whenever what a lookup returns may have changed, so callers that
 * cache per process know when to look again.
 */
public final class PodDirectory {
    /** A pod and, when it was deleted, when (monotonic nanos; 0 while it lives). */
    private record Entry(PodMetadata pod, long deletedAtNanos) {
    }

    private final int maxPods;
    private final long graceNanos;
    private final ConcurrentHashMap<String, ContainerMetadata> byContainerId = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, PodMetadata> byIp = new ConcurrentHashMap<>();
    private final Map<String, Entry> byUid = new HashMap<>();
    private final AtomicLong version = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    /** Holds at most {@code maxPods} pods; deleted ones for {@code graceNanos}. */
    public PodDirectory(int maxPods, long graceNanos) {
        this.maxPods = maxPods;
        this.graceNanos = graceNanos;
    }

    /** The container with runtime id {@code containerId} (64 hex), or null when no pod of this node has it. */
    public ContainerMetadata byContainerId(String containerId) {
        return byContainerId.get(containerId);
    }

    /** The pod with IP {@code ip} (pods on the host network are not listed), or null. */
    public PodMetadata byIp(String ip) {
        return byIp.get(ip);
    }

    /** Changes when any lookup's answer may have changed. */
    public long version() {
        return version.get();
    }

    /** Pods known, deleted ones in their grace period included. */
    public synchronized int size() {
        return byUid.size();
    }

    /** Pods not kept because {@code max_pods} were already known. */
    public long dropped() {
        return dropped.get();
    }

    /** A pod was added or changed (ADDED/MODIFIED). */
    public synchronized void upsert(PodMetadata pod) {
        Entry old = byUid.get(pod.uid());
        if (old != null && old.deletedAtNanos() == 0 && old.pod().equals(pod)) {
            return; // a status change periscope does not use (readiness, conditions)
        }
        if (old == null && byUid.size() >= maxPods && !evictOldestDeleted()) {
            dropped.incrementAndGet();
            return;
        }
        if (old != null) {
            unindex(old.pod());
        }
        byUid.put(pod.uid(), new Entry(pod, 0));
        index(pod);
        version.incrementAndGet();
    }

    /** A pod was deleted at {@code nowNanos}: it keeps resolving until the grace period ends. */
    public synchronized void markDeleted(String uid, long nowNanos) {
        Entry old = byUid.get(uid);
        if (old != null && old.deletedAtNanos() == 0) {
            byUid.put(uid, new Entry(old.pod(), Math.max(1, nowNanos)));
        }
    }

    /**
     * A fresh list replaces what was known: listed pods are upserted, known pods missing from it were
     * deleted while nobody watched and enter their grace period.
     */
    public synchronized void replaceAll(List<PodMetadata> pods, long nowNanos) {
        Set<String> listed = new HashSet<>();
        for (PodMetadata pod : pods) {
            listed.add(pod.uid());
        }
        for (String uid : new ArrayList<>(byUid.keySet())) {
            if (!listed.contains(uid)) {
                markDeleted(uid, nowNanos);
            }
        }
        for (PodMetadata pod : pods) {
            upsert(pod);
        }
    }

    /** Forgets pods deleted more than the grace period before {@code nowNanos}; returns how many. */
    public synchronized int evictExpired(long nowNanos) {
        List<String> expired = new ArrayList<>();
        for (Map.Entry<String, Entry> e : byUid.entrySet()) {
            long deletedAt = e.getValue().deletedAtNanos();
            if (deletedAt != 0 && nowNanos - deletedAt >= graceNanos) {
                expired.add(e.getKey());
            }
        }
        for (String uid : expired) {
            unindex(byUid.remove(uid).pod());
        }
        if (!expired.isEmpty()) {
            version.incrementAndGet();
        }
        return expired.size();
    }

    private boolean evictOldestDeleted() {
        String oldest = null;
        long oldestAt = Long.MAX_VALUE;
        for (Map.Entry<String, Entry> e : byUid.entrySet()) {
            long deletedAt = e.getValue().deletedAtNanos();
            if (deletedAt != 0 && deletedAt < oldestAt) {
                oldest = e.getKey();
                oldestAt = deletedAt;
            }
        }
        if (oldest == null) {
            return false;
        }
        unindex(byUid.remove(oldest).pod());
        return true;
    }

    private void index(PodMetadata pod) {
        for (Map.Entry<String, String> container : pod.containerNamesById().entrySet()) {
            byContainerId.put(container.getKey(), new ContainerMetadata(pod, container.getValue(),
                    pod.containerAttributes(container.getValue())));
        }
        if (!pod.podIp().isEmpty()) {
            byIp.put(pod.podIp(), pod);
        }
    }

    private void unindex(PodMetadata pod) {
        for (String containerId : pod.containerNamesById().keySet()) {
            ContainerMetadata current = byContainerId.get(containerId);
            if (current != null && current.pod().uid().equals(pod.uid())) {
                byContainerId.remove(containerId);
            }
        }
        if (!pod.podIp().isEmpty()) {
            // An IP is reused by the next pod quickly: remove only if it still points at this one.
            byIp.remove(pod.podIp(), pod);
        }
    }
}
