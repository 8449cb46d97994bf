package io.periscope.flowmap;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;

/**
 * Decodes Ethernet / 802.1Q / IPv4 / IPv6 (+ extension headers) / TCP / UDP / ICMP in place from a
 * {@link DirectBuffer}, flyweight style: no copy, no allocation; the result goes into a reusable
 * {@link DecodedPacket}. IPv4/IPv6 fragments are counted, not reassembled: first fragments are
 * decoded (they carry the ports), later fragments return {@link #FRAGMENT}. VXLAN (UDP port
 * 4789 by default) is decapsulated when enabled. Every packet that is not decoded is counted
 * by reason. One decoder per thread.
 */
public final class PacketDecoder {
    /** Decoded: the {@link DecodedPacket} holds L3/L4 fields. */
    public static final int OK = 0;
    /** Not IPv4/IPv6 (ARP, LLDP, ...). */
    public static final int NOT_IP = 1;
    /** Captured bytes end before a header does. */
    public static final int TRUNCATED = 2;
    /** A non-first IP fragment: no L4 header to key a flow on. */
    public static final int FRAGMENT = 3;
    /** A header with impossible values (bad version, length smaller than the header, ...). */
    public static final int MALFORMED = 4;

    /** Default VXLAN UDP port (IANA). */
    public static final int VXLAN_PORT = 4789;

    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;
    private static final int ETH_HEADER_BYTES = 14;
    private static final int VLAN_TAG_BYTES = 4;
    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final int ETHERTYPE_VLAN = 0x8100;
    private static final int ETHERTYPE_QINQ = 0x88A8;
    private static final int MAX_VLAN_TAGS = 2;
    private static final int IPV4_MIN_HEADER_BYTES = 20;
    private static final int IPV6_HEADER_BYTES = 40;
    private static final int MAX_IPV6_EXTENSIONS = 8;
    private static final int TCP_MIN_HEADER_BYTES = 20;
    private static final int UDP_HEADER_BYTES = 8;
    private static final int ICMP_MIN_BYTES = 4;
    private static final int VXLAN_HEADER_BYTES = 8;
    private static final int VXLAN_FLAG_VNI_VALID = 0x08;

    /** IP protocol numbers. */
    public static final int PROTO_ICMP = 1;
    /** TCP. */
    public static final int PROTO_TCP = 6;
    /** UDP. */
    public static final int PROTO_UDP = 17;
    /** ICMPv6. */
    public static final int PROTO_ICMPV6 = 58;
    private static final int IPV6_HOP_BY_HOP = 0;
    private static final int IPV6_ROUTING = 43;
    private static final int IPV6_FRAGMENT = 44;
    private static final int IPV6_AH = 51;
    private static final int IPV6_DEST_OPTS = 60;
    private static final int IPV6_MOBILITY = 135;

    private final boolean vxlanEnabled;
    private final int vxlanPort;
    private final long[] results = new long[MALFORMED + 1];
    private long fragments;
    private long vxlanDecapsulated;

    /** A decoder without VXLAN decapsulation. */
    public PacketDecoder() {
        this(false, VXLAN_PORT);
    }

    /**
     * A decoder.
     *
     * @param vxlanEnabled decapsulate VXLAN and decode the inner packet instead of the outer
     * @param vxlanPort UDP destination port that marks VXLAN
     */
    public PacketDecoder(boolean vxlanEnabled, int vxlanPort) {
        this.vxlanEnabled = vxlanEnabled;
        this.vxlanPort = vxlanPort;
    }

    /**
     * Decodes an Ethernet frame.
     *
     * @param buffer the bytes
     * @param offset where the frame starts
     * @param capturedLength bytes available in the buffer
     * @param out receives the fields
     * @return {@link #OK} or the reason it could not be decoded (also counted)
     */
    public int decodeEthernet(DirectBuffer buffer, int offset, int capturedLength, DecodedPacket out) {
        out.reset();
        int result = ethernet(buffer, offset, offset + capturedLength, out, true);
        results[result]++;
        return result;
    }

    /**
     * Decodes a packet that starts at the IP header (raw IP link types, tun devices, eBPF).
     *
     * @return {@link #OK} or the reason it could not be decoded (also counted)
     */
    public int decodeIp(DirectBuffer buffer, int offset, int capturedLength, DecodedPacket out) {
        out.reset();
        int end = offset + capturedLength;
        int result;
        if (capturedLength < 1) {
            result = TRUNCATED;
        } else {
            int version = (buffer.getByte(offset) >> 4) & 0xF;
            result = version == 4 ? ipv4(buffer, offset, end, out, true)
                    : version == 6 ? ipv6(buffer, offset, end, out, true) : NOT_IP;
        }
        results[result]++;
        return result;
    }

