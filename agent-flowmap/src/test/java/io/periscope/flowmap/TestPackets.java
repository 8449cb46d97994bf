package io.periscope.flowmap;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/** Builds Ethernet frames for tests: IPv4/IPv6, TCP/UDP/ICMP, optional VLAN tag and IPv6 extension header. */
final class TestPackets {
    private int vlanId = -1;
    private boolean ipv6HopByHop;
    private int fragmentOffsetUnits;
    private boolean moreFragments;

    static TestPackets packets() {
        return new TestPackets();
    }

    TestPackets vlan(int id) {
        this.vlanId = id;
        return this;
    }

    TestPackets hopByHop() {
        this.ipv6HopByHop = true;
        return this;
    }

    TestPackets fragment(int offsetUnits, boolean more) {
        this.fragmentOffsetUnits = offsetUnits;
        this.moreFragments = more;
        return this;
    }

    byte[] tcp(String src, int sport, String dst, int dport, int flags, int seq, int ack, int window, int payload) {
        ByteBuffer l4 = ByteBuffer.allocate(20 + payload);
        l4.putShort((short) sport).putShort((short) dport).putInt(seq).putInt(ack);
        l4.put((byte) (5 << 4)).put((byte) flags).putShort((short) window).putShort((short) 0).putShort((short) 0);
        return ip(src, dst, 6, l4.array());
    }

    byte[] udp(String src, int sport, String dst, int dport, byte[] payload) {
        ByteBuffer l4 = ByteBuffer.allocate(8 + payload.length);
        l4.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0);
        l4.put(payload);
        return ip(src, dst, 17, l4.array());
    }

    byte[] icmpEcho(String src, String dst) {
        boolean v6 = src.contains(":");
        byte[] l4 = {(byte) (v6 ? 128 : 8), 0, 0, 0, 0, 1, 0, 1};
        return ip(src, dst, v6 ? 58 : 1, l4);
    }

    byte[] ip(String src, String dst, int protocol, byte[] l4) {
        byte[] s = addr(src);
        byte[] d = addr(dst);
        ByteBuffer frame = ByteBuffer.allocate(14 + 4 + 40 + 8 + l4.length);
        frame.put(new byte[] {2, 0, 0, 0, 0, 2}).put(new byte[] {2, 0, 0, 0, 0, 1});
        if (vlanId >= 0) {
            frame.putShort((short) 0x8100).putShort((short) vlanId);
        }
        if (s.length == 4) {
            frame.putShort((short) 0x0800);
            frame.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length)).putShort((short) 1);
            frame.putShort((short) ((moreFragments ? 0x2000 : 0) | fragmentOffsetUnits));
            frame.put((byte) 64).put((byte) protocol).putShort((short) 0).put(s).put(d);
        } else {
            frame.putShort((short) 0x86DD);
            int ext = ipv6HopByHop ? 8 : 0;
            frame.putInt(6 << 28).putShort((short) (ext + l4.length)).put((byte) (ipv6HopByHop ? 0 : protocol));
            frame.put((byte) 64).put(s).put(d);
            if (ipv6HopByHop) {
                frame.put((byte) protocol).put((byte) 0).put(new byte[] {1, 4, 0, 0, 0, 0});
            }
        }
        frame.put(l4);
        byte[] out = new byte[frame.position()];
        frame.flip();
        frame.get(out);
        return out;
    }

    static byte[] addr(String text) {
        try {
            return InetAddress.getByName(text).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    static long ipv4(String text) {
        byte[] a = addr(text);
        return ((a[0] & 0xFFL) << 24) | ((a[1] & 0xFFL) << 16) | ((a[2] & 0xFFL) << 8) | (a[3] & 0xFFL);
    }
}
