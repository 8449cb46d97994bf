package io.periscope.protocols.testing;

import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.CapturedMessage;
import io.periscope.protocols.Direction;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.RequestLogSink;
import io.periscope.protocols.Role;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Replays a capture through a {@link ProtocolEngine} the way AF_PACKET capture would: TCP payload
 * is put back in order per direction (retransmissions trimmed, out-of-order segments held until
 * the gap fills), each in-order segment is one message; each UDP datagram is one message. The
 * side that sent the SYN (else the first packet) is the "local" end; the role stays UNKNOWN so
 * the engine infers who is the client. Test scope.
 */
public final class PcapReplay {
    private static final int MAX_OUT_OF_ORDER = 64;

    private final ProtocolEngine engine;
    private final List<RequestLog> logs = new ArrayList<>();
    private final RequestLogSink sink = log -> logs.add(new RequestLog().copyFrom(log));
    private final CapturedMessage msg = new CapturedMessage();
    private final Map<String, Flow> flows = new LinkedHashMap<>();

    public PcapReplay(ProtocolConfig config) {
        engine = new ProtocolEngine(config);
    }

    /** Replays {@code file} and returns the request logs ordered by request start time. */
    public static List<RequestLog> replay(Path file, ProtocolConfig config) throws IOException {
        PcapReplay r = new PcapReplay(config);
        r.feed(PcapReader.read(file));
        return r.finish();
    }

    public ProtocolEngine engine() {
        return engine;
    }

    private static final class Flow {
        final long id;
        final byte[] localAddr;
        final int localPort;
        final long[] nextSeq = {-1, -1};
        final List<TreeMap<Long, Pending>> outOfOrder = List.of(new TreeMap<>(), new TreeMap<>());

        Flow(long id, byte[] localAddr, int localPort) {
            this.id = id;
            this.localAddr = localAddr;
            this.localPort = localPort;
        }
    }

    private record Pending(PacketDecoder.Segment seg, long ts, int offset, int length, long trueLength) {
    }

    public void feed(List<PcapReader.Packet> packets) {
        long last = 0;
        for (PcapReader.Packet p : packets) {
            PacketDecoder.Segment s = PacketDecoder.decode(p);
            if (s == null) {
                continue;
            }
            last = Math.max(last, p.timestampNanos());
            String a = Arrays.toString(s.srcAddr()) + ":" + s.srcPort();
            String b = Arrays.toString(s.dstAddr()) + ":" + s.dstPort();
            String key = s.l4Protocol() + (a.compareTo(b) < 0 ? a + "-" + b : b + "-" + a);
            Flow f = flows.get(key);
            if (f == null) {
                boolean synAck = s.syn() && s.ack();
                f = synAck ? new Flow(flows.size() + 1, s.dstAddr(), s.dstPort())
                        : new Flow(flows.size() + 1, s.srcAddr(), s.srcPort());
                flows.put(key, f);
            }
            boolean fromLocal = Arrays.equals(s.srcAddr(), f.localAddr) && s.srcPort() == f.localPort;
            int dir = fromLocal ? 0 : 1;
            // bytes the IP header announces but the capture cut off (not Ethernet trailers)
            long missing = Math.max(0, s.wireLength() - s.payloadLength());
            if (s.l4Protocol() == 17) {
                deliver(f, s, fromLocal, p.timestampNanos(), s.payloadOffset(), s.payloadLength(),
                        s.payloadLength() + missing);
                continue;
            }
            if (s.syn()) {
                f.nextSeq[dir] = (s.seq() + 1) & 0xFFFFFFFFL;
                continue;
            }
            if (s.payloadLength() == 0) {
                continue;
            }
            if (f.nextSeq[dir] < 0) {
                f.nextSeq[dir] = s.seq();
            }
            int diff = (int) (s.seq() - f.nextSeq[dir]);
            int off = s.payloadOffset();
            int len = s.payloadLength();
            if (diff < 0) {
                if (-diff >= len) {
                    continue;
                }
                off += -diff;
                len -= -diff;
                diff = 0;
            }
            if (diff > 0) {
                TreeMap<Long, Pending> ooo = f.outOfOrder.get(dir);
                if (ooo.size() < MAX_OUT_OF_ORDER) {
                    ooo.put(s.seq(), new Pending(s, p.timestampNanos(), off, len, len + missing));
                }
                continue;
            }
            deliverInOrder(f, dir, s, fromLocal, p.timestampNanos(), off, len, len + missing);
        }
        for (Flow f : flows.values()) {
            for (int dir = 0; dir < 2; dir++) {
                // gaps that never filled: deliver what we hold, in order
                for (Pending pd : f.outOfOrder.get(dir).values()) {
                    deliver(f, pd.seg(), dir == 0, pd.ts(), pd.offset(), pd.length(), pd.trueLength());
                }
                f.outOfOrder.get(dir).clear();
            }
        }
        lastNanos = last;
    }

    private long lastNanos;

    private void deliverInOrder(Flow f, int dir, PacketDecoder.Segment s, boolean fromLocal, long ts, int off,
            int len, long trueLength) {
        deliver(f, s, fromLocal, ts, off, len, trueLength);
        f.nextSeq[dir] = (f.nextSeq[dir] + trueLength) & 0xFFFFFFFFL;
        TreeMap<Long, Pending> ooo = f.outOfOrder.get(dir);
        while (!ooo.isEmpty()) {
            Map.Entry<Long, Pending> e = ooo.firstEntry();
            int diff = (int) (e.getKey() - f.nextSeq[dir]);
            if (diff > 0) {
                break;
            }
            ooo.pollFirstEntry();
            Pending pd = e.getValue();
            if (-diff >= pd.length()) {
                continue;
            }
            deliver(f, pd.seg(), fromLocal, pd.ts(), pd.offset() - diff, pd.length() + diff, pd.trueLength() + diff);
            f.nextSeq[dir] = (f.nextSeq[dir] + pd.trueLength() + diff) & 0xFFFFFFFFL;
        }
    }

    private void deliver(Flow f, PacketDecoder.Segment s, boolean fromLocal, long ts, int off, int len,
            long trueLength) {
        if (len <= 0) {
            return;
        }
        msg.clear();
        msg.socketId(f.id).direction(fromLocal ? Direction.EGRESS : Direction.INGRESS).role(Role.UNKNOWN)
                .captureSource(CaptureSource.PACKET).timestampNanos(ts).l4Protocol(s.l4Protocol())
                .ipVersion(s.ipVersion()).tcpSeq(s.seq());
        byte[] local = fromLocal ? s.srcAddr() : s.dstAddr();
        byte[] remote = fromLocal ? s.dstAddr() : s.srcAddr();
        System.arraycopy(local, 0, msg.localAddress(), 0, local.length);
        System.arraycopy(remote, 0, msg.remoteAddress(), 0, remote.length);
        msg.localPort(fromLocal ? s.srcPort() : s.dstPort()).remotePort(fromLocal ? s.dstPort() : s.srcPort());
        msg.payload(new UnsafeBuffer(s.data()), off, len, trueLength);
        engine.onMessage(msg, sink);
    }

    /** Closes every flow (unanswered requests end as TIMEOUT) and returns all logs by start time. */
    public List<RequestLog> finish() {
        for (Flow f : flows.values()) {
            engine.onConnectionClosed(f.id, lastNanos + 1, sink);
        }
        List<RequestLog> out = new ArrayList<>(logs);
        out.sort(Comparator.comparingLong(RequestLog::startNanos));
        return out;
    }
}