    private int ethernet(DirectBuffer buffer, int offset, int end, DecodedPacket out, boolean outer) {
        if (end - offset < ETH_HEADER_BYTES) {
            return TRUNCATED;
        }
        int pos = offset + 12;
        int etherType = buffer.getShort(pos, NET) & 0xFFFF;
        pos += 2;
        int tags = 0;
        while ((etherType == ETHERTYPE_VLAN || etherType == ETHERTYPE_QINQ) && tags < MAX_VLAN_TAGS) {
            if (end - pos < VLAN_TAG_BYTES) {
                return TRUNCATED;
            }
            if (tags == 0 && outer) {
                out.vlanId = buffer.getShort(pos, NET) & 0x0FFF;
            }
            etherType = buffer.getShort(pos + 2, NET) & 0xFFFF;
            pos += VLAN_TAG_BYTES;
            tags++;
        }
        if (etherType == ETHERTYPE_IPV4) {
            return ipv4(buffer, pos, end, out, outer);
        } else if (etherType == ETHERTYPE_IPV6) {
            return ipv6(buffer, pos, end, out, outer);
        }
        return NOT_IP;
    }

    private int ipv4(DirectBuffer buffer, int pos, int end, DecodedPacket out, boolean outer) {
        if (end - pos < IPV4_MIN_HEADER_BYTES) {
            return TRUNCATED;
        }
        int versionIhl = buffer.getByte(pos) & 0xFF;
        int headerBytes = (versionIhl & 0x0F) * 4;
        int totalBytes = buffer.getShort(pos + 2, NET) & 0xFFFF;
        if ((versionIhl >> 4) != 4 || headerBytes < IPV4_MIN_HEADER_BYTES || totalBytes < headerBytes) {
            return MALFORMED;
        }
        if (end - pos < headerBytes) {
            return TRUNCATED;
        }
        int fragmentField = buffer.getShort(pos + 6, NET) & 0xFFFF;
        boolean moreFragments = (fragmentField & 0x2000) != 0;
        int fragmentOffset = fragmentField & 0x1FFF;
        out.ipVersion = 4;
        out.srcHigh = 0;
        out.srcLow = buffer.getInt(pos + 12, NET) & 0xFFFF_FFFFL;
        out.dstHigh = 0;
        out.dstLow = buffer.getInt(pos + 16, NET) & 0xFFFF_FFFFL;
        out.protocol = buffer.getByte(pos + 9) & 0xFF;
        out.ipBytes = totalBytes;
        if (moreFragments || fragmentOffset != 0) {
            fragments++;
            if (fragmentOffset != 0) {
                return FRAGMENT;
            }
            out.fragmented = true;
        }
        return transport(buffer, pos + headerBytes, end, totalBytes - headerBytes, out, outer);
    }

    private int ipv6(DirectBuffer buffer, int pos, int end, DecodedPacket out, boolean outer) {
        if (end - pos < IPV6_HEADER_BYTES) {
            return TRUNCATED;
        }
        if (((buffer.getByte(pos) >> 4) & 0xF) != 6) {
            return MALFORMED;
        }
        int payloadLength = buffer.getShort(pos + 4, NET) & 0xFFFF;
        int next = buffer.getByte(pos + 6) & 0xFF;
        out.ipVersion = 6;
        out.srcHigh = buffer.getLong(pos + 8, NET);
        out.srcLow = buffer.getLong(pos + 16, NET);
        out.dstHigh = buffer.getLong(pos + 24, NET);
        out.dstLow = buffer.getLong(pos + 32, NET);
        out.ipBytes = payloadLength + IPV6_HEADER_BYTES;
        int p = pos + IPV6_HEADER_BYTES;
        int remaining = payloadLength;
        for (int i = 0; i < MAX_IPV6_EXTENSIONS; i++) {
            int extBytes;
            if (next == IPV6_HOP_BY_HOP || next == IPV6_ROUTING || next == IPV6_DEST_OPTS || next == IPV6_MOBILITY) {
                if (end - p < 2) {
                    return TRUNCATED;
                }
                extBytes = ((buffer.getByte(p + 1) & 0xFF) + 1) * 8;
            } else if (next == IPV6_FRAGMENT) {
                if (end - p < 8) {
                    return TRUNCATED;
                }
                int fragmentField = buffer.getShort(p + 2, NET) & 0xFFFF;
                fragments++;
                if ((fragmentField & 0xFFF8) != 0) {
                    out.protocol = buffer.getByte(p) & 0xFF;
                    return FRAGMENT;
                }
                out.fragmented = true;
                extBytes = 8;
            } else if (next == IPV6_AH) {
                if (end - p < 2) {
                    return TRUNCATED;
                }
                extBytes = ((buffer.getByte(p + 1) & 0xFF) + 2) * 4;
            } else {
                break;
            }
            if (extBytes > remaining) {
                return MALFORMED;
            }
            next = buffer.getByte(p) & 0xFF;
            p += extBytes;
            remaining -= extBytes;
        }
        out.protocol = next;
        return transport(buffer, p, end, remaining, out, outer);
    }

