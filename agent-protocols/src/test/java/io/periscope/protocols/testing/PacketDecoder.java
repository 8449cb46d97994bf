package io.periscope.protocols.testing;

/**
 * Decodes a captured frame down to its TCP or UDP payload: Ethernet (with VLAN tags), Linux
 * cooked (SLL, SLL2), raw IP and BSD loopback; IPv4 and IPv6. Test scope.
 */
public final class PacketDecoder {
    /** A decoded TCP segment or UDP datagram; addresses are 4 or 16 bytes. */
    public record Segment(byte[] srcAddr, byte[] dstAddr, int srcPort, int dstPort, int l4Protocol, long seq,
            int tcpFlags, byte[] data, int payloadOffset, int payloadLength, int ipVersion, int wireLength) {
        public boolean syn() {
            return (tcpFlags & 0x02) != 0;
        }

        public boolean ack() {
            return (tcpFlags & 0x10) != 0;
        }

        public boolean fin() {
            return (tcpFlags & 0x01) != 0;
        }

        public boolean rst() {
            return (tcpFlags & 0x04) != 0;
        }
    }

    private PacketDecoder() {
    }

    /** The segment carried by the frame, or null when it is not TCP/UDP over IP. */
    public static Segment decode(PcapReader.Packet p) {
        byte[] d = p.data();
        int off;
        int etherType;
        switch (p.linkType()) {
            case 1:
                if (d.length < 14) {
                    return null;
                }
                off = 14;
                etherType = u16(d, 12);
                while ((etherType == 0x8100 || etherType == 0x88a8) && off + 4 <= d.length) {
                    etherType = u16(d, off + 2);
                    off += 4;
                }
                break;
            case 113:
                if (d.length < 16) {
                    return null;
                }
                off = 16;
                etherType = u16(d, 14);
                break;
            case 276:
                if (d.length < 20) {
                    return null;
                }
                off = 20;
                etherType = u16(d, 0);
                break;
            case 0:
                off = 4;
                etherType = d.length > 4 && (d[4] >> 4) == 6 ? 0x86dd : 0x0800;
                break;
            case 101:
            case 12:
            case 14:
                off = 0;
                etherType = d.length > 0 && ((d[0] >> 4) & 0xF) == 6 ? 0x86dd : 0x0800;
                break;
            default:
                return null;
        }
        if (etherType == 0x0800) {
            return ipv4(d, off);
        }
        if (etherType == 0x86dd) {
            return ipv6(d, off);
        }
        return null;
    }

    private static Segment ipv4(byte[] d, int off) {
        if (off + 20 > d.length || ((d[off] >> 4) & 0xF) != 4) {
            return null;
        }
        int ihl = (d[off] & 0xF) * 4;
        int total = u16(d, off + 2);
        int proto = d[off + 9] & 0xFF;
        int fragOffset = u16(d, off + 6) & 0x1FFF;
        if (fragOffset != 0) {
            return null;
        }
        byte[] src = new byte[4];
        byte[] dst = new byte[4];
        System.arraycopy(d, off + 12, src, 0, 4);
        System.arraycopy(d, off + 16, dst, 0, 4);
        int wireEnd = total == 0 ? d.length : off + total;
        return l4(d, off + ihl, Math.min(d.length, wireEnd), wireEnd, proto, src, dst, 4);
    }

    private static Segment ipv6(byte[] d, int off) {
        if (off + 40 > d.length) {
            return null;
        }
        int payloadLen = u16(d, off + 4);
        int next = d[off + 6] & 0xFF;
        byte[] src = new byte[16];
        byte[] dst = new byte[16];
        System.arraycopy(d, off + 8, src, 0, 16);
        System.arraycopy(d, off + 24, dst, 0, 16);
        int wireEnd = off + 40 + payloadLen;
        int end = Math.min(d.length, wireEnd);
        int pos = off + 40;
        while (next == 0 || next == 43 || next == 60) {
            if (pos + 2 > end) {
                return null;
            }
            next = d[pos] & 0xFF;
            pos += (d[pos + 1] & 0xFF) * 8 + 8;
        }
        return l4(d, pos, end, wireEnd, next, src, dst, 6);
    }

    private static Segment l4(byte[] d, int off, int end, int wireEnd, int proto, byte[] src, byte[] dst,
            int ipVersion) {
        if (proto == 6) {
            if (off + 20 > end) {
                return null;
            }
            int dataOff = ((d[off + 12] >> 4) & 0xF) * 4;
            long seq = u32(d, off + 4);
            int flags = d[off + 13] & 0xFF;
            int payload = off + dataOff;
            return new Segment(src, dst, u16(d, off), u16(d, off + 2), 6, seq, flags, d, payload,
                    Math.max(0, end - payload), ipVersion, Math.max(0, wireEnd - payload));
        }
        if (proto == 17) {
            if (off + 8 > end) {
                return null;
            }
            return new Segment(src, dst, u16(d, off), u16(d, off + 2), 17, -1, 0, d, off + 8,
                    Math.max(0, end - off - 8), ipVersion, Math.max(0, wireEnd - off - 8));
        }
        return null;
    }

    private static int u16(byte[] d, int i) {
        return ((d[i] & 0xFF) << 8) | (d[i + 1] & 0xFF);
    }

    private static long u32(byte[] d, int i) {
        return ((long) u16(d, i) << 16) | u16(d, i + 2);
    }
}
