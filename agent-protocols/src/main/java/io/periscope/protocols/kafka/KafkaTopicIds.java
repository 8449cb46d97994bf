package io.periscope.protocols.kafka;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Topic id to topic name, learnt from Metadata and DescribeTopicPartitions responses and read by
 * Fetch v13+ (which names topics by id only). Topic ids are cluster-unique random UUIDs and the
 * Metadata connection is often not the Fetch connection, which may be parsed on another thread:
 * so one table serves every {@link KafkaParser} of the process ({@link #shared()}).
 *
 * <p>Bounded: a fixed array of {@code entries} slots in buckets of {@link #WAYS}; a new id in a
 * full bucket replaces one of its entries (counted in {@link #evictions()}), nothing ever grows.
 * Lock-free: entries are immutable and published by a volatile store, so any number of parse
 * threads read and learn at once. A lookup compares the id as two longs and allocates nothing;
 * learning allocates only when an id is new or its name changed.
 */
public final class KafkaTopicIds {
    /** Slots of the process-wide table: one per topic a node's clients consume, with room to spare. */
    public static final int DEFAULT_ENTRIES = 4096;
    /** Slots an id may occupy; a new id evicts one of them only when all are taken. */
    static final int WAYS = 4;
    /** Kafka's own limit on topic name length. */
    static final int MAX_NAME_BYTES = 249;

    private static final KafkaTopicIds SHARED = new KafkaTopicIds(DEFAULT_ENTRIES);

    /** One id and its name; never changed once published. */
    static final class Entry {
        final long high;
        final long low;
        final byte[] name;

        Entry(long high, long low, byte[] name) {
            this.high = high;
            this.low = low;
            this.name = name;
        }
    }

    private final AtomicReferenceArray<Entry> slots;
    private final int mask;
    private final AtomicLong learnt = new AtomicLong();
    private final AtomicLong evictions = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();

    /** A table of {@code entries} slots, rounded up to a power of two and at least {@link #WAYS}. */
    public KafkaTopicIds(int entries) {
        if (entries <= 0 || entries > 1 << 20) {
            throw new IllegalArgumentException("entries must be in 1..1048576: " + entries);
        }
        int n = Math.max(WAYS, Integer.highestOneBit(entries - 1) << 1);
        slots = new AtomicReferenceArray<>(n);
        mask = n - 1;
    }

    /** The table every Kafka parser of this process shares. */
    public static KafkaTopicIds shared() {
        return SHARED;
    }

    /** Slots of the table: the most ids it holds at once. */
    public int capacity() {
        return mask + 1;
    }

    /** Ids stored (new ones, or a changed name). */
    public long learnt() {
        return learnt.get();
    }

    /** Ids pushed out of a full bucket by a new one. */
    public long evictions() {
        return evictions.get();
    }

    /** Lookups of an id the table does not hold (the Fetch stays without a topic). */
    public long unknown() {
        return unknown.get();
    }

    /** Names not stored: empty or longer than Kafka allows. */
    public long rejected() {
        return rejected.get();
    }

    /** Ids held now (walks the table: for tests and metrics, not for the parse path). */
    public int size() {
        int n = 0;
        for (int i = 0; i <= mask; i++) {
            if (slots.get(i) != null) {
                n++;
            }
        }
        return n;
    }

    private int bucket(long high, long low) {
        long h = (high ^ low) * 0x9E37_79B9_7F4A_7C15L;
        return (int) (h >>> 32) & mask & -WAYS;
    }

    /** The entry of this id, or null (not counted: see {@link #countUnknown()}). */
    Entry find(long high, long low) {
        int b = bucket(high, low);
        for (int i = 0; i < WAYS; i++) {
            Entry e = slots.getAcquire(b + i);
            if (e != null && e.high == high && e.low == low) {
                return e;
            }
        }
        return null;
    }

    void countUnknown() {
        unknown.incrementAndGet();
    }

    /**
     * Remembers that id {@code high:low} is the topic named by {@code len} bytes of {@code buf} at
     * {@code offset}. The all-zero id (a topic that does not exist) is ignored.
     */
    public void learn(long high, long low, DirectBuffer buf, int offset, int len) {
        if (high == 0 && low == 0) {
            return;
        }
        if (len <= 0 || len > MAX_NAME_BYTES) {
            rejected.incrementAndGet();
            return;
        }
        int b = bucket(high, low);
        Entry fresh = null;
        // a few rounds: another thread may take the free slot we saw; then look again
        for (int round = 0; round < WAYS; round++) {
            int free = -1;
            for (int i = 0; i < WAYS; i++) {
                Entry e = slots.getAcquire(b + i);
                if (e == null) {
                    if (free < 0) {
                        free = b + i;
                    }
                } else if (e.high == high && e.low == low) {
                    if (sameName(e.name, buf, offset, len)) {
                        return;
                    }
                    if (fresh == null) {
                        fresh = entry(high, low, buf, offset, len);
                    }
                    if (slots.compareAndSet(b + i, e, fresh)) {
                        learnt.incrementAndGet();
                        return;
                    }
                    free = -2; // changed under us: look again
                    break;
                }
            }
            if (free == -2) {
                continue;
            }
            if (fresh == null) {
                fresh = entry(high, low, buf, offset, len);
            }
            if (free >= 0) {
                if (slots.compareAndSet(free, null, fresh)) {
                    learnt.incrementAndGet();
                    return;
                }
                continue;
            }
            // bucket full: replace the slot the id's low bits pick (spreads evictions over the ways)
            int victim = b + (int) (low >>> 61 & (WAYS - 1));
            slots.setRelease(victim, fresh);
            learnt.incrementAndGet();
            evictions.incrementAndGet();
            return;
        }
    }

    /** Convenience for tests: learns from a byte array. */
    void learn(long high, long low, byte[] name) {
        learn(high, low, new UnsafeBuffer(name), 0, name.length);
    }

    private static Entry entry(long high, long low, DirectBuffer buf, int offset, int len) {
        byte[] name = new byte[len];
        buf.getBytes(offset, name);
        return new Entry(high, low, name);
    }

    private static boolean sameName(byte[] name, DirectBuffer buf, int offset, int len) {
        if (name.length != len) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (name[i] != buf.getByte(offset + i)) {
                return false;
            }
        }
        return true;
    }
}
