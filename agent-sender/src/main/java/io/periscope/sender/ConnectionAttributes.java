package io.periscope.sender;

import io.periscope.protocols.RequestLog;

import java.util.Arrays;

/**
 * The encoded attributes that stay the same for every span of one connection (addresses, ports,
 * transport, pid, comm, socket id), kept per socket in a small direct-mapped table of one
 * encoder. A keep-alive connection carries many requests; formatting its addresses, checking its
 * comm's UTF-8 and writing a dozen key-value pairs once instead of per span saves about half of
 * a span's encoding (agent-core README, "Session 7"). An entry is used only when every input of
 * the block equals the one it was encoded from, so the bytes are exactly what encoding would
 * write; a reused socket id or a colliding slot just encodes again. One writer: the encoder's
 * thread.
 */
final class ConnectionAttributes {
    /** Slots (a power of two); a node's busiest connections of one producer thread. */
    static final int SLOTS = 256;
    private static final int ADDRESS_BYTES = 16;

    /** One connection's inputs and the attribute bytes encoded from them. */
    static final class Entry {
        boolean valid;
        long socketId;
        int pid;
        int remotePort;
        int localPort;
        int shape;
        final byte[] remoteAddress = new byte[ADDRESS_BYTES];
        final byte[] localAddress = new byte[ADDRESS_BYTES];
        byte[] comm = new byte[16];
        int commLength;
        byte[] bytes = new byte[256];
        int length;
        /** Fields the block replaced as malformed UTF-8, counted again on every use. */
        int invalidUtf8Fields;

        /** Whether this entry was encoded from exactly these inputs. */
        boolean matches(RequestLog r, int shapeOf) {
            return valid && socketId == r.socketId() && shape == shapeOf && pid == r.pid()
                    && remotePort == r.remotePort() && localPort == r.localPort()
                    && Arrays.equals(remoteAddress, 0, ADDRESS_BYTES, r.remoteAddress(), 0, ADDRESS_BYTES)
                    && Arrays.equals(localAddress, 0, ADDRESS_BYTES, r.localAddress(), 0, ADDRESS_BYTES)
                    && Arrays.equals(comm, 0, commLength, r.comm().array(), 0, r.comm().length());
        }

        /** Takes {@code r}'s inputs and the block's bytes {@code src[from, to)}. */
        void store(RequestLog r, int shapeOf, byte[] src, int from, int to, int invalid) {
            socketId = r.socketId();
            pid = r.pid();
            remotePort = r.remotePort();
            localPort = r.localPort();
            shape = shapeOf;
            System.arraycopy(r.remoteAddress(), 0, remoteAddress, 0, ADDRESS_BYTES);
            System.arraycopy(r.localAddress(), 0, localAddress, 0, ADDRESS_BYTES);
            int n = r.comm().length();
            if (comm.length < n) {
                comm = new byte[n];
            }
            System.arraycopy(r.comm().array(), 0, comm, 0, n);
            commLength = n;
            length = to - from;
            if (bytes.length < length) {
                bytes = new byte[Math.max(length, bytes.length * 2)];
            }
            System.arraycopy(src, from, bytes, 0, length);
            invalidUtf8Fields = invalid;
            valid = true;
        }
    }

    private final Entry[] entries = new Entry[SLOTS];
    private long hits;
    private long misses;

    ConnectionAttributes() {
        for (int i = 0; i < SLOTS; i++) {
            entries[i] = new Entry();
        }
    }

    /** The slot of {@code socketId}: a mixed hash, since the kernel's ids are sequential. */
    Entry slot(long socketId) {
        long h = socketId * 0x9E3779B97F4A7C15L;
        return entries[(int) (h >>> 56) & (SLOTS - 1)];
    }

    void hit() {
        hits++;
    }

    void miss() {
        misses++;
    }

    /** Spans whose connection block was copied from the table (for tests and benchmarks). */
    long hits() {
        return hits;
    }

    /** Spans whose connection block was encoded afresh. */
    long misses() {
        return misses;
    }

    /**
     * Everything besides the compared fields that the block's bytes depend on, packed in one int:
     * role, protocol, capture source, transport, IP version, and whether server.address came
     * from the socket (no Host header), and whether the pid is left to the resource.
     */
    static int shape(RequestLog r, boolean serverAddressFromSocket, boolean pidOnResource) {
        return r.role().ordinal()
                | r.protocol().ordinal() << 4
                | r.captureSource().ordinal() << 10
                | (r.l4Protocol() & 0xFF) << 12
                | (r.ipVersion() & 0xF) << 20
                | (serverAddressFromSocket ? 1 << 24 : 0)
                | (pidOnResource ? 1 << 25 : 0);
    }
}
