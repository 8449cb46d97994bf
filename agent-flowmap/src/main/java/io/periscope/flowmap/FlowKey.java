package io.periscope.flowmap;

/**
 * A flow key as the caller sees it: source to destination, not normalised (the table
 * normalises, so both directions of a connection find the same flow). Mutable and reusable so
 * that callers (packet decode, eBPF socket events) fill one instance per event without
 * allocating. IPv4 addresses go in the low 32 bits of {@code ...Low} with {@code ...High == 0}.
 */
public final class FlowKey {
    int ipVersion = 4;
    long srcHigh;
    long srcLow;
    long dstHigh;
    long dstLow;
    int srcPort;
    int dstPort;
    int protocol;
    int ifindex;
    int vlanId;

    /** Sets an IPv4 key; addresses are the 32-bit values in network order read as unsigned ints. */
    public FlowKey ipv4(long srcAddress, int srcPort, long dstAddress, int dstPort, int protocol) {
        return set(4, 0, srcAddress & 0xFFFF_FFFFL, srcPort, 0, dstAddress & 0xFFFF_FFFFL, dstPort, protocol);
    }

    /** Sets a key; for IPv4 pass {@code ipVersion=4} and the high words 0. */
    public FlowKey set(int ipVersion, long srcHigh, long srcLow, int srcPort, long dstHigh, long dstLow, int dstPort,
                       int protocol) {
        this.ipVersion = ipVersion;
        this.srcHigh = srcHigh;
        this.srcLow = srcLow;
        this.srcPort = srcPort & 0xFFFF;
        this.dstHigh = dstHigh;
        this.dstLow = dstLow;
        this.dstPort = dstPort & 0xFFFF;
        this.protocol = protocol & 0xFF;
        return this;
    }

    /** Sets the capture interface and VLAN (both 0 when not relevant, e.g. socket-level flows). */
    public FlowKey location(int ifindex, int vlanId) {
        this.ifindex = ifindex;
        this.vlanId = vlanId & 0xFFF;
        return this;
    }

    /** Copies the addresses, ports and protocol of a decoded packet, and the given interface. */
    public FlowKey from(DecodedPacket packet, int ifindex) {
        set(packet.ipVersion, packet.srcHigh, packet.srcLow, packet.srcPort, packet.dstHigh, packet.dstLow,
                packet.dstPort, packet.protocol);
        return location(ifindex, packet.vlanId);
    }

    @Override
    public String toString() {
        return protocol + " " + FlowLog.toInet(ipVersion, srcHigh, srcLow).getHostAddress() + ":" + srcPort + " -> "
                + FlowLog.toInet(ipVersion, dstHigh, dstLow).getHostAddress() + ":" + dstPort + " if" + ifindex
                + " vlan" + vlanId;
    }
}
