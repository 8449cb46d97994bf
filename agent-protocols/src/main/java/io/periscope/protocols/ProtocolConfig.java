package io.periscope.protocols;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Immutable settings of a {@link ProtocolEngine}; made by {@link #builder()}. Every bound on
 * memory is here, with a default that suits a node agent.
 */
public final class ProtocolConfig {
    private static final int PROTOCOLS = L7Protocol.values().length;
    private static final int MAX_PORT = 65_535;
    private static final L7Protocol[] BY_ORDINAL = L7Protocol.values();

    private final boolean[] enabled;
    private final boolean[] shallow;
    private final long[] timeoutNanos;
    private final boolean obfuscate;
    private final int endpointSegments;
    private final boolean endpointReplaceIds;
    private final int maxConnections;
    private final int maxPendingTotal;
    private final int maxPendingPerConnection;
    private final int maxCarryBytes;
    private final int maxInferenceAttempts;
    private final int endpointCacheEntries;
    private final long endpointCacheTtlNanos;
    private final long connectionIdleNanos;
    /** Per port: 1 + the ordinal of the protocol it hints at, 0 for none. */
    private final byte[] portHints;

    private ProtocolConfig(Builder b) {
        enabled = b.enabled.clone();
        shallow = b.shallow.clone();
        timeoutNanos = b.timeoutNanos.clone();
        obfuscate = b.obfuscate;
        endpointSegments = b.endpointSegments;
        endpointReplaceIds = b.endpointReplaceIds;
        maxConnections = b.maxConnections;
        maxPendingTotal = b.maxPendingTotal;
        maxPendingPerConnection = b.maxPendingPerConnection;
        maxCarryBytes = b.maxCarryBytes;
        maxInferenceAttempts = b.maxInferenceAttempts;
        endpointCacheEntries = b.endpointCacheEntries;
        endpointCacheTtlNanos = b.endpointCacheTtlNanos;
        connectionIdleNanos = b.connectionIdleNanos;
        portHints = b.portHints.clone();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The defaults: every implemented protocol on, full parsing, obfuscation on. */
    public static ProtocolConfig defaults() {
        return builder().build();
    }

    public boolean enabled(L7Protocol p) {
        return enabled[p.ordinal()];
    }

    /** Shallow mode: parse only what method, status and latency need. */
    public boolean shallow(L7Protocol p) {
        return shallow[p.ordinal()];
    }

    /** How long a request waits for its response before it ends as TIMEOUT. */
    public long timeoutNanos(L7Protocol p) {
        return timeoutNanos[p.ordinal()];
    }

    /** SQL literals to ?, Redis arguments after the key dropped. Credentials are never kept. */
    public boolean obfuscate() {
        return obfuscate;
    }

    /** How many leading path segments the endpoint keeps. */
    public int endpointSegments() {
        return endpointSegments;
    }

    /** Whether numeric, UUID and long hex path segments become {id} in the endpoint. */
    public boolean endpointReplaceIds() {
        return endpointReplaceIds;
    }

    /** Connections tracked at once; more are counted in connectionsDropped and not parsed. */
    public int maxConnections() {
        return maxConnections;
    }

    /** Requests awaiting their response, over all connections. */
    public int maxPendingTotal() {
        return maxPendingTotal;
    }

    /** Requests awaiting their response on one connection (pipelining depth, h2 streams). */
    public int maxPendingPerConnection() {
        return maxPendingPerConnection;
    }

    /** Bytes of an incomplete message kept per connection and direction until the rest arrives. */
    public int maxCarryBytes() {
        return maxCarryBytes;
    }

    /** Messages a connection may show before inference gives up on it. */
    public int maxInferenceAttempts() {
        return maxInferenceAttempts;
    }

    /** Server endpoints whose protocol is remembered. */
    public int endpointCacheEntries() {
        return endpointCacheEntries;
    }

    public long endpointCacheTtlNanos() {
        return endpointCacheTtlNanos;
    }

    /** A connection silent this long is forgotten (its pending requests end as TIMEOUT). */
    public long connectionIdleNanos() {
        return connectionIdleNanos;
    }

    /**
     * The protocol a port hints at (tried first by inference, with weak checks relaxed), or null.
     * A hint is never the only proof: the bytes must still look like the protocol.
     */
    public L7Protocol portHint(int port) {
        if (port <= 0 || port > MAX_PORT) {
            return null;
        }
        int v = portHints[port];
        return v == 0 ? null : BY_ORDINAL[v - 1];
    }

    /** The ports that hint at {@code p}, ascending. */
    public int[] ports(L7Protocol p) {
        int n = 0;
        int v = p.ordinal() + 1;
        for (int port = 1; port <= MAX_PORT; port++) {
            if (portHints[port] == v) {
                n++;
            }
        }
        int[] out = new int[n];
        n = 0;
        for (int port = 1; port <= MAX_PORT; port++) {
            if (portHints[port] == v) {
                out[n++] = port;
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "ProtocolConfig{enabled=" + Arrays.toString(enabled) + ", shallow=" + Arrays.toString(shallow)
                + ", obfuscate=" + obfuscate + ", endpointSegments=" + endpointSegments
                + ", maxConnections=" + maxConnections + ", maxPendingTotal=" + maxPendingTotal + "}";
    }

    /** Builds a {@link ProtocolConfig}; every setter validates its argument. */
    public static final class Builder {
        private static final long DEFAULT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
        private static final long DNS_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);

        private final boolean[] enabled = new boolean[PROTOCOLS];
        private final boolean[] shallow = new boolean[PROTOCOLS];
        private final long[] timeoutNanos = new long[PROTOCOLS];
        private boolean obfuscate = true;
        private int endpointSegments = 2;
        private boolean endpointReplaceIds = true;
        private int maxConnections = 65_536;
        private int maxPendingTotal = 8_192;
        private int maxPendingPerConnection = 64;
        private int maxCarryBytes = 4_096;
        private int maxInferenceAttempts = 8;
        private int endpointCacheEntries = 4_096;
        private long endpointCacheTtlNanos = TimeUnit.MINUTES.toNanos(5);
        private long connectionIdleNanos = TimeUnit.MINUTES.toNanos(2);
        private final byte[] portHints = new byte[MAX_PORT + 1];

        private Builder() {
            for (L7Protocol p : ProtocolEngine.SUPPORTED) {
                enabled[p.ordinal()] = true;
            }
            ports(L7Protocol.HTTP1, 80, 8080, 8000);
            ports(L7Protocol.HTTP2, 50051);
            ports(L7Protocol.REDIS, 6379);
            ports(L7Protocol.DNS, 53);
            ports(L7Protocol.MYSQL, 3306);
            ports(L7Protocol.POSTGRESQL, 5432);
            Arrays.fill(timeoutNanos, DEFAULT_TIMEOUT_NANOS);
            timeoutNanos[L7Protocol.DNS.ordinal()] = DNS_TIMEOUT_NANOS;
        }

        public Builder enable(L7Protocol p, boolean on) {
            enabled[p.ordinal()] = on;
            return this;
        }

        public Builder shallow(L7Protocol p, boolean on) {
            shallow[p.ordinal()] = on;
            return this;
        }

        /** Shallow mode for every protocol at once. */
        public Builder shallowAll(boolean on) {
            Arrays.fill(shallow, on);
            return this;
        }

        public Builder timeoutNanos(L7Protocol p, long nanos) {
            timeoutNanos[p.ordinal()] = positive("timeoutNanos", nanos);
            return this;
        }

        public Builder obfuscate(boolean on) {
            obfuscate = on;
            return this;
        }

        public Builder endpointSegments(int segments) {
            endpointSegments = (int) positive("endpointSegments", segments);
            return this;
        }

        public Builder endpointReplaceIds(boolean on) {
            endpointReplaceIds = on;
            return this;
        }

        public Builder maxConnections(int n) {
            maxConnections = (int) positive("maxConnections", n);
            return this;
        }

        public Builder maxPendingTotal(int n) {
            maxPendingTotal = (int) positive("maxPendingTotal", n);
            return this;
        }

        public Builder maxPendingPerConnection(int n) {
            maxPendingPerConnection = (int) positive("maxPendingPerConnection", n);
            return this;
        }

        public Builder maxCarryBytes(int n) {
            maxCarryBytes = (int) positive("maxCarryBytes", n);
            return this;
        }

        public Builder maxInferenceAttempts(int n) {
            maxInferenceAttempts = (int) positive("maxInferenceAttempts", n);
            return this;
        }

        public Builder endpointCacheEntries(int n) {
            endpointCacheEntries = (int) positive("endpointCacheEntries", n);
            return this;
        }

        public Builder endpointCacheTtlNanos(long nanos) {
            endpointCacheTtlNanos = positive("endpointCacheTtlNanos", nanos);
            return this;
        }

        public Builder connectionIdleNanos(long nanos) {
            connectionIdleNanos = positive("connectionIdleNanos", nanos);
            return this;
        }

        /**
         * The ports that hint at {@code p}, replacing its earlier ones (none: no hint). Defaults:
         * HTTP/1 80, 8080, 8000; HTTP/2 50051; Redis 6379; DNS 53; MySQL 3306; PostgreSQL 5432.
         * A port hints at one protocol: a later setting for the same port wins.
         */
        public Builder ports(L7Protocol p, int... ports) {
            for (int port : ports) {
                checkPort(port);
            }
            clearPorts(p);
            for (int port : ports) {
                portHints[port] = (byte) (p.ordinal() + 1);
            }
            return this;
        }

        /** Adds the ports {@code first..last} (inclusive) to those that hint at {@code p}. */
        public Builder addPortRange(L7Protocol p, int first, int last) {
            checkPort(first);
            checkPort(last);
            if (first > last) {
                throw new IllegalArgumentException("port range must be low-high, got " + first + "-" + last);
            }
            for (int port = first; port <= last; port++) {
                portHints[port] = (byte) (p.ordinal() + 1);
            }
            return this;
        }

        private void clearPorts(L7Protocol p) {
            byte v = (byte) (p.ordinal() + 1);
            for (int port = 1; port <= MAX_PORT; port++) {
                if (portHints[port] == v) {
                    portHints[port] = 0;
                }
            }
        }

        private static void checkPort(int port) {
            if (port < 1 || port > MAX_PORT) {
                throw new IllegalArgumentException("ports must be 1-" + MAX_PORT + ", got " + port);
            }
        }

        public ProtocolConfig build() {
            return new ProtocolConfig(this);
        }

        private static long positive(String name, long value) {
            if (value <= 0) {
                throw new IllegalArgumentException(name + " must be positive, got " + value);
            }
            return value;
        }
    }
}
