package io.periscope.ebpf.libbpf;

import com.sun.jna.Pointer;
import io.periscope.ebpf.internal.LibBpf;

/** One map of a {@link BpfObject}: size it before load, read and write it after. Setup-rate calls only. */
public final class BpfMap {
    private static final int ENOENT = 2;
    private static final int BPF_MAP_TYPE_PERCPU_HASH = 5;
    private static final int BPF_MAP_TYPE_PERCPU_ARRAY = 6;
    private static final int BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;

    private final BpfObject object;
    private final Pointer map;
    private final String name;

    BpfMap(BpfObject object, Pointer map, String name) {
        this.object = object;
        this.map = map;
        this.name = name;
    }

    Pointer handle() {
        return map;
    }

    /** The map's name as given in the object. */
    public String name() {
        return name;
    }

    /** The kernel fd (valid after load). */
    public int fd() {
        object.ensureLoaded();
        return LibBpf.bpfMapFd(map);
    }

    /** {@code BPF_MAP_TYPE_*} number. */
    public int type() {
        return LibBpf.bpfMapType(map);
    }

    /** Key size in bytes. */
    public int keySize() {
        return LibBpf.bpfMapKeySize(map);
    }

    /** Value size in bytes (per CPU for per-CPU maps). */
    public int valueSize() {
        return LibBpf.bpfMapValueSize(map);
    }

    /** Maximum entries (bytes for a ring buffer). */
    public int maxEntries() {
        return LibBpf.bpfMapMaxEntries(map);
    }

    /** Resizes before load (ring buffers: a power-of-two multiple of the page size). */
    public void setMaxEntries(int maxEntries) {
        object.ensureOpen();
        if (object.isLoaded()) {
            throw new IllegalStateException("resize map " + name + " before load()");
        }
        int err = LibBpf.bpfMapSetMaxEntries(map, maxEntries);
        if (err != 0) {
            throw new BpfException("cannot set max_entries of map " + name + " to " + maxEntries + ": "
                    + LibBpf.strerror(err));
        }
    }

    /**
     * Copies the value under {@code key} into {@code value} (for per-CPU maps: one 8-byte-aligned
     * slot per possible CPU).
     *
     * @return false when there is no such key
     */
    public boolean lookup(byte[] key, byte[] value) {
        checkSizes(key, value);
        int err = LibBpf.bpfMapLookupElem(fd(), key, value);
        if (err == -ENOENT) {
            return false;
        }
        check(err, "look up in");
        return true;
    }

    /** Inserts or replaces {@code key} (BPF_ANY). */
    public void update(byte[] key, byte[] value) {
        checkSizes(key, value);
        check(LibBpf.bpfMapUpdateElem(fd(), key, value, 0), "update");
    }

    /** Deletes {@code key}; false when it was absent. */
    public boolean delete(byte[] key) {
        checkSizes(key, null);
        int err = LibBpf.bpfMapDeleteElem(fd(), key);
        if (err == -ENOENT) {
            return false;
        }
        check(err, "delete from");
        return true;
    }

    /**
     * Iterates: writes the key after {@code key} (null: the first) into {@code nextKey}.
     *
     * @return false at the end
     */
    public boolean nextKey(byte[] key, byte[] nextKey) {
        if (key != null) {
            checkSizes(key, null);
        }
        checkSizes(nextKey, null);
        int err = LibBpf.bpfMapGetNextKey(fd(), key, nextKey);
        if (err == -ENOENT) {
            return false;
        }
        check(err, "iterate");
        return true;
    }

    /** Sums a per-CPU array's u64 value at index {@code index} over all possible CPUs. */
    public long sumPerCpuLong(int index) {
        // After close the map's libbpf structure is freed: fail clearly rather than read garbage.
        object.ensureOpen();
        int cpus = LibBpf.libbpfNumPossibleCpus();
        int slot = (valueSize() + 7) & ~7;
        byte[] value = new byte[slot * cpus];
        byte[] key = new byte[] {(byte) index, (byte) (index >>> 8), (byte) (index >>> 16), (byte) (index >>> 24)};
        if (!lookup(key, value)) {
            return 0;
        }
        long sum = 0;
        for (int cpu = 0; cpu < cpus; cpu++) {
            long v = 0;
            for (int b = 7; b >= 0; b--) {
                v = (v << 8) | (value[cpu * slot + b] & 0xff);
            }
            sum += v;
        }
        return sum;
    }

    /** The kernel reads and writes exactly these sizes: a shorter array would be overrun. */
    private void checkSizes(byte[] key, byte[] value) {
        if (key.length != keySize()) {
            throw new IllegalArgumentException("key of " + key.length + " bytes for map " + name + ", which needs "
                    + keySize());
        }
        if (value != null && value.length < valueBytes()) {
            throw new IllegalArgumentException("value of " + value.length + " bytes for map " + name
                    + ", which needs " + valueBytes()
                    + (perCpu() ? " (one 8-byte-aligned slot per possible CPU)" : ""));
        }
    }

    private boolean perCpu() {
        int t = type();
        return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
    }

    /** Bytes a lookup writes: the value, or for per-CPU maps one 8-byte-aligned slot per possible CPU. */
    public int valueBytes() {
        return perCpu() ? ((valueSize() + 7) & ~7) * LibBpf.libbpfNumPossibleCpus() : valueSize();
    }

    private void check(int err, String verb) {
        if (err != 0) {
            throw new BpfException("cannot " + verb + " map " + name + ": " + LibBpf.strerror(err));
        }
    }
}
