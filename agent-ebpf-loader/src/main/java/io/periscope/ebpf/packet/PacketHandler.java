package io.periscope.ebpf.packet;

import org.agrona.DirectBuffer;

/** Receives packets from a {@link PacketRing}, in place in the mapped ring (valid only during the call). */
@FunctionalInterface
public interface PacketHandler {
    /** sll_pkttype: addressed to this host. */
    int PACKET_HOST = 0;
    /** sll_pkttype: broadcast. */
    int PACKET_BROADCAST = 1;
    /** sll_pkttype: multicast. */
    int PACKET_MULTICAST = 2;
    /** sll_pkttype: to another host (promiscuous). */
    int PACKET_OTHERHOST = 3;
    /** sll_pkttype: sent by this host. */
    int PACKET_OUTGOING = 4;

    /**
     * One packet.
     *
     * @param buffer the ring memory
     * @param offset where the frame (link header) starts in {@code buffer}
     * @param capturedLength bytes present (at most the snap length)
     * @param wireLength the packet's length on the wire
     * @param timestampNanos kernel receive time, CLOCK_REALTIME nanoseconds
     * @param ifindex interface it was captured on
     * @param direction sll_pkttype ({@link #PACKET_HOST}, {@link #PACKET_OUTGOING}, ...)
     */
    void onPacket(DirectBuffer buffer, int offset, int capturedLength, int wireLength, long timestampNanos,
                  int ifindex, int direction);
}
