package io.periscope.bench.flow;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * In-memory Ethernet frames for the flow benchmarks, laid out back to back in one direct buffer
 * like packets in a TPACKET_V3 block: TCP conversations (client data, server ACK) or UDP datagrams
 * over many flows, interleaved across flows.
 */
final class FlowPackets {
    static final int ETH_IP_TCP_BYTES = 14 + 20 + 20;
    static final int ETH_IP_UDP_BYTES = 14 + 20 + 8;

    final UnsafeBuffer buffer;
    final int[] offsets;
    final int[] lengths;
    /** Offset of the TCP sequence field of each packet (client data) or ACK field (server ACK); -1 for UDP. */
    final int[] seqFieldOffsets;
    final int[] baseSeq;
    final int count;
    final int bytesPerFlowPerPass;

    private FlowPackets(int count, int capacityBytes, int bytesPerFlowPerPass) {
        this.buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacityBytes, 64));
        this.offsets = new int[count];
        this.lengths = new int[count];
        this.seqFieldOffsets = new int[count];
        this.baseSeq = new int[count];
        this.count = count;
        this.bytesPerFlowPerPass = bytesPerFlowPerPass;
    }

    /**
     * TCP: {@code flows} connections, each sending {@code rounds} data segments of
     * {@code payloadBytes} (captured: headers only, as with a short snap length) and their ACKs.
     */
    static FlowPackets tcp(int flows, int rounds, int payloadBytes) {
        int count = flows * rounds * 2;
        FlowPackets p = new FlowPackets(count, count * 64, rounds * payloadBytes);
        int pos = 0;
        int n = 0;
        for (int r = 0; r < rounds; r++) {
            for (int f = 0; f < flows; f++) {
                int client = 0x0A000000 | f;
                int server = 0x0A640001;
                int clientPort = 32768 + (f % 28000);
                int seq = 1000 + r * payloadBytes;
                pos = p.put(n++, pos, client, clientPort, server, 8080, 0x18, seq, 1, payloadBytes, 6);
                pos = p.put(n++, pos, server, 8080, client, clientPort, 0x10, 1, seq + payloadBytes, 0, 6);
            }
        }
        return p;
    }

    /** UDP: {@code flows} flows, {@code rounds} datagrams of {@code payloadBytes} each. */
    static FlowPackets udp(int flows, int rounds, int payloadBytes) {
        int count = flows * rounds;
        FlowPackets p = new FlowPackets(count, count * 64, 0);
        int pos = 0;
        int n = 0;
        for (int r = 0; r < rounds; r++) {
            for (int f = 0; f < flows; f++) {
                pos = p.put(n++, pos, 0x0A000000 | f, 40000 + (f % 20000), 0x0A640001, 5201, 0, 0, 0, payloadBytes,
                        17);
            }
        }
        return p;
    }

    private int put(int n, int pos, int src, int sport, int dst, int dport, int flags, int seq, int ack, int payload,
                    int protocol) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.BIG_ENDIAN);
        b.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        int l4 = protocol == 6 ? 20 : 8;
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4 + payload)).putShort((short) 0)
                .putShort((short) 0x4000).put((byte) 64).put((byte) protocol).putShort((short) 0).putInt(src)
                .putInt(dst);
        b.putShort((short) sport).putShort((short) dport);
        if (protocol == 6) {
            b.putInt(seq).putInt(ack).put((byte) 0x50).put((byte) flags).putShort((short) 512).putInt(0);
        } else {
            b.putShort((short) (8 + payload)).putShort((short) 0);
        }
        int length = b.position();
        buffer.putBytes(pos, b.array(), 0, length);
        offsets[n] = pos;
        lengths[n] = length;
        if (protocol == 6) {
            boolean data = payload > 0;
            seqFieldOffsets[n] = pos + 14 + 20 + (data ? 4 : 8);
            baseSeq[n] = data ? seq : ack;
        } else {
            seqFieldOffsets[n] = -1;
        }
        return pos + ((length + 15) & ~15);
    }

    /** Moves every conversation forward by one pass so replayed segments stay in order (not retransmissions). */
    void advance(int pass) {
        int delta = pass * bytesPerFlowPerPass;
        for (int i = 0; i < count; i++) {
            int off = seqFieldOffsets[i];
            if (off >= 0) {
                buffer.putInt(off, baseSeq[i] + delta, ByteOrder.BIG_ENDIAN);
            }
        }
    }
}
