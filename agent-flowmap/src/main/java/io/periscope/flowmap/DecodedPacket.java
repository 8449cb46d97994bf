package io.periscope.flowmap;

/**
 * What {@link PacketDecoder} found in one packet: the L3/L4 fields a flow table needs. A mutable,
 * reusable holder (one per decoder thread); fields are valid until the next decode.
 * IPv4 addresses are in the low 32 bits of {@code ...Low} with {@code ...High == 0}.
 */
public final class DecodedPacket {
    /** TCP flag FIN. */
    public static final int FIN = 0x01;
    /** TCP flag SYN. */
    public static final int SYN = 0x02;
    /** TCP flag RST. */
    public static final int RST = 0x04;
    /** TCP flag PSH. */
    public static final int PSH = 0x08;
    /** TCP flag ACK. */
    public static final int ACK = 0x10;

    int ipVersion;
    long srcHigh;
    long srcLow;
    long dstHigh;
    long dstLow;
    int protocol;
    int srcPort;
    int dstPort;
    int tcpFlags;
    int seq;
    int ack;
    int window;
    int ipBytes;
    int payloadBytes;
    int payloadOffset;
    int vlanId;
    int vxlanVni = -1;
    boolean fragmented;
    int icmpType;
    int icmpCode;

    /** 4 or 6. */
    public int ipVersion() {
        return ipVersion;
    }

    /** Source address, high 64 bits (IPv6) or 0. */
    public long srcHigh() {
        return srcHigh;
    }

    /** Source address, low 64 bits (IPv6) or the IPv4 address. */
    public long srcLow() {
        return srcLow;
    }

    /** Destination address, high 64 bits (IPv6) or 0. */
    public long dstHigh() {
        return dstHigh;
    }

    /** Destination address, low 64 bits (IPv6) or the IPv4 address. */
    public long dstLow() {
        return dstLow;
    }

    /** IP protocol number of the transport (after IPv6 extension headers). */
    public int protocol() {
        return protocol;
    }

    /** Source port (TCP/UDP), else 0. */
    public int srcPort() {
        return srcPort;
    }

    /** Destination port (TCP/UDP), else 0. */
    public int dstPort() {
        return dstPort;
    }

    /** TCP flags byte (FIN=1 ... CWR=128), 0 for other protocols. */
    public int tcpFlags() {
        return tcpFlags;
    }

    /** TCP sequence number (unsigned 32 bits held in an int). */
    public int seq() {
        return seq;
    }

    /** TCP acknowledgement number (unsigned 32 bits held in an int). */
    public int ack() {
        return ack;
    }

    /** Raw TCP window field (unscaled). */
    public int window() {
        return window;
    }

    /** IP bytes on the wire: IPv4 total length or IPv6 payload length + 40. */
    public int ipBytes() {
        return ipBytes;
    }

    /** L4 payload bytes according to the IP length (may exceed what was captured). */
    public int payloadBytes() {
        return payloadBytes;
    }

    /** Offset of the L4 payload in the buffer (payload may be truncated by the snap length). */
    public int payloadOffset() {
        return payloadOffset;
    }

    /** Outer 802.1Q VLAN id, 0 when untagged. */
    public int vlanId() {
        return vlanId;
    }

    /** VXLAN network identifier when the packet was decapsulated, else -1. */
    public int vxlanVni() {
        return vxlanVni;
    }

    /** True for the first fragment of a fragmented IP datagram. */
    public boolean fragmented() {
        return fragmented;
    }

    /** ICMP type (ICMP/ICMPv6 only). */
    public int icmpType() {
        return icmpType;
    }

    /** ICMP code (ICMP/ICMPv6 only). */
    public int icmpCode() {
        return icmpCode;
    }

    /** True if the given TCP flag bits are all set. */
    public boolean hasFlags(int flags) {
        return (tcpFlags & flags) == flags;
    }

    void reset() {
        ipVersion = 0;
        srcHigh = 0;
        srcLow = 0;
        dstHigh = 0;
        dstLow = 0;
        protocol = 0;
        srcPort = 0;
        dstPort = 0;
        tcpFlags = 0;
        seq = 0;
        ack = 0;
        window = 0;
        ipBytes = 0;
        payloadBytes = 0;
        payloadOffset = 0;
        vlanId = 0;
        vxlanVni = -1;
        fragmented = false;
        icmpType = 0;
        icmpCode = 0;
    }
}