    private int transport(DirectBuffer buffer, int pos, int end, int l4Bytes, DecodedPacket out, boolean outer) {
        int protocol = out.protocol;
        if (protocol == PROTO_TCP) {
            if (end - pos < TCP_MIN_HEADER_BYTES) {
                return TRUNCATED;
            }
            int headerBytes = ((buffer.getByte(pos + 12) >> 4) & 0xF) * 4;
            if (headerBytes < TCP_MIN_HEADER_BYTES || headerBytes > l4Bytes) {
                return MALFORMED;
            }
            out.srcPort = buffer.getShort(pos, NET) & 0xFFFF;
            out.dstPort = buffer.getShort(pos + 2, NET) & 0xFFFF;
            out.seq = buffer.getInt(pos + 4, NET);
            out.ack = buffer.getInt(pos + 8, NET);
            out.tcpFlags = buffer.getByte(pos + 13) & 0xFF;
            out.window = buffer.getShort(pos + 14, NET) & 0xFFFF;
            out.payloadOffset = pos + headerBytes;
            out.payloadBytes = l4Bytes - headerBytes;
            return OK;
        } else if (protocol == PROTO_UDP) {
            if (end - pos < UDP_HEADER_BYTES) {
                return TRUNCATED;
            }
            if (l4Bytes < UDP_HEADER_BYTES) {
                return MALFORMED;
            }
            out.srcPort = buffer.getShort(pos, NET) & 0xFFFF;
            out.dstPort = buffer.getShort(pos + 2, NET) & 0xFFFF;
            out.payloadOffset = pos + UDP_HEADER_BYTES;
            out.payloadBytes = l4Bytes - UDP_HEADER_BYTES;
            if (vxlanEnabled && outer && out.dstPort == vxlanPort && !out.fragmented) {
                return vxlan(buffer, pos + UDP_HEADER_BYTES, end, out);
            }
            return OK;
        } else if (protocol == PROTO_ICMP || protocol == PROTO_ICMPV6) {
            if (end - pos < ICMP_MIN_BYTES) {
                return TRUNCATED;
            }
            out.icmpType = buffer.getByte(pos) & 0xFF;
            out.icmpCode = buffer.getByte(pos + 1) & 0xFF;
            out.payloadOffset = pos + ICMP_MIN_BYTES;
            out.payloadBytes = Math.max(0, l4Bytes - ICMP_MIN_BYTES);
            return OK;
        }
        // Other protocols (ESP, GRE, SCTP, ...): keyed by addresses and protocol only.
        out.payloadOffset = pos;
        out.payloadBytes = l4Bytes;
        return OK;
    }

    private int vxlan(DirectBuffer buffer, int pos, int end, DecodedPacket out) {
        if (end - pos < VXLAN_HEADER_BYTES) {
            return TRUNCATED;
        }
        if ((buffer.getByte(pos) & VXLAN_FLAG_VNI_VALID) == 0) {
            return OK;
        }
        int vni = (buffer.getInt(pos + 4, NET) >>> 8) & 0xFF_FFFF;
        int vlan = out.vlanId;
        out.reset();
        out.vlanId = vlan;
        out.vxlanVni = vni;
        vxlanDecapsulated++;
        return ethernet(buffer, pos + VXLAN_HEADER_BYTES, end, out, false);
    }

    /** Packets that ended with the given result code ({@link #OK}, {@link #NOT_IP}, ...). */
    public long count(int result) {
        return results[result];
    }

    /** IP fragments seen (first and later fragments, IPv4 and IPv6). */
    public long fragments() {
        return fragments;
    }

    /** VXLAN packets decapsulated. */
    public long vxlanDecapsulated() {
        return vxlanDecapsulated;
    }
}
