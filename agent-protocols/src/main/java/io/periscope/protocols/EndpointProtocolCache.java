package io.periscope.protocols;

/**
 * Remembers which protocol a server endpoint (address + port) speaks, so that new connections to
 * it skip inference. Direct-mapped and fixed-size: a colliding endpoint overwrites the older
 * entry, and entries expire after a TTL so a port that changes hands is re-learnt.
 */
final class EndpointProtocolCache {
    private final long[] keys;
    private final byte[] protocols;
    private final long[] expiresNanos;
    private final int mask;
    private final long ttlNanos;
    private final L7Protocol[] values = L7Protocol.values();

    EndpointProtocolCache(int entries, long ttlNanos) {
        int size = Integer.highestOneBit(Math.max(1, entries - 1)) << 1;
        keys = new long[size];
        protocols = new byte[size];
        expiresNanos = new long[size];
        mask = size - 1;
        this.ttlNanos = ttlNanos;
    }

    /** A key for the endpoint; 0 means "not cacheable" (no address known). */
    static long key(byte[] address, int ipVersion, int port, int l4Protocol) {
        if (ipVersion == 0 || port == 0) {
            return 0;
        }
        long h = 1125899906842597L;
        int n = ipVersion == 4 ? 4 : 16;
        for (int i = 0; i < n; i++) {
            h = 31 * h + address[i];
        }
        h = 31 * h + port;
        h = 31 * h + l4Protocol;
        return h == 0 ? 1 : h;
    }

    L7Protocol get(long key, long nowNanos) {
        int i = slot(key);
        if (keys[i] != key || nowNanos - expiresNanos[i] > 0) {
            return null;
        }
        return values[protocols[i]];
    }

    void put(long key, L7Protocol protocol, long nowNanos) {
        int i = slot(key);
        keys[i] = key;
        protocols[i] = (byte) protocol.ordinal();
        expiresNanos[i] = nowNanos + ttlNanos;
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }
}
