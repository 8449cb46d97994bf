package io.periscope.core.metadata.kubernetes;

import org.agrona.collections.Int2ObjectHashMap;

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
    /**
     * Pods by IPv4 address as an int, for callers that hold addresses as bytes (a connection's peer,
     * a flow's ends) and must not format a string per lookup. Rebuilt whole by the writer on every
     * change and published through the volatile field, so readers never see it change under them.
     */
    private volatile Int2ObjectHashMap<PodMetadata> byIpv4 = new Int2ObjectHashMap<>();

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

    /**
     * The pod with IPv4 address {@code address} (big-endian: 10.0.0.1 is 0x0A000001), or null. No
     * allocation: the caller's connection or flow holds the address as an int already.
     */
    public PodMetadata byIpv4(int address) {
        return byIpv4.get(address);
    }

    /** {@code "10.0.0.1"} as 0x0A000001; -1 when it is not a dotted IPv4 address (IPv6 pods are left out). */
    static long ipv4(String text) {
        String[] parts = text.split("\\.");
        if (parts.length != 4) {
            return -1;
        }
        long value = 0;
        for (String part : parts) {
            int octet;
            try {
                octet = Integer.parseInt(part);
            } catch (NumberFormatException e) {
                return -1;
            }
            if (octet < 0 || octet > 255) {
                return -1;
            }
            value = value << 8 | octet;
        }
        return value;
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
        rebuildIpv4();
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
            rebuildIpv4();
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

    private void rebuildIpv4() {
        Int2ObjectHashMap<PodMetadata> snapshot = new Int2ObjectHashMap<>();
        for (Map.Entry<String, PodMetadata> e : byIp.entrySet()) {
            long address = ipv4(e.getKey());
            if (address >= 0) {
                snapshot.put((int) address, e.getValue());
            }
        }
        byIpv4 = snapshot;
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
