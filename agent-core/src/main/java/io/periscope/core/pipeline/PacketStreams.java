package io.periscope.core.pipeline;

import io.periscope.flowmap.DecodedPacket;
import io.periscope.flowmap.FlowLog;
import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.CapturedMessage;
import io.periscope.protocols.Direction;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLogSink;
import io.periscope.protocols.Role;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * Packets to the protocol engine: TCP payload reassembled per direction (in-order segments are
 * handed over in place; out-of-order ones wait in a small bounded buffer until the gap fills),
 * UDP datagrams as they come. Requests are seen as from the client's side: client to server is
 * egress, and the client is the side that sent the SYN (or, without a handshake, the side with the
 * higher port). Single-threaded, like the engine it feeds.
 */
public final class PacketStreams {
    /** Segments waiting for an earlier one, per direction. */
    private static final int MAX_OUT_OF_ORDER_SEGMENTS = 16;
    /** Bytes waiting per direction; beyond this the gap is given up and counted. */
    private static final int MAX_OUT_OF_ORDER_BYTES = 64 * 1024;
    private static final int TCP = 6;
    private static final int UDP = 17;

    private final ProtocolEngine engine;
    private final RequestLogSink sink;
    private final int maxStreams;
    private final Long2ObjectHashMap<Stream> streams = new Long2ObjectHashMap<>();
    private final CapturedMessage message = new CapturedMessage();
    private final UnsafeBuffer heldView = new UnsafeBuffer(new byte[0]);
    private long nextStreamId = 1;
    private long duplicateSegments;
    private long gaps;
    private long streamsDropped;

    /** One connection's reassembly state. */
    private static final class Stream {
        final long id;
        final int ipVersion;
        final long clientHigh;
        final long clientLow;
        final int clientPort;
        final long serverHigh;
        final long serverLow;
        final int serverPort;
        final int protocol;
        /** Next expected sequence number per direction (0 client to server); valid if {@link #synced}. */
        final long[] nextSeq = new long[2];
        final boolean[] synced = new boolean[2];
        final boolean[] finished = new boolean[2];
        final List<List<Held>> held = List.of(new ArrayList<>(), new ArrayList<>());
        final int[] heldBytes = new int[2];

        Stream(long id, DecodedPacket p, boolean srcIsClient) {
            this.id = id;
            ipVersion = p.ipVersion();
            protocol = p.protocol();
            clientHigh = srcIsClient ? p.srcHigh() : p.dstHigh();
            clientLow = srcIsClient ? p.srcLow() : p.dstLow();
            clientPort = srcIsClient ? p.srcPort() : p.dstPort();
            serverHigh = srcIsClient ? p.dstHigh() : p.srcHigh();
            serverLow = srcIsClient ? p.dstLow() : p.srcLow();
            serverPort = srcIsClient ? p.dstPort() : p.srcPort();
        }

        boolean matches(DecodedPacket p) {
            boolean forward = p.srcHigh() == clientHigh && p.srcLow() == clientLow && p.srcPort() == clientPort
                    && p.dstHigh() == serverHigh && p.dstLow() == serverLow && p.dstPort() == serverPort;
            boolean backward = p.dstHigh() == clientHigh && p.dstLow() == clientLow && p.dstPort() == clientPort
                    && p.srcHigh() == serverHigh && p.srcLow() == serverLow && p.srcPort() == serverPort;
            return p.protocol() == protocol && (forward || backward);
        }

        int direction(DecodedPacket p) {
            return p.srcPort() == clientPort && p.srcLow() == clientLow && p.srcHigh() == clientHigh ? 0 : 1;
        }
    }

    /** A segment copied out of the packet buffer while it waits for the gap before it. */
    private record Held(long seq, byte[] bytes, long timestampNanos) {
    }

    public PacketStreams(ProtocolEngine engine, RequestLogSink sink, int maxStreams) {
        this.engine = engine;
        this.sink = sink;
        this.maxStreams = maxStreams;
    }

    /** Feeds one decoded packet; {@code buffer} holds it (the payload at {@code payloadOffset()}). */
    public void onPacket(DecodedPacket p, DirectBuffer buffer, int capturedEnd, long timestampNanos, int ifindex) {
        if (p.protocol() != TCP && p.protocol() != UDP) {
            return;
        }
        long key = key(p);
        Stream s = streams.get(key);
        if (s != null && !s.matches(p)) {
            // A hash collision: the older stream gives way.
            engine.onConnectionClosed(s.id, timestampNanos, sink);
            streams.remove(key);
            s = null;
        }
        boolean syn = p.protocol() == TCP && p.hasFlags(DecodedPacket.SYN);
        if (s == null) {
            if (streams.size() >= maxStreams) {
                streamsDropped++;
                return;
            }
            boolean srcIsClient = syn ? !p.hasFlags(DecodedPacket.ACK) : p.srcPort() > p.dstPort()
                    || p.srcPort() == p.dstPort();
            s = new Stream(nextStreamId++, p, srcIsClient);
            streams.put(key, s);
        }
        int dir = s.direction(p);
        int available = Math.max(0, Math.min(p.payloadBytes(), capturedEnd - p.payloadOffset()));
        if (p.protocol() == UDP) {
            deliver(s, dir, buffer, p.payloadOffset(), available, p.payloadBytes(), timestampNanos, -1, ifindex);
            return;
        }
        long seq = p.seq() & 0xFFFFFFFFL;
        if (syn) {
            s.nextSeq[dir] = (seq + 1) & 0xFFFFFFFFL;
            s.synced[dir] = true;
        } else if (available > 0) {
            onSegment(s, dir, seq, buffer, p.payloadOffset(), available, timestampNanos, ifindex);
        }
        if (p.hasFlags(DecodedPacket.FIN)) {
            s.finished[dir] = true;
        }
        if (p.hasFlags(DecodedPacket.RST) || (s.finished[0] && s.finished[1])) {
            engine.onConnectionClosed(s.id, timestampNanos, sink);
            streams.remove(key);
        }
    }

