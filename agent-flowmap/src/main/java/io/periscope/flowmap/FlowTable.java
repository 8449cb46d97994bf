package io.periscope.flowmap;

import java.util.Arrays;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * The off-heap flow table: fixed-size entries ({@value #ENTRY_BYTES} bytes, key included) in a
 * slab of {@code maxFlows} entries, found through an open-addressing index with linear probing
 * whose 8-byte slots hold the flow hash and the entry number (a probe compares hashes in the
 * index and reads an entry only when its hash matches). IPv6 addresses live in a side slab of
 * {@value #WIDE_KEY_BYTES}-byte records, handed out like the entries. All live in one anonymous mmap, read and
 * written in place through Agrona's {@link UnsafeBuffer}: untouched pages are not resident, and
 * entries are handed out densely (freed ones first), so resident memory follows the most flows
 * live at once, not the capacity. Capacity is fixed at construction and the table never grows: when
 * {@code maxFlows} flows are live, a new flow is dropped and counted, or (by config) the flow whose
 * timer comes soonest is evicted and exported. Deletion shifts later index slots back (no
 * tombstones), so probe chains stay short for the table's whole life; entries never move.
 * Interval counters narrower than a long (48-bit bytes, 32-bit packets, 16-bit retransmission,
 * out-of-order and zero-window counts, 32-bit RTT sum) never overflow: the packet that would
 * overflow one first cuts the interval short with an early periodic record.
 *
 * <p>Keys are normalised 5-tuples (+ interface and VLAN), so both directions of a connection share
 * one entry; counters are kept per direction (client to server, server to client) with TCP
 * analysis: state, handshake RTT, data RTT from seq/ack, retransmissions, out-of-order segments,
 * zero windows, close type. Timeouts run on a hashed timer wheel: an entry sits in one slot,
 * rescheduled lazily when visited (a packet only relinks it when its deadline gets earlier), so
 * neither packets nor ticks scan the table.
 *
 * <p>Single writer: every method must be called from one thread. Records go to a
 * {@link FlowLogHandler} (final and periodic delta records) and an {@link EndpointMetricsHandler}
 * (per-interval aggregates per local endpoint) on that thread, without allocation.
 * The update API takes keys, not packets ({@link #update(FlowKey, long, int, int, int, int, int, int)},
 * {@link #account}), so socket-level flows built from eBPF events can use the same table.
 */
public final class FlowTable implements AutoCloseable {
    /** Bytes of one entry, key included (IPv4 addresses inline, IPv6 ones in a side record). */
    public static final int ENTRY_BYTES = 192;
    /** Bytes of the side record holding a flow's two 128-bit addresses (IPv6 flows only). */
    public static final int WIDE_KEY_BYTES = 32;

    // Key: 24 bytes. A_ADDR/B_ADDR are the IPv4 addresses, or for a wide (IPv6) key A_ADDR is the
    // side record holding both 128-bit addresses.
    private static final int A_ADDR = 0;
    private static final int B_ADDR = 4;
    private static final int PORTS = 8;
    private static final int META = 12;
    private static final int IFINDEX = 16;
    private static final int HASH = 20;
    // Flow state: 64 bytes.
    private static final int TIMER_NEXT = 24;
    private static final int TIMER_PREV = 28;
    private static final int FLOW_START = 32;
    private static final int INTERVAL_START = 40;
    /** Low 32 bits of the wheel tick at which the entry is visited next (when TIMER_STATE is 1). */
    private static final int TIMER_TICK = 48;
    private static final int STATE = 52;
    private static final int CLOSE_TYPE = 53;
    private static final int FLOW_FLAGS = 54;
    private static final int TIMER_STATE = 55;
    private static final int SERVER_RTT_MICROS = 56;
    private static final int CLIENT_RTT_MICROS = 60;
    private static final int ENDPOINT_SLOT = 64;
    private static final int ENDPOINT_EPOCH = 68;
    private static final int DATA_RTT_COUNT = 72;
    private static final int DATA_RTT_MAX_MICROS = 76;
    /** Unsigned 32-bit sum of the interval's data RTTs in microseconds (an early record before it wraps). */
    private static final int DATA_RTT_SUM_MICROS = 80;
    /** Offset of the first packet of the direction that did not send the flow's first packet. */
    private static final int FIRST_OFFSET_MICROS = 84;
    // Per direction longs (2 x 24 bytes) then ints (2 x 28 bytes); direction 0 is client to server.
    private static final int DIR_LONGS = 88;
    private static final int DIR_LONGS_BYTES = 24;
    /** IP bytes (low 48 bits) and retransmissions (high 16 bits) of the interval. */
    private static final int D_BYTES_RETRANS = 0;
    /** Payload bytes (low 48 bits) and out-of-order segments (high 16 bits) of the interval. */
    private static final int D_PAYLOAD_OOO = 8;
    private static final int D_LAST_TS = 16;
    private static final int DIR_INTS = 136;
    private static final int DIR_INTS_BYTES = 28;
    private static final int D_PACKETS = 0;
    private static final int D_NEXT_SEQ = 4;
    private static final int D_HOLE_START = 8;
    private static final int D_HOLE_END = 12;
    private static final int D_SAMPLE_SEQ_END = 16;
    /** Low 32 bits of the RTT sample's send time; the high bits are those of D_LAST_TS (see sampleTime). */
    private static final int D_SAMPLE_TS_LOW = 20;
    private static final int D_ZERO_WIN = 24;
    private static final int D_TCP_FLAGS = 26;
    private static final int D_FLAGS = 27;

    private static final int META_OCCUPIED = 1 << 31;
    private static final int META_IPV6 = 1 << 30;
    /** Addresses in a side record (IPv6, or an IPv4 key given with bits above 32). */
    private static final int META_WIDE = 1 << 29;

    private static final int FF_CLIENT_IS_A = 1;
    private static final int FF_CLIENT_SYN_FIRST = 2;
    private static final int FF_SYNACK_MEASURED = 4;
    private static final int FF_HANDSHAKE_DONE = 8;
    private static final int FF_FIN_CLIENT = 16;
    private static final int FF_FIN_SERVER = 32;
    /** The flow's first packet went server to client (so direction 0's first packet is the later one). */
    private static final int FF_FIRST_FROM_SERVER = 64;

    private static final int DF_SEEN = 1;
    private static final int DF_SEQ_INIT = 2;
    private static final int DF_SAMPLE = 4;
    private static final int DF_HOLE = 8;

    private static final int NIL = -1;
    /** A free entry links to the next free one here (inside the key, which a new flow overwrites). */
    private static final int FREE_NEXT = A_ADDR;
    private static final int INDEX_SLOT_BYTES = 8;
    private static final long INDEX_HASH_MASK = 0xFFFF_FFFF_0000_0000L;
    private static final long INDEX_ENTRY_MASK = 0xFFFF_FFFFL;
    /** Interval byte counters are 48 bits: a flow reaching it gets an early periodic record. */
    static final long MAX_INTERVAL_BYTES = (1L << 48) - 1;
    private static final long LOW48 = MAX_INTERVAL_BYTES;
    private static final long HIGH16_ONE = 1L << 48;
    private static final int MAX_SHORT_COUNT = 0xFFFF;
    private static final long MAX_UINT = 0xFFFF_FFFFL;
    /** Furthest ahead a timer is filed, so tick differences fit an int (visiting early is harmless). */
    private static final long MAX_TIMER_AHEAD_TICKS = 1L << 30;
    private static final int PROTO_TCP = 6;
    private static final int FIN = DecodedPacket.FIN;
    private static final int SYN = DecodedPacket.SYN;
    private static final int RST = DecodedPacket.RST;
    private static final int ACK = DecodedPacket.ACK;
    private static final long NANOS_PER_MICRO = 1_000;

    private final FlowTableConfig config;
    private final FlowLogHandler logHandler;
    private final EndpointMetricsHandler metricsHandler;
    private final AnonymousMemory memory;
    /** The entries: {@code maxFlows} x {@value #ENTRY_BYTES} bytes. */
    private final UnsafeBuffer table;
    /** The index: {@code slots} longs, each (hash << 32 | entry + 1), 0 when empty. */
    private final UnsafeBuffer index;
    /** Side records of wide keys: {@code maxFlows} x {@value #WIDE_KEY_BYTES} bytes, handed out densely. */
    private final UnsafeBuffer wideKeys;
    private final int slots;
    private final int maxFlows;
    private final boolean evictWhenFull;
    private final long establishedTimeoutNanos;
    private final long openingTimeoutNanos;
    private final long closingTimeoutNanos;
    private final long closedTimeoutNanos;
    private final long resetTimeoutNanos;
    private final long otherTimeoutNanos;
    private final long reportIntervalNanos;
    private final boolean reportIdleIntervals;
    private final long tickNanos;
    private final int[] wheelHeads;
    private final int wheelMask;
    private final EndpointMetrics endpoints;
    private final long metricsIntervalNanos;
    private final FlowLog log = new FlowLog();

    private long currentTick = Long.MIN_VALUE;
    private long metricsIntervalStart = Long.MIN_VALUE;
    private int detachedHead = NIL;
    private int freeHead = NIL;
    /** Entries below this have been used (touched) at least once; those above are untouched. */
    private int highWater;
    private int wideFreeHead = NIL;
    private int wideHighWater;
    private int size;
    private boolean closed;

    // The normalised key of the current operation (single writer: fields, not objects).
    private long keyAHigh;
    private long keyALow;
    private long keyBHigh;
    private long keyBLow;
    private int keyPorts;
    private int keyMeta;
    private int keyIfindex;
    private int keyHash;
    private boolean keyWide;
    private boolean keyFromA;
    private int keySrcPort;
    private int keyDstPort;

    /**
     * Last-flow cache of {@link #onPacket}: the entry of the previous packet and its raw
     * (unnormalised) tuple. Traffic comes in bursts per flow and per direction, so the next
     * packet often has the same tuple: it then skips normalising, hashing and probing. Valid only
     * while the key fields above still hold that tuple's normalised key: every {@link #normalise}
     * clears it, and so does removing its entry; NIL when not valid.
     */
    private int cachedEntry = NIL;
    private boolean cacheEnabled = true;
    private long cachedSrcHigh;
    private long cachedSrcLow;
    private long cachedDstHigh;
    private long cachedDstLow;
    private int cachedPorts;
    private int cachedProtocolVersionVlan;
    private int cachedIfindex;
    private long lastFlowHits;

    private long flowsCreated;
    private long flowsDropped;
    private long packetsDropped;
    private long flowsEvicted;
    private long finalRecords;
    private long periodicRecords;
    private long idleIntervalsSkipped;
    private long earlyRecords;

    /**
     * Allocates the table's memory ({@link #memoryBytes()}), fixed for its life.
     *
     * @param config capacity, timeouts, intervals
     * @param logHandler receives flow log records
     * @param metricsHandler receives endpoint metrics, or null to not aggregate them
     */
    public FlowTable(FlowTableConfig config, FlowLogHandler logHandler, EndpointMetricsHandler metricsHandler) {
        this.config = config;
        this.logHandler = logHandler;
        this.metricsHandler = metricsHandler;
        this.maxFlows = config.maxFlows();
        long slotCount = Math.max(maxFlows + 1L, (long) Math.ceil(maxFlows / config.loadFactor()));
        if ((long) maxFlows * ENTRY_BYTES > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("flow table config: maxFlows " + maxFlows
                    + " needs more than 2 GiB of entries; use several tables (shard by flow hash)");
        }
        this.slots = (int) slotCount;
        // Native memory outside the JVM's direct-buffer limit (which defaults to the heap size and
        // would make the table's budget depend on -Xmx), mapped anonymous: zero pages on first
        // touch, so the budget is address space and only the entries used become resident.
        int entriesBytes = maxFlows * ENTRY_BYTES;
        int wideBytes = maxFlows * WIDE_KEY_BYTES;
        long indexBytes = slotCount * INDEX_SLOT_BYTES;
        this.memory = new AnonymousMemory(entriesBytes + indexBytes + wideBytes);
        this.table = new UnsafeBuffer(memory.address(), entriesBytes);
        this.index = new UnsafeBuffer(memory.address() + entriesBytes, slots * INDEX_SLOT_BYTES);
        this.wideKeys = new UnsafeBuffer(memory.address() + entriesBytes + indexBytes, wideBytes);
        this.evictWhenFull = config.fullPolicy() == FlowTableConfig.FullPolicy.EVICT;
        this.establishedTimeoutNanos = config.establishedTimeoutNanos();
        this.openingTimeoutNanos = config.openingTimeoutNanos();
        this.closingTimeoutNanos = config.closingTimeoutNanos();
        this.closedTimeoutNanos = config.closedTimeoutNanos();
        this.resetTimeoutNanos = config.resetTimeoutNanos();
        this.otherTimeoutNanos = config.otherTimeoutNanos();
        this.reportIntervalNanos = config.reportIntervalNanos();
        this.reportIdleIntervals = config.reportIdleIntervals();
        this.tickNanos = config.timerTickNanos();
        this.wheelHeads = new int[config.timerWheelSlots()];
        Arrays.fill(wheelHeads, NIL);
        this.wheelMask = wheelHeads.length - 1;
        this.endpoints = metricsHandler == null ? null : new EndpointMetrics(config.maxEndpoints());
        this.metricsIntervalNanos = config.metricsIntervalNanos();
    }

    /** The configuration. */
    public FlowTableConfig config() {
        return config;
    }

    // ---------------------------------------------------------------- update API

    /**
     * Accounts one decoded packet.
     *
     * @param packet a packet decoded with {@link PacketDecoder#OK}
     * @param ifindex capture interface (part of the key; 0 to merge interfaces)
     * @param timestampNanos packet time
     * @return false when the packet's flow could not be tracked (table full; counted)
     */
    public boolean onPacket(DecodedPacket packet, int ifindex, long timestampNanos) {
        int ports = (packet.srcPort << 16) | (packet.dstPort & 0xFFFF);
        int protocolVersionVlan = (packet.protocol << 20) | (packet.ipVersion << 16) | (packet.vlanId & 0xFFFF);
        boolean tcp = packet.protocol == PROTO_TCP;
        int flags = packet.tcpFlags;
        int idx = cachedEntry;
        if (idx != NIL && packet.srcLow == cachedSrcLow && packet.dstLow == cachedDstLow && ports == cachedPorts
                && protocolVersionVlan == cachedProtocolVersionVlan && ifindex == cachedIfindex
                && packet.srcHigh == cachedSrcHigh && packet.dstHigh == cachedDstHigh) {
            // Same tuple, same direction as the previous packet: the key fields still hold its
            // normalised key, so only the lookup is skipped; the update below is the same.
            lastFlowHits++;
            if (tcp && (flags & (SYN | ACK)) == SYN) {
                idx = maybeReuse(idx, timestampNanos, flags);
            }
            apply(idx, timestampNanos, packet.ipBytes, packet.payloadBytes, 1, tcp, flags, packet.seq, packet.ack,
                    packet.window);
            return true;
        }
        normalise(packet.ipVersion, packet.srcHigh, packet.srcLow, packet.srcPort, packet.dstHigh, packet.dstLow,
                packet.dstPort, packet.protocol, ifindex, packet.vlanId);
        idx = resolve(timestampNanos, tcp, flags);
        if (idx < 0) {
            return false;
        }
        if (cacheEnabled) {
            cachedSrcHigh = packet.srcHigh;
            cachedSrcLow = packet.srcLow;
            cachedDstHigh = packet.dstHigh;
            cachedDstLow = packet.dstLow;
            cachedPorts = ports;
            cachedProtocolVersionVlan = protocolVersionVlan;
            cachedIfindex = ifindex;
            cachedEntry = idx;
        }
        apply(idx, timestampNanos, packet.ipBytes, packet.payloadBytes, 1, tcp, flags, packet.seq, packet.ack,
                packet.window);
        return true;
    }

    /** Tests: with false, {@link #onPacket} looks every packet up (the path the cache must equal). */
    void lastFlowCache(boolean enabled) {
        cacheEnabled = enabled;
        cachedEntry = NIL;
    }

    /**
     * Accounts one segment or datagram of a flow given by key (source to destination). TCP
     * fields are analysed when the key's protocol is TCP.
     *
     * @return false when the flow could not be tracked (table full; counted)
     */
    public boolean update(FlowKey key, long timestampNanos, int ipBytes, int payloadBytes, int tcpFlags, int seq,
                          int ack, int window) {
        if (ipBytes < 0 || payloadBytes < 0) {
            throw new IllegalArgumentException("flow update: bytes must be >= 0; got " + ipBytes + " IP bytes, "
                    + payloadBytes + " payload bytes");
        }
        normaliseKey(key);
        return record(timestampNanos, ipBytes, payloadBytes, 1, key.protocol == PROTO_TCP, tcpFlags, seq, ack, window);
    }

    /**
     * Accounts bytes and packets to a flow without TCP analysis (socket-level flows from eBPF,
     * where a read or write is not a segment).
     *
     * @return false when the flow could not be tracked (table full; counted)
     * @throws IllegalArgumentException for a negative count or more than 2^48 - 1 bytes at once
     */
    public boolean account(FlowKey key, long timestampNanos, long ipBytes, long payloadBytes, int packets) {
        if (ipBytes < 0 || payloadBytes < 0 || packets < 0 || ipBytes > MAX_INTERVAL_BYTES
                || payloadBytes > MAX_INTERVAL_BYTES) {
            throw new IllegalArgumentException("flow accounting: bytes must be in [0, 2^48), packets >= 0; got "
                    + ipBytes + " IP bytes, " + payloadBytes + " payload bytes, " + packets + " packets");
        }
        normaliseKey(key);
        return record(timestampNanos, ipBytes, payloadBytes, packets, false, 0, 0, 0, 1);
    }

    private void normaliseKey(FlowKey k) {
        normalise(k.ipVersion, k.srcHigh, k.srcLow, k.srcPort, k.dstHigh, k.dstLow, k.dstPort, k.protocol, k.ifindex,
                k.vlanId);
    }

    private void normalise(int ipVersion, long srcHigh, long srcLow, int srcPort, long dstHigh, long dstLow,
                           int dstPort, int protocol, int ifindex, int vlanId) {
        // The key fields change: the last-flow cache no longer describes them.
        cachedEntry = NIL;
        int cmp = Long.compareUnsigned(srcHigh, dstHigh);
        if (cmp == 0) {
            cmp = Long.compareUnsigned(srcLow, dstLow);
            if (cmp == 0) {
                cmp = Integer.compare(srcPort, dstPort);
            }
        }
        boolean srcIsA = cmp <= 0;
        if (srcIsA) {
            keyAHigh = srcHigh;
            keyALow = srcLow;
            keyBHigh = dstHigh;
            keyBLow = dstLow;
            keyPorts = (srcPort << 16) | dstPort;
        } else {
            keyAHigh = dstHigh;
            keyALow = dstLow;
            keyBHigh = srcHigh;
            keyBLow = srcLow;
            keyPorts = (dstPort << 16) | srcPort;
        }
        keyFromA = srcIsA;
        keySrcPort = srcPort;
        keyDstPort = dstPort;
        // IPv4 addresses fit the entry; anything with bits above the low 32 goes to a side record.
        keyWide = ((srcHigh | dstHigh | ((srcLow | dstLow) >>> 32)) != 0) || ipVersion == 6;
        keyMeta = META_OCCUPIED | (ipVersion == 6 ? META_IPV6 : 0) | (keyWide ? META_WIDE : 0)
                | ((protocol & 0xFF) << 16) | (vlanId & 0xFFF);
        keyIfindex = ifindex;
        long h = keyAHigh * 0x9E3779B97F4A7C15L;
        h = (h ^ keyALow) * 0xC2B2AE3D27D4EB4FL;
        h = (h ^ keyBHigh) * 0x9E3779B97F4A7C15L;
        h = (h ^ keyBLow) * 0xC2B2AE3D27D4EB4FL;
        // Mask the int half: keyMeta has its top bit set and would sign-extend over the ports.
        h = (h ^ (((long) keyPorts << 32) | ((keyMeta ^ ifindex) & 0xFFFF_FFFFL))) * 0x9E3779B97F4A7C15L;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        keyHash = (int) h;
    }

    private int home(int hash) {
        return (int) (((hash & 0xFFFF_FFFFL) * slots) >>> 32);
    }

    private int nextSlot(int i) {
        int n = i + 1;
        return n == slots ? 0 : n;
    }

    /** Entry of the current key, or {@code -(insertion index slot) - 1}. */
    private int find() {
        UnsafeBuffer ix = index;
        UnsafeBuffer t = table;
        long tag = (long) keyHash << 32;
        int i = home(keyHash);
        while (true) {
            long v = ix.getLong(i * INDEX_SLOT_BYTES);
            if (v == 0) {
                return -i - 1;
            }
            if ((v & INDEX_HASH_MASK) == tag) {
                int entry = (int) (v & INDEX_ENTRY_MASK) - 1;
                int base = entry * ENTRY_BYTES;
                if (t.getInt(base + PORTS) == keyPorts && t.getInt(base + META) == keyMeta
                        && t.getInt(base + IFINDEX) == keyIfindex && addressesMatch(t, base)) {
                    return entry;
                }
            }
            i = nextSlot(i);
        }
    }

    private boolean addressesMatch(UnsafeBuffer t, int base) {
        if (!keyWide) {
            return t.getInt(base + A_ADDR) == (int) keyALow && t.getInt(base + B_ADDR) == (int) keyBLow;
        }
        UnsafeBuffer w = wideKeys;
        int wb = t.getInt(base + A_ADDR) * WIDE_KEY_BYTES;
        return w.getLong(wb + 8) == keyALow && w.getLong(wb + 24) == keyBLow && w.getLong(wb) == keyAHigh
                && w.getLong(wb + 16) == keyBHigh;
    }

    /** High (0) or low (1) 64 bits of side A's (0) or B's (1) address of the entry at {@code base}. */
    private long address(int base, int side, int half) {
        UnsafeBuffer t = table;
        if ((t.getInt(base + META) & META_WIDE) != 0) {
            return wideKeys.getLong(t.getInt(base + A_ADDR) * WIDE_KEY_BYTES + side * 16 + half * 8);
        }
        return half == 0 ? 0 : t.getInt(base + (side == 0 ? A_ADDR : B_ADDR)) & 0xFFFF_FFFFL;
    }

    /** The index slot that points at {@code entry} (present: the probe from its home finds it). */
    private int indexSlotOf(int entry, int hash) {
        UnsafeBuffer ix = index;
        long want = entry + 1L;
        int i = home(hash);
        while ((ix.getLong(i * INDEX_SLOT_BYTES) & INDEX_ENTRY_MASK) != want) {
            i = nextSlot(i);
        }
        return i;
    }

    /** A free entry: the last one freed (its memory is warm and resident), else a new one. */
    private int allocateEntry() {
        int entry = freeHead;
        if (entry != NIL) {
            freeHead = table.getInt(entry * ENTRY_BYTES + FREE_NEXT);
            table.putInt(entry * ENTRY_BYTES + FREE_NEXT, 0);
            return entry;
        }
        return highWater++;
    }

    /** A free side record for a wide key: the last one freed, else a new one (at most one per entry). */
    private int allocateWide() {
        int wide = wideFreeHead;
        if (wide != NIL) {
            wideFreeHead = wideKeys.getInt(wide * WIDE_KEY_BYTES);
            return wide;
        }
        return wideHighWater++;
    }

    private boolean record(long ts, long ipBytes, long payloadBytes, int packets, boolean tcp, int flags, int seq,
                           int ack, int window) {
        int idx = resolve(ts, tcp, flags);
        if (idx < 0) {
            return false;
        }
        apply(idx, ts, ipBytes, payloadBytes, packets, tcp, flags, seq, ack, window);
        return true;
    }

    /**
     * The entry of the current (normalised) key: found, reused for a new SYN, or inserted.
     *
     * @return the entry, or -1 when the table is full (the packet is counted as dropped)
     */
    private int resolve(long ts, boolean tcp, int flags) {
        ensureOpen();
        if (currentTick == Long.MIN_VALUE) {
            currentTick = ts / tickNanos - 1;
        }
        if (endpoints != null && metricsIntervalStart == Long.MIN_VALUE) {
            metricsIntervalStart = ts - Math.floorMod(ts, metricsIntervalNanos);
        }
        int idx = find();
        if (idx < 0) {
            idx = insert(-idx - 1, ts, tcp, flags);
            if (idx < 0) {
                packetsDropped++;
                return -1;
            }
        } else if (tcp && (flags & (SYN | ACK)) == SYN) {
            idx = maybeReuse(idx, ts, flags);
        }
        return idx;
    }

    /** Accounts a packet (or a batch of {@code packets}) to the entry {@code idx} of the current key. */
    private void apply(int idx, long ts, long ipBytes, long payloadBytes, int packets, boolean tcp, int flags,
                       int seq, int ack, int window) {
        UnsafeBuffer t = table;
        int base = idx * ENTRY_BYTES;
        int flowFlags = t.getByte(base + FLOW_FLAGS);
        int dir = keyFromA == ((flowFlags & FF_CLIENT_IS_A) != 0) ? 0 : 1;
        int dl = base + DIR_LONGS + dir * DIR_LONGS_BYTES;
        int di = base + DIR_INTS + dir * DIR_INTS_BYTES;
        int dflags = t.getByte(di + D_FLAGS);
        if ((dflags & DF_SEEN) == 0) {
            // The direction of the flow's first packet starts at the flow start (offset 0); only
            // the other direction's offset is kept.
            if (dir != ((flowFlags & FF_FIRST_FROM_SERVER) != 0 ? 1 : 0)) {
                long offsetMicros = (ts - t.getLong(base + FLOW_START)) / NANOS_PER_MICRO;
                t.putInt(base + FIRST_OFFSET_MICROS, (int) Math.max(0, Math.min(Integer.MAX_VALUE, offsetMicros)));
            }
            dflags |= DF_SEEN;
            t.putByte(di + D_FLAGS, (byte) dflags);
        }
        long bytesRetrans = t.getLong(dl + D_BYTES_RETRANS);
        long payloadOoo = t.getLong(dl + D_PAYLOAD_OOO);
        if ((bytesRetrans & LOW48) + ipBytes > LOW48 || (payloadOoo & LOW48) + payloadBytes > LOW48
                || (t.getInt(di + D_PACKETS) & MAX_UINT) + packets > MAX_UINT) {
            exportEarly(idx, ts);
            bytesRetrans = t.getLong(dl + D_BYTES_RETRANS);
            payloadOoo = t.getLong(dl + D_PAYLOAD_OOO);
        }
        t.putLong(dl + D_BYTES_RETRANS, bytesRetrans + ipBytes);
        t.putLong(dl + D_PAYLOAD_OOO, payloadOoo + payloadBytes);
        t.putInt(di + D_PACKETS, t.getInt(di + D_PACKETS) + packets);
        long last = t.getLong(dl + D_LAST_TS);
        if (ts > last) {
            if ((dflags & DF_SAMPLE) != 0 && ts - sampleTime(t, dl, di, last) > MAX_UINT) {
                // The sample's send time is kept as its low 32 bits under this direction's last
                // packet time: a sample older than 4.29 s behind it could no longer be told apart.
                dflags &= ~DF_SAMPLE;
                t.putByte(di + D_FLAGS, (byte) dflags);
            }
            t.putLong(dl + D_LAST_TS, ts);
        }
        int endpoint = endpointSlot(base);
        if (endpoint >= 0) {
            endpoints.packet(endpoint, dir == 0, ipBytes);
        }
        if (tcp) {
            tcp(base, dir, dl, di, ts, (int) payloadBytes, flags, seq, ack, window, endpoint);
        }
        long deadline = deadline(base, ts);
        if (t.getByte(base + TIMER_STATE) == 0) {
            schedule(idx, visitTick(deadline));
        } else {
            // Refile only when the deadline now falls before the filed tick's (a FIN, a RST):
            // compared by multiplying, so the packet path pays no division. The deadline test
            // comes first: it is false for nearly every packet, while "filed > currentTick + 1"
            // turns false in the last tick before each visit (every report interval of a busy
            // flow); tested first, that rare outcome deoptimised the whole compiled packet path
            // 10 s into every flood (JFR: unstable_if here), and C2 compiled it all again.
            long filed = currentTick + (t.getInt(base + TIMER_TICK) - (int) currentTick);
            if (deadline < (filed - 1) * tickNanos && filed > currentTick + 1) {
                unlinkTimer(idx);
                schedule(idx, visitTick(deadline));
            }
        }
    }

    /**
     * Send time of direction {@code dl/di}'s RTT sample: its low 32 bits are kept, the rest is that
     * of the direction's last packet time, which is at most 2^32 - 1 ns later (older samples are dropped).
     */
    private static long sampleTime(UnsafeBuffer t, int dl, int di, long lastPacket) {
        return lastPacket - (((int) lastPacket - t.getInt(di + D_SAMPLE_TS_LOW)) & MAX_UINT);
    }

    private int insert(int slot, long ts, boolean tcp, int flags) {
        if (size >= maxFlows) {
            if (!evictWhenFull || size == 0) {
                flowsDropped++;
                return -1;
            }
            int victim = earliestTimer();
            if (victim == NIL) {
                flowsDropped++;
                return -1;
            }
            exportAndRemove(victim, lastPacket(victim * ENTRY_BYTES), CloseType.EVICTED);
            flowsEvicted++;
            int found = find();
            slot = -found - 1;
        }
        int entry = allocateEntry();
        UnsafeBuffer t = table;
        int base = entry * ENTRY_BYTES;
        if (keyWide) {
            int wide = allocateWide();
            int wb = wide * WIDE_KEY_BYTES;
            UnsafeBuffer w = wideKeys;
            w.putLong(wb, keyAHigh);
            w.putLong(wb + 8, keyALow);
            w.putLong(wb + 16, keyBHigh);
            w.putLong(wb + 24, keyBLow);
            t.putInt(base + A_ADDR, wide);
            t.putInt(base + B_ADDR, 0);
        } else {
            t.putInt(base + A_ADDR, (int) keyALow);
            t.putInt(base + B_ADDR, (int) keyBLow);
        }
        t.putInt(base + PORTS, keyPorts);
        t.putInt(base + META, keyMeta);
        t.putInt(base + IFINDEX, keyIfindex);
        t.putInt(base + HASH, keyHash);
        index.putLong(slot * INDEX_SLOT_BYTES, ((long) keyHash << 32) | (entry + 1L));
        size++;
        flowsCreated++;
        initFlow(entry, ts, tcp, flags);
        return entry;
    }

    /** Initialises the state of a new flow (key already written; value bytes are zero). */
    private void initFlow(int idx, long ts, boolean tcp, int flags) {
        UnsafeBuffer t = table;
        int base = idx * ENTRY_BYTES;
        boolean srcIsClient;
        int state;
        int flowFlags = 0;
        if (tcp && (flags & SYN) != 0) {
            srcIsClient = (flags & ACK) == 0;
            state = TcpState.OPENING.ordinal();
            if (srcIsClient) {
                flowFlags |= FF_CLIENT_SYN_FIRST;
            }
        } else {
            srcIsClient = guessSrcIsClient(keySrcPort, keyDstPort);
            if (!tcp) {
                state = TcpState.NONE.ordinal();
            } else if ((flags & RST) != 0) {
                state = TcpState.RESET.ordinal();
            } else if ((flags & FIN) != 0) {
                state = TcpState.CLOSING.ordinal();
            } else {
                state = TcpState.ESTABLISHED.ordinal();
            }
        }
        if (srcIsClient == keyFromA) {
            flowFlags |= FF_CLIENT_IS_A;
        }
        if (!srcIsClient) {
            flowFlags |= FF_FIRST_FROM_SERVER;
        }
        t.putLong(base + FLOW_START, ts);
        t.putLong(base + INTERVAL_START, ts);
        t.putByte(base + STATE, (byte) state);
        t.putByte(base + CLOSE_TYPE, (byte) CloseType.STILL_OPEN.ordinal());
        t.putByte(base + FLOW_FLAGS, (byte) flowFlags);
        t.putInt(base + SERVER_RTT_MICROS, -1);
        t.putInt(base + CLIENT_RTT_MICROS, -1);
        t.putInt(base + ENDPOINT_EPOCH, 0);
        t.putInt(base + TIMER_NEXT, NIL);
        t.putInt(base + TIMER_PREV, NIL);
        t.putByte(base + TIMER_STATE, (byte) 0);
        int endpoint = endpointSlot(base);
        if (endpoint >= 0) {
            endpoints.newFlow(endpoint);
        }
    }

    /**
     * Which side is the client when no SYN tells: the side with the ephemeral port against a
     * well-known/registered one, else the first sender.
     */
    private static boolean guessSrcIsClient(int srcPort, int dstPort) {
        boolean srcEphemeral = srcPort >= 32768;
        boolean dstEphemeral = dstPort >= 32768;
        if (srcEphemeral != dstEphemeral) {
            return srcEphemeral;
        }
        if ((srcPort < 1024) != (dstPort < 1024)) {
            return dstPort < 1024;
        }
        return true;
    }

    /** A new SYN on a closed or reset flow: the 5-tuple is reused; export the old flow, start a new one. */
    private int maybeReuse(int idx, long ts, int flags) {
        UnsafeBuffer t = table;
        int base = idx * ENTRY_BYTES;
        int state = t.getByte(base + STATE);
        boolean closedState = state == TcpState.CLOSED.ordinal() || state == TcpState.RESET.ordinal();
        if (!closedState && state != TcpState.CLOSING.ordinal()) {
            return idx;
        }
        CloseType closeType = state == TcpState.CLOSED.ordinal() ? CloseType.FIN
                : state == TcpState.RESET.ordinal() ? CloseType.of(t.getByte(base + CLOSE_TYPE)) : CloseType.PORT_REUSE;
        exportFinal(idx, lastPacket(base), closeType);
        unlinkTimer(idx);
        table.setMemory(base + FLOW_START, ENTRY_BYTES - FLOW_START, (byte) 0);
        flowsCreated++;
        initFlow(idx, ts, true, flags);
        return idx;
    }

    private void tcp(int base, int dir, int dl, int di, long ts, int payload, int flags, int seq, int ack, int window,
                     int endpoint) {
        UnsafeBuffer t = table;
        int state = t.getByte(base + STATE);
        int flowFlags = t.getByte(base + FLOW_FLAGS);
        int dflags = t.getByte(di + D_FLAGS);
        int seen = t.getByte(di + D_TCP_FLAGS) & 0xFF;
        t.putByte(di + D_TCP_FLAGS, (byte) (seen | flags));
        int odi = base + DIR_INTS + (1 - dir) * DIR_INTS_BYTES;
        int odl = base + DIR_LONGS + (1 - dir) * DIR_LONGS_BYTES;
        boolean syn = (flags & SYN) != 0;
        boolean rst = (flags & RST) != 0;
        boolean fin = (flags & FIN) != 0;
        boolean ackFlag = (flags & ACK) != 0;

        if (syn) {
            if ((seen & SYN) != 0) {
                retransmission(base, dl, ts, endpoint);
            } else if (ackFlag && dir == 1 && state == TcpState.OPENING.ordinal()
                    && (flowFlags & FF_CLIENT_SYN_FIRST) != 0) {
                long micros = (ts - t.getLong(base + FLOW_START)) / NANOS_PER_MICRO;
                t.putInt(base + SERVER_RTT_MICROS, (int) Math.min(Integer.MAX_VALUE, micros));
                flowFlags |= FF_SYNACK_MEASURED;
                rttSample(endpoint, micros);
            }
            if ((dflags & DF_SEQ_INIT) == 0) {
                t.putInt(di + D_NEXT_SEQ, seq + 1 + payload);
                dflags |= DF_SEQ_INIT;
            }
        } else {
            if (ackFlag && state == TcpState.OPENING.ordinal() && dir == 0
                    && (t.getByte(odi + D_TCP_FLAGS) & SYN) != 0) {
                if ((flowFlags & FF_SYNACK_MEASURED) != 0) {
                    long sinceSyn = (ts - t.getLong(base + FLOW_START)) / NANOS_PER_MICRO;
                    long micros = sinceSyn - t.getInt(base + SERVER_RTT_MICROS);
                    t.putInt(base + CLIENT_RTT_MICROS, (int) Math.max(0, Math.min(Integer.MAX_VALUE, micros)));
                    rttSample(endpoint, micros);
                }
                flowFlags |= FF_HANDSHAKE_DONE;
                state = TcpState.ESTABLISHED.ordinal();
            } else if (state == TcpState.OPENING.ordinal() && dir == 1 && payload > 0
                    && (t.getByte(di + D_TCP_FLAGS) & SYN) != 0) {
                state = TcpState.ESTABLISHED.ordinal();
            }
            dflags = sequence(t, base, dl, di, dflags, ts, seq, payload, fin, endpoint);
        }
        if (window == 0 && !rst) {
            if ((t.getShort(di + D_ZERO_WIN) & 0xFFFF) == MAX_SHORT_COUNT) {
                exportEarly(base / ENTRY_BYTES, ts);
            }
            t.putShort(di + D_ZERO_WIN, (short) (t.getShort(di + D_ZERO_WIN) + 1));
        }
        if (ackFlag) {
            int odflags = t.getByte(odi + D_FLAGS);
            if ((odflags & DF_SAMPLE) != 0 && ack - t.getInt(odi + D_SAMPLE_SEQ_END) >= 0) {
                long micros = (ts - sampleTime(t, odl, odi, t.getLong(odl + D_LAST_TS))) / NANOS_PER_MICRO;
                if (micros >= 0) {
                    dataRtt(base, ts, micros);
                    rttSample(endpoint, micros);
                }
                t.putByte(odi + D_FLAGS, (byte) (odflags & ~DF_SAMPLE));
            }
        }
        if (rst) {
            if (state != TcpState.RESET.ordinal()) {
                state = TcpState.RESET.ordinal();
                t.putByte(base + CLOSE_TYPE,
                        (byte) (dir == 0 ? CloseType.RST_BY_CLIENT : CloseType.RST_BY_SERVER).ordinal());
            }
        } else if (fin && state != TcpState.RESET.ordinal()) {
            flowFlags |= dir == 0 ? FF_FIN_CLIENT : FF_FIN_SERVER;
            state = (flowFlags & (FF_FIN_CLIENT | FF_FIN_SERVER)) == (FF_FIN_CLIENT | FF_FIN_SERVER)
                    ? TcpState.CLOSED.ordinal() : TcpState.CLOSING.ordinal();
        }
        t.putByte(di + D_FLAGS, (byte) dflags);
        t.putByte(base + FLOW_FLAGS, (byte) flowFlags);
        t.putByte(base + STATE, (byte) state);
    }

    /**
     * Sequence analysis of a non-SYN segment: in order, a gap (opens a hole), a segment filling the
     * hole (out of order), or data at or below what was already sent (retransmission).
     */
    private int sequence(UnsafeBuffer t, int base, int dl, int di, int dflags, long ts, int seq, int payload,
                         boolean fin, int endpoint) {
        int segmentLength = payload + (fin ? 1 : 0);
        if ((dflags & DF_SEQ_INIT) == 0) {
            t.putInt(di + D_NEXT_SEQ, seq + segmentLength);
            dflags |= DF_SEQ_INIT;
            if (payload > 0) {
                dflags = startSample(t, dl, di, dflags, ts, seq + payload);
            }
            return dflags;
        }
        int next = t.getInt(di + D_NEXT_SEQ);
        int diff = seq - next;
        if (payload > 0) {
            if (diff == 0) {
                t.putInt(di + D_NEXT_SEQ, seq + segmentLength);
                dflags = startSample(t, dl, di, dflags, ts, seq + payload);
            } else if (diff > 0) {
                t.putInt(di + D_HOLE_START, next);
                t.putInt(di + D_HOLE_END, seq);
                dflags |= DF_HOLE;
                t.putInt(di + D_NEXT_SEQ, seq + segmentLength);
            } else if ((dflags & DF_HOLE) != 0 && seq - t.getInt(di + D_HOLE_START) >= 0
                    && seq - t.getInt(di + D_HOLE_END) < 0) {
                if ((t.getLong(dl + D_PAYLOAD_OOO) >>> 48) == MAX_SHORT_COUNT) {
                    exportEarly(base / ENTRY_BYTES, ts);
                }
                t.putLong(dl + D_PAYLOAD_OOO, t.getLong(dl + D_PAYLOAD_OOO) + HIGH16_ONE);
                if (seq == t.getInt(di + D_HOLE_START)) {
                    int newStart = seq + payload;
                    t.putInt(di + D_HOLE_START, newStart);
                    if (newStart - t.getInt(di + D_HOLE_END) >= 0) {
                        dflags &= ~DF_HOLE;
                    }
                }
            } else {
                retransmission(base, dl, ts, endpoint);
                if ((dflags & DF_SAMPLE) != 0 && seq - t.getInt(di + D_SAMPLE_SEQ_END) < 0) {
                    // Karn: an ACK could answer either copy, so the sample is ambiguous.
                    dflags &= ~DF_SAMPLE;
                }
                int end = seq + segmentLength;
                if (end - next > 0) {
                    t.putInt(di + D_NEXT_SEQ, end);
                }
            }
        } else if (fin && diff >= 0) {
            t.putInt(di + D_NEXT_SEQ, seq + 1);
        }
        return dflags;
    }

    private int startSample(UnsafeBuffer t, int dl, int di, int dflags, long ts, int seqEnd) {
        // ts is at most the direction's last packet time (updated first); a segment stamped over
        // 4.29 s before it (clock step) starts no sample, as its low 32 bits could not be placed.
        if ((dflags & DF_SAMPLE) == 0 && t.getLong(dl + D_LAST_TS) - ts <= MAX_UINT) {
            t.putInt(di + D_SAMPLE_SEQ_END, seqEnd);
            t.putInt(di + D_SAMPLE_TS_LOW, (int) ts);
            return dflags | DF_SAMPLE;
        }
        return dflags;
    }

    private void retransmission(int base, int dl, long ts, int endpoint) {
        UnsafeBuffer t = table;
        if ((t.getLong(dl + D_BYTES_RETRANS) >>> 48) == MAX_SHORT_COUNT) {
            exportEarly(base / ENTRY_BYTES, ts);
        }
        t.putLong(dl + D_BYTES_RETRANS, t.getLong(dl + D_BYTES_RETRANS) + HIGH16_ONE);
        if (endpoint >= 0) {
            endpoints.retransmission(endpoint);
        }
    }

    /** One data RTT sample into the interval's count, sum (unsigned 32-bit microseconds) and max. */
    private void dataRtt(int base, long ts, long micros) {
        UnsafeBuffer t = table;
        // An RTT over 71 minutes cannot come from TCP (retransmission timers fire long before);
        // clamped so one sample always fits the sum.
        long clamped = Math.min(micros, MAX_UINT);
        if ((t.getInt(base + DATA_RTT_SUM_MICROS) & MAX_UINT) + clamped > MAX_UINT
                || t.getInt(base + DATA_RTT_COUNT) == -1) {
            exportEarly(base / ENTRY_BYTES, ts);
        }
        t.putInt(base + DATA_RTT_COUNT, t.getInt(base + DATA_RTT_COUNT) + 1);
        t.putInt(base + DATA_RTT_SUM_MICROS, (int) ((t.getInt(base + DATA_RTT_SUM_MICROS) & MAX_UINT) + clamped));
        if (micros > t.getInt(base + DATA_RTT_MAX_MICROS)) {
            t.putInt(base + DATA_RTT_MAX_MICROS, (int) Math.min(Integer.MAX_VALUE, micros));
        }
    }

    private void rttSample(int endpoint, long micros) {
        if (endpoint >= 0 && micros >= 0) {
            endpoints.rtt(endpoint, micros);
        }
    }

    private int endpointSlot(int base) {
        EndpointMetrics e = endpoints;
        if (e == null) {
            return -1;
        }
        UnsafeBuffer t = table;
        if (t.getInt(base + ENDPOINT_EPOCH) == e.epoch()) {
            return t.getInt(base + ENDPOINT_SLOT);
        }
        boolean clientIsA = (t.getByte(base + FLOW_FLAGS) & FF_CLIENT_IS_A) != 0;
        int meta = t.getInt(base + META);
        int ports = t.getInt(base + PORTS);
        int server = clientIsA ? 1 : 0;
        int slot = e.slot((meta & META_IPV6) != 0 ? 6 : 4, address(base, server, 0), address(base, server, 1),
                clientIsA ? ports & 0xFFFF : ports >>> 16, (meta >>> 16) & 0xFF);
        t.putInt(base + ENDPOINT_SLOT, slot);
        t.putInt(base + ENDPOINT_EPOCH, e.epoch());
        return slot;
    }

    // ---------------------------------------------------------------- timers

    private long lastPacket(int base) {
        return Math.max(table.getLong(base + DIR_LONGS + D_LAST_TS),
                table.getLong(base + DIR_LONGS + DIR_LONGS_BYTES + D_LAST_TS));
    }

    private long timeout(int state) {
        if (state == TcpState.ESTABLISHED.ordinal()) {
            return establishedTimeoutNanos;
        } else if (state == TcpState.NONE.ordinal()) {
            return otherTimeoutNanos;
        } else if (state == TcpState.OPENING.ordinal()) {
            return openingTimeoutNanos;
        } else if (state == TcpState.CLOSING.ordinal()) {
            return closingTimeoutNanos;
        } else if (state == TcpState.CLOSED.ordinal()) {
            return closedTimeoutNanos;
        }
        return resetTimeoutNanos;
    }

    private long idleDeadline(int base, long lastPacket) {
        return lastPacket + timeout(table.getByte(base + STATE));
    }

    private long deadline(int base, long lastPacket) {
        return Math.min(idleDeadline(base, lastPacket), table.getLong(base + INTERVAL_START) + reportIntervalNanos);
    }

    /** The wheel tick at which a deadline is examined: after it, in the future, at most 2^30 ticks ahead. */
    private long visitTick(long deadlineNanos) {
        long visitTick = Math.floorDiv(deadlineNanos, tickNanos) + 1;
        if (visitTick <= currentTick) {
            return currentTick + 1;
        }
        return Math.min(visitTick, currentTick + MAX_TIMER_AHEAD_TICKS);
    }

    private void schedule(int idx, long visitTick) {
        UnsafeBuffer t = table;
        int base = idx * ENTRY_BYTES;
        int slot = (int) (visitTick & wheelMask);
        int head = wheelHeads[slot];
        t.putInt(base + TIMER_TICK, (int) visitTick);
        t.putByte(base + TIMER_STATE, (byte) 1);
        t.putInt(base + TIMER_PREV, NIL);
        t.putInt(base + TIMER_NEXT, head);
        if (head != NIL) {
            t.putInt(head * ENTRY_BYTES + TIMER_PREV, idx);
        }
        wheelHeads[slot] = idx;
    }

    private void unlinkTimer(int idx) {
        UnsafeBuffer t = table;
        int base = idx * ENTRY_BYTES;
        if (t.getByte(base + TIMER_STATE) == 0) {
            return;
        }
        int slot = t.getInt(base + TIMER_TICK) & wheelMask;
        int prev = t.getInt(base + TIMER_PREV);
        int next = t.getInt(base + TIMER_NEXT);
        if (prev != NIL) {
            t.putInt(prev * ENTRY_BYTES + TIMER_NEXT, next);
        } else if (wheelHeads[slot] == idx) {
            wheelHeads[slot] = next;
        } else if (detachedHead == idx) {
            detachedHead = next;
        }
        if (next != NIL) {
            t.putInt(next * ENTRY_BYTES + TIMER_PREV, prev);
        }
        t.putByte(base + TIMER_STATE, (byte) 0);
        t.putInt(base + TIMER_PREV, NIL);
        t.putInt(base + TIMER_NEXT, NIL);
    }

    /** The entry whose timer fires soonest (eviction victim), or NIL. */
    private int earliestTimer() {
        for (int i = 1; i <= wheelHeads.length; i++) {
            int head = wheelHeads[(int) ((currentTick + i) & wheelMask)];
            if (head != NIL) {
                return head;
            }
        }
        return NIL;
    }

    /**
     * Advances time: expires idle flows (final records), emits periodic records of long flows, and
     * the endpoint metrics of finished intervals. Call it regularly (e.g. every 100 ms) from the
     * writer thread, with the clock of the packet timestamps.
     *
     * @return flow records emitted
     */
    public int tick(long nowNanos) {
        ensureOpen();
        int emitted = 0;
        if (currentTick == Long.MIN_VALUE) {
            currentTick = nowNanos / tickNanos - 1;
        }
        long target = Math.floorDiv(nowNanos, tickNanos);
        long from = Math.max(currentTick + 1, target - wheelHeads.length + 1);
        for (long tick = from; tick <= target; tick++) {
            currentTick = tick;
            emitted += processSlot((int) (tick & wheelMask), nowNanos);
        }
        if (target > currentTick) {
            currentTick = target;
        }
        if (endpoints != null) {
            if (metricsIntervalStart == Long.MIN_VALUE) {
                metricsIntervalStart = nowNanos - Math.floorMod(nowNanos, metricsIntervalNanos);
            }
            if (nowNanos - metricsIntervalStart >= metricsIntervalNanos) {
                long end = nowNanos - Math.floorMod(nowNanos, metricsIntervalNanos);
                endpoints.flush(metricsIntervalStart, end, metricsHandler);
                metricsIntervalStart = end;
            }
        }
        return emitted;
    }

    private int processSlot(int slot, long now) {
        int emitted = 0;
        UnsafeBuffer t = table;
        detachedHead = wheelHeads[slot];
        wheelHeads[slot] = NIL;
        while (detachedHead != NIL) {
            int idx = detachedHead;
            int base = idx * ENTRY_BYTES;
            detachedHead = t.getInt(base + TIMER_NEXT);
            if (detachedHead != NIL) {
                t.putInt(detachedHead * ENTRY_BYTES + TIMER_PREV, NIL);
            }
            t.putByte(base + TIMER_STATE, (byte) 0);
            t.putInt(base + TIMER_NEXT, NIL);
            long last = lastPacket(base);
            long idle = idleDeadline(base, last);
            if (now >= idle) {
                int state = t.getByte(base + STATE);
                CloseType type;
                if (state == TcpState.CLOSED.ordinal()) {
                    type = CloseType.FIN;
                } else if (state == TcpState.RESET.ordinal()) {
                    type = CloseType.of(t.getByte(base + CLOSE_TYPE));
                } else {
                    if (state == TcpState.OPENING.ordinal()) {
                        t.putByte(base + STATE, (byte) TcpState.HALF_OPEN.ordinal());
                    }
                    type = CloseType.TIMEOUT;
                }
                exportAndRemove(idx, last, type);
                emitted++;
            } else {
                if (now - t.getLong(base + INTERVAL_START) >= reportIntervalNanos && exportPeriodic(idx, now)) {
                    emitted++;
                }
                schedule(idx, visitTick(deadline(base, last)));
            }
        }
        return emitted;
    }

    // ---------------------------------------------------------------- export and removal

    private void exportAndRemove(int idx, long endNanos, CloseType type) {
        exportFinal(idx, endNanos, type);
        removeAt(idx);
    }

    private void exportFinal(int idx, long endNanos, CloseType type) {
        fill(idx, endNanos, true, type);
        finalRecords++;
        int endpoint = endpointSlot(idx * ENTRY_BYTES);
        if (endpoint >= 0) {
            endpoints.closedFlow(endpoint);
        }
        logHandler.onFlowLog(log);
    }

    private boolean exportPeriodic(int idx, long now) {
        UnsafeBuffer t = table;
        int base = idx * ENTRY_BYTES;
        if (!reportIdleIntervals && t.getInt(base + DIR_INTS + D_PACKETS) == 0
                && t.getInt(base + DIR_INTS + DIR_INTS_BYTES + D_PACKETS) == 0) {
            // Nothing happened in this interval: an all-zero record is no information, and a
            // million idle connections would cost a million records per interval.
            t.putLong(base + INTERVAL_START, now);
            idleIntervalsSkipped++;
            return false;
        }
        fill(idx, now, false, CloseType.STILL_OPEN);
        periodicRecords++;
        logHandler.onFlowLog(log);
        startInterval(base, now);
        return true;
    }

    /**
     * A periodic record now, because one of the interval's counters is full (48-bit bytes, 32-bit
     * packets and RTT sum, 16-bit retransmissions, out-of-order and zero-window counts): the
     * counters stay exact and the flow's records still sum to its totals, the interval is only
     * cut short. Called on the packet that would overflow it, before its own counts.
     */
    private void exportEarly(int idx, long ts) {
        int base = idx * ENTRY_BYTES;
        fill(idx, Math.max(ts, table.getLong(base + INTERVAL_START)), false, CloseType.STILL_OPEN);
        periodicRecords++;
        earlyRecords++;
        logHandler.onFlowLog(log);
        startInterval(base, log.intervalEndNanos);
    }

    /** Zeroes the interval counters and starts the next interval at {@code start}. */
    private void startInterval(int base, long start) {
        UnsafeBuffer t = table;
        t.putLong(base + INTERVAL_START, start);
        t.putInt(base + DATA_RTT_COUNT, 0);
        t.putInt(base + DATA_RTT_SUM_MICROS, 0);
        t.putInt(base + DATA_RTT_MAX_MICROS, 0);
        for (int d = 0; d < 2; d++) {
            int dl = base + DIR_LONGS + d * DIR_LONGS_BYTES;
            int di = base + DIR_INTS + d * DIR_INTS_BYTES;
            t.putLong(dl + D_BYTES_RETRANS, 0);
            t.putLong(dl + D_PAYLOAD_OOO, 0);
            t.putInt(di + D_PACKETS, 0);
            t.putShort(di + D_ZERO_WIN, (short) 0);
        }
    }

    private void fill(int idx, long endNanos, boolean finalRecord, CloseType type) {
        UnsafeBuffer t = table;
        int base = idx * ENTRY_BYTES;
        FlowLog r = log;
        boolean clientIsA = (t.getByte(base + FLOW_FLAGS) & FF_CLIENT_IS_A) != 0;
        int meta = t.getInt(base + META);
        int ports = t.getInt(base + PORTS);
        r.finalRecord = finalRecord;
        r.ipVersion = (meta & META_IPV6) != 0 ? 6 : 4;
        long aHigh = address(base, 0, 0);
        long aLow = address(base, 0, 1);
        long bHigh = address(base, 1, 0);
        long bLow = address(base, 1, 1);
        r.clientAddressHigh = clientIsA ? aHigh : bHigh;
        r.clientAddressLow = clientIsA ? aLow : bLow;
        r.serverAddressHigh = clientIsA ? bHigh : aHigh;
        r.serverAddressLow = clientIsA ? bLow : aLow;
        r.clientPort = clientIsA ? ports >>> 16 : ports & 0xFFFF;
        r.serverPort = clientIsA ? ports & 0xFFFF : ports >>> 16;
        r.protocol = (meta >>> 16) & 0xFF;
        r.vlanId = meta & 0xFFF;
        r.ifindex = t.getInt(base + IFINDEX);
        long start = t.getLong(base + FLOW_START);
        r.flowStartNanos = start;
        r.flowId = (start * 0x9E3779B97F4A7C15L) ^ t.getInt(base + HASH);
        r.intervalStartNanos = t.getLong(base + INTERVAL_START);
        r.intervalEndNanos = endNanos;
        r.tcpState = TcpState.of(t.getByte(base + STATE));
        r.closeType = type;
        int serverRtt = t.getInt(base + SERVER_RTT_MICROS);
        int clientRtt = t.getInt(base + CLIENT_RTT_MICROS);
        r.serverHandshakeRttNanos = serverRtt < 0 ? FlowLog.NO_RTT : serverRtt * NANOS_PER_MICRO;
        r.clientHandshakeRttNanos = clientRtt < 0 ? FlowLog.NO_RTT : clientRtt * NANOS_PER_MICRO;
        r.dataRttCount = t.getInt(base + DATA_RTT_COUNT) & MAX_UINT;
        r.dataRttSumNanos = (t.getInt(base + DATA_RTT_SUM_MICROS) & MAX_UINT) * NANOS_PER_MICRO;
        r.dataRttMaxNanos = t.getInt(base + DATA_RTT_MAX_MICROS) * NANOS_PER_MICRO;
        int firstDir = (t.getByte(base + FLOW_FLAGS) & FF_FIRST_FROM_SERVER) != 0 ? 1 : 0;
        long laterOffsetNanos = t.getInt(base + FIRST_OFFSET_MICROS) * NANOS_PER_MICRO;
        for (int d = 0; d < 2; d++) {
            int dl = base + DIR_LONGS + d * DIR_LONGS_BYTES;
            int di = base + DIR_INTS + d * DIR_INTS_BYTES;
            boolean seen = (t.getByte(di + D_FLAGS) & DF_SEEN) != 0;
            r.firstNanos[d] = seen ? start + (d == firstDir ? 0 : laterOffsetNanos) : 0;
            r.lastNanos[d] = t.getLong(dl + D_LAST_TS);
            long bytesRetrans = t.getLong(dl + D_BYTES_RETRANS);
            long payloadOoo = t.getLong(dl + D_PAYLOAD_OOO);
            r.bytes[d] = bytesRetrans & LOW48;
            r.payloadBytes[d] = payloadOoo & LOW48;
            r.packets[d] = t.getInt(di + D_PACKETS) & MAX_UINT;
            r.tcpFlags[d] = t.getByte(di + D_TCP_FLAGS) & 0xFF;
            r.retransmissions[d] = bytesRetrans >>> 48;
            r.outOfOrder[d] = (int) (payloadOoo >>> 48);
            r.zeroWindow[d] = t.getShort(di + D_ZERO_WIN) & 0xFFFF;
        }
    }

    /**
     * Removes the entry: its index slot is emptied and later slots of the probe chain shift back
     * (no tombstones; only 8-byte index slots move, entries stay put), the entry is zeroed and freed.
     */
    private void removeAt(int idx) {
        if (idx == cachedEntry) {
            cachedEntry = NIL;
        }
        unlinkTimer(idx);
        UnsafeBuffer ix = index;
        int base = idx * ENTRY_BYTES;
        size--;
        int hole = indexSlotOf(idx, table.getInt(base + HASH));
        int j = hole;
        while (true) {
            j = nextSlot(j);
            long v = ix.getLong(j * INDEX_SLOT_BYTES);
            if (v == 0) {
                break;
            }
            int home = home((int) (v >>> 32));
            boolean stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays) {
                ix.putLong(hole * INDEX_SLOT_BYTES, v);
                hole = j;
            }
        }
        ix.putLong(hole * INDEX_SLOT_BYTES, 0);
        freeEntry(idx);
    }

    private void freeEntry(int entry) {
        int base = entry * ENTRY_BYTES;
        freeWide(base);
        table.setMemory(base, ENTRY_BYTES, (byte) 0);
        table.putInt(base + FREE_NEXT, freeHead);
        freeHead = entry;
    }

    private void freeWide(int base) {
        if ((table.getInt(base + META) & META_WIDE) != 0) {
            int wide = table.getInt(base + A_ADDR);
            int wb = wide * WIDE_KEY_BYTES;
            wideKeys.setMemory(wb, WIDE_KEY_BYTES, (byte) 0);
            wideKeys.putInt(wb, wideFreeHead);
            wideFreeHead = wide;
        }
    }

    /**
     * Exports every flow as a final record ({@link CloseType#FLUSHED}, or its close type when
     * already closed by FIN/RST) and empties the table; endpoint metrics of the current interval
     * are emitted too. For shutdown and the end of a capture file.
     */
    public void flush(long nowNanos) {
        ensureOpen();
        cachedEntry = NIL;
        UnsafeBuffer t = table;
        UnsafeBuffer ix = index;
        for (int i = 0; i < slots; i++) {
            long v = ix.getLong(i * INDEX_SLOT_BYTES);
            if (v != 0) {
                int entry = (int) (v & INDEX_ENTRY_MASK) - 1;
                int base = entry * ENTRY_BYTES;
                int state = t.getByte(base + STATE);
                CloseType type = state == TcpState.CLOSED.ordinal() ? CloseType.FIN
                        : state == TcpState.RESET.ordinal() ? CloseType.of(t.getByte(base + CLOSE_TYPE))
                        : CloseType.FLUSHED;
                exportFinal(entry, lastPacket(base), type);
                // Zero only what was used: clearing the whole budget would make it all resident.
                if ((t.getInt(base + META) & META_WIDE) != 0) {
                    wideKeys.setMemory(t.getInt(base + A_ADDR) * WIDE_KEY_BYTES, WIDE_KEY_BYTES, (byte) 0);
                }
                t.setMemory(base, ENTRY_BYTES, (byte) 0);
                ix.putLong(i * INDEX_SLOT_BYTES, 0);
            }
        }
        // Free entries are zero but for their link, which a new flow's key overwrites.
        freeHead = NIL;
        highWater = 0;
        wideFreeHead = NIL;
        wideHighWater = 0;
        detachedHead = NIL;
        Arrays.fill(wheelHeads, NIL);
        size = 0;
        if (endpoints != null && metricsIntervalStart != Long.MIN_VALUE) {
            endpoints.flush(metricsIntervalStart, nowNanos, metricsHandler);
            metricsIntervalStart = Long.MIN_VALUE;
        }
    }

    /**
     * Copies the current state of a flow into {@code into} without exporting it (diagnostics and
     * tests; counters are those of the current interval).
     *
     * @return false when the flow is not in the table
     */
    public boolean peek(FlowKey key, FlowLog into) {
        ensureOpen();
        normaliseKey(key);
        int idx = find();
        if (idx < 0) {
            return false;
        }
        FlowLog saved = log;
        fill(idx, lastPacket(idx * ENTRY_BYTES), false, CloseType.STILL_OPEN);
        copy(saved, into);
        return true;
    }

    /** Copies every field of a flow log record (package-private: tests keep records the table reuses). */
    static void copy(FlowLog from, FlowLog to) {
        if (from == to) {
            return;
        }
        to.flowId = from.flowId;
        to.finalRecord = from.finalRecord;
        to.ipVersion = from.ipVersion;
        to.clientAddressHigh = from.clientAddressHigh;
        to.clientAddressLow = from.clientAddressLow;
        to.serverAddressHigh = from.serverAddressHigh;
        to.serverAddressLow = from.serverAddressLow;
        to.clientPort = from.clientPort;
        to.serverPort = from.serverPort;
        to.protocol = from.protocol;
        to.ifindex = from.ifindex;
        to.vlanId = from.vlanId;
        to.flowStartNanos = from.flowStartNanos;
        to.intervalStartNanos = from.intervalStartNanos;
        to.intervalEndNanos = from.intervalEndNanos;
        to.tcpState = from.tcpState;
        to.closeType = from.closeType;
        to.serverHandshakeRttNanos = from.serverHandshakeRttNanos;
        to.clientHandshakeRttNanos = from.clientHandshakeRttNanos;
        to.dataRttCount = from.dataRttCount;
        to.dataRttSumNanos = from.dataRttSumNanos;
        to.dataRttMaxNanos = from.dataRttMaxNanos;
        for (int d = 0; d < 2; d++) {
            to.firstNanos[d] = from.firstNanos[d];
            to.lastNanos[d] = from.lastNanos[d];
            to.bytes[d] = from.bytes[d];
            to.payloadBytes[d] = from.payloadBytes[d];
            to.packets[d] = from.packets[d];
            to.tcpFlags[d] = from.tcpFlags[d];
            to.retransmissions[d] = from.retransmissions[d];
            to.outOfOrder[d] = from.outOfOrder[d];
            to.zeroWindow[d] = from.zeroWindow[d];
        }
    }

    private void ensureOpen() {
        // The memory is freed on close: touching it afterwards would crash the JVM, not throw.
        if (closed) {
            throw new IllegalStateException("flow table is closed");
        }
    }

    /** Frees the table's native memory; the table cannot be used afterwards. Does not export. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cachedEntry = NIL;
            memory.close();
        }
    }

    /** Largest distance of an entry from its home slot (a full scan: for tests and diagnostics). */
    int maxProbeDistance() {
        int max = 0;
        for (int i = 0; i < slots; i++) {
            long v = index.getLong(i * INDEX_SLOT_BYTES);
            if (v != 0) {
                int home = home((int) (v >>> 32));
                max = Math.max(max, i >= home ? i - home : i + slots - home);
            }
        }
        return max;
    }

    // ---------------------------------------------------------------- counters

    /** Packets {@link #onPacket} accounted through the last-flow cache (same tuple as the packet before). */
    public long lastFlowHits() {
        return lastFlowHits;
    }

    /** Live flows. */
    public int size() {
        return size;
    }

    /** Maximum live flows. */
    public int maxFlows() {
        return maxFlows;
    }

    /** Slots of the open-addressing table ({@code >= maxFlows / loadFactor}). */
    public int slotCount() {
        return slots;
    }

    /**
     * Off-heap bytes of the table's budget ({@code maxFlows} x ({@value #ENTRY_BYTES} +
     * {@value #WIDE_KEY_BYTES}) + 8 per index slot), mapped at construction; pages become resident
     * as flows first use them (side records only for IPv6 flows).
     */
    public long memoryBytes() {
        return memory.bytes();
    }

    /**
     * Bytes of entries used at least once (the most flows live at once, x {@value #ENTRY_BYTES}):
     * with the index, what is resident of {@link #memoryBytes()}.
     */
    public long entryBytesTouched() {
        return (long) highWater * ENTRY_BYTES + (long) wideHighWater * WIDE_KEY_BYTES;
    }

    /** Flows created since construction. */
    public long flowsCreated() {
        return flowsCreated;
    }

    /** New flows not tracked because the table was full (DROP_NEW policy, or nothing to evict). */
    public long flowsDropped() {
        return flowsDropped;
    }

    /** Packets not accounted because their flow could not be tracked. */
    public long packetsDropped() {
        return packetsDropped;
    }

    /** Flows evicted to make room (EVICT policy). */
    public long flowsEvicted() {
        return flowsEvicted;
    }

    /** Final flow records emitted. */
    public long finalRecords() {
        return finalRecords;
    }

    /** Periodic (delta) flow records emitted. */
    public long periodicRecords() {
        return periodicRecords;
    }

    /**
     * Periodic records emitted before their interval's end because a counter of the interval was
     * full (included in {@link #periodicRecords()}).
     */
    public long earlyRecords() {
        return earlyRecords;
    }

    /** Periodic records not emitted because the flow had no packet in the interval. */
    public long idleIntervalsSkipped() {
        return idleIntervalsSkipped;
    }

    /** Endpoints not aggregated because the metrics table was full in their interval. */
    public long endpointsDropped() {
        return endpoints == null ? 0 : endpoints.dropped();
    }
}
