package io.periscope.ebpf.libbpf;

import com.sun.jna.Pointer;
import io.periscope.ebpf.internal.LibBpf;

/** One map of a {@link BpfObject}: size it before load, read and write it after. Setup-rate calls only. */
public final class BpfMap {
    private static final int ENOENT = 2;

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
        int err = LibBpf.bpfMapLookupElem(fd(), key, value);
        if (err == -ENOENT) {
            return false;
        }
        check(err, "look up in");
        return true;
    }

    /** Inserts or replaces {@code key} (BPF_ANY). */
    public void update(byte[] key, byte[] value) {
        check(LibBpf.bpfMapUpdateElem(fd(), key, value, 0), "update");
    }

    /** Deletes {@code key}; false when it was absent. */
    public boolean delete(byte[] key) {
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
        int err = LibBpf.bpfMapGetNextKey(fd(), key, nextKey);
        if (err == -ENOENT) {
            return false;
        }
        check(err, "iterate");
        return true;
    }

    /** Sums a per-CPU array's u64 value at index {@code index} over all possible CPUs. */
    public long sumPerCpuLong(int index) {
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

    private void check(int err, String verb) {
        if (err != 0) {
            throw new BpfException("cannot " + verb + " map " + name + ": " + LibBpf.strerror(err));
        }
    }
}