    private void onSegment(Stream s, int dir, long seq, DirectBuffer buffer, int offset, int length,
            long timestampNanos, int ifindex) {
        if (!s.synced[dir]) {
            // Capture began mid-connection: take this segment as the start of the stream.
            s.nextSeq[dir] = seq;
            s.synced[dir] = true;
        }
        long behind = (s.nextSeq[dir] - seq) & 0xFFFFFFFFL;
        if (behind != 0 && behind < 0x80000000L) {
            // Starts before what we already have: a retransmission, maybe with new bytes at its end.
            if (behind >= length) {
                duplicateSegments++;
                return;
            }
            offset += (int) behind;
            length -= (int) behind;
            seq = s.nextSeq[dir];
        }
        if (seq == s.nextSeq[dir]) {
            deliver(s, dir, buffer, offset, length, length, timestampNanos, seq, ifindex);
            s.nextSeq[dir] = (seq + length) & 0xFFFFFFFFL;
            drainHeld(s, dir, ifindex);
            return;
        }
        List<Held> held = s.held.get(dir);
        if (held.size() < MAX_OUT_OF_ORDER_SEGMENTS && s.heldBytes[dir] + length <= MAX_OUT_OF_ORDER_BYTES) {
            byte[] copy = new byte[length];
            buffer.getBytes(offset, copy);
            held.add(new Held(seq, copy, timestampNanos));
            s.heldBytes[dir] += length;
            return;
        }
        // No room to wait for the gap: give it up and go on from here; the parsers resync.
        gaps++;
        held.clear();
        s.heldBytes[dir] = 0;
        deliver(s, dir, buffer, offset, length, length, timestampNanos, seq, ifindex);
        s.nextSeq[dir] = (seq + length) & 0xFFFFFFFFL;
    }

    private void drainHeld(Stream s, int dir, int ifindex) {
        List<Held> held = s.held.get(dir);
        boolean progress = true;
        while (progress && !held.isEmpty()) {
            progress = false;
            for (int i = 0; i < held.size(); i++) {
                Held h = held.get(i);
                long behind = (s.nextSeq[dir] - h.seq()) & 0xFFFFFFFFL;
                if (behind < 0x80000000L) {
                    held.remove(i);
                    s.heldBytes[dir] -= h.bytes().length;
                    if (behind < h.bytes().length) {
                        heldView.wrap(h.bytes());
                        int skip = (int) behind;
                        deliver(s, dir, heldView, skip, h.bytes().length - skip, h.bytes().length - skip,
                                h.timestampNanos(), s.nextSeq[dir], ifindex);
                        s.nextSeq[dir] = (h.seq() + h.bytes().length) & 0xFFFFFFFFL;
                    } else {
                        duplicateSegments++;
                    }
                    progress = true;
                    break;
                }
            }
        }
    }

    private void deliver(Stream s, int dir, DirectBuffer buffer, int offset, int captured, long trueLength,
            long timestampNanos, long seq, int ifindex) {
        if (captured <= 0) {
            return;
        }
        boolean fromClient = dir == 0;
        CapturedMessage m = message.clear()
                .socketId(s.id)
                .direction(fromClient ? Direction.EGRESS : Direction.INGRESS)
                .role(Role.CLIENT)
                .captureSource(CaptureSource.PACKET)
                .timestampNanos(timestampNanos)
                .tcpSeq(seq)
                .ipVersion(s.ipVersion)
                .localPort(s.clientPort)
                .remotePort(s.serverPort)
                .l4Protocol(s.protocol)
                .interfaceIndex(ifindex)
                .payload(buffer, offset, captured, trueLength);
        FlowLog.writeAddress(m.localAddress(), s.ipVersion, s.clientHigh, s.clientLow);
        FlowLog.writeAddress(m.remoteAddress(), s.ipVersion, s.serverHigh, s.serverLow);
        engine.onMessage(m, sink);
    }

    /** A direction-independent hash of the 5-tuple. */
    private static long key(DecodedPacket p) {
        long a = mix(p.srcHigh() * 31 + p.srcLow()) ^ (p.srcPort() * 0x9E3779B97F4A7C15L);
        long b = mix(p.dstHigh() * 31 + p.dstLow()) ^ (p.dstPort() * 0x9E3779B97F4A7C15L);
        return mix((a + b) ^ (a * b) ^ p.protocol());
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        return x;
    }

    /** Closes every open stream (end of a capture): the engine ends what it can. */
    public void closeAll(long timestampNanos) {
        for (Stream s : streams.values()) {
            engine.onConnectionClosed(s.id, timestampNanos, sink);
        }
        streams.clear();
    }

    public long duplicateSegments() {
        return duplicateSegments;
    }

    /** Holes given up because the out-of-order buffer was full. */
    public long gaps() {
        return gaps;
    }

    public long streamsDropped() {
        return streamsDropped;
    }
}
