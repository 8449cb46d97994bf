package io.periscope.flowmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class PacketDecoderTest {
    private final PacketDecoder decoder = new PacketDecoder();
    private final DecodedPacket out = new DecodedPacket();

    private int decode(PacketDecoder d, byte[] frame) {
        return d.decodeEthernet(new UnsafeBuffer(frame), 0, frame.length, out);
    }

    @Test
    void shouldDecodeIpv4TcpFields() {
        byte[] frame = TestPackets.packets().tcp("10.0.0.1", 40000, "10.0.0.2", 80, 0x18, 1000, 2000, 512, 100);
        assertThat(decode(decoder, frame)).isEqualTo(PacketDecoder.OK);
        assertThat(out.ipVersion()).isEqualTo(4);
        assertThat(out.srcLow()).isEqualTo(TestPackets.ipv4("10.0.0.1"));
        assertThat(out.dstLow()).isEqualTo(TestPackets.ipv4("10.0.0.2"));
        assertThat(out.protocol()).isEqualTo(PacketDecoder.PROTO_TCP);
        assertThat(out.srcPort()).isEqualTo(40000);
        assertThat(out.dstPort()).isEqualTo(80);
        assertThat(out.tcpFlags()).isEqualTo(0x18);
        assertThat(out.seq()).isEqualTo(1000);
        assertThat(out.ack()).isEqualTo(2000);
        assertThat(out.window()).isEqualTo(512);
        assertThat(out.payloadBytes()).isEqualTo(100);
        assertThat(out.ipBytes()).isEqualTo(140);
        assertThat(out.payloadOffset()).isEqualTo(14 + 20 + 20);
    }

    @Test
    void shouldDecodeVlanTaggedUdp() {
        byte[] frame = TestPackets.packets().vlan(42).udp("192.168.1.1", 5353, "192.168.1.2", 53, new byte[12]);
        assertThat(decode(decoder, frame)).isEqualTo(PacketDecoder.OK);
        assertThat(out.vlanId()).isEqualTo(42);
        assertThat(out.protocol()).isEqualTo(PacketDecoder.PROTO_UDP);
        assertThat(out.dstPort()).isEqualTo(53);
        assertThat(out.payloadBytes()).isEqualTo(12);
    }

    @Test
    void shouldSkipIpv6ExtensionHeaders() {
        byte[] frame = TestPackets.packets().hopByHop().tcp("fd00::1", 1234, "fd00::2", 443, 0x02, 7, 0, 100, 0);
        assertThat(decode(decoder, frame)).isEqualTo(PacketDecoder.OK);
        assertThat(out.ipVersion()).isEqualTo(6);
        assertThat(out.srcHigh()).isEqualTo(0xfd00_0000_0000_0000L);
        assertThat(out.srcLow()).isEqualTo(1L);
        assertThat(out.dstLow()).isEqualTo(2L);
        assertThat(out.protocol()).isEqualTo(PacketDecoder.PROTO_TCP);
        assertThat(out.dstPort()).isEqualTo(443);
        assertThat(out.tcpFlags()).isEqualTo(DecodedPacket.SYN);
    }

    @Test
    void shouldDecodeIcmp() {
        byte[] frame = TestPackets.packets().icmpEcho("10.1.1.1", "10.1.1.2");
        assertThat(decode(decoder, frame)).isEqualTo(PacketDecoder.OK);
        assertThat(out.protocol()).isEqualTo(PacketDecoder.PROTO_ICMP);
        assertThat(out.icmpType()).isEqualTo(8);
        byte[] frame6 = TestPackets.packets().icmpEcho("fd00::1", "fd00::2");
        assertThat(decode(decoder, frame6)).isEqualTo(PacketDecoder.OK);
        assertThat(out.protocol()).isEqualTo(PacketDecoder.PROTO_ICMPV6);
        assertThat(out.icmpType()).isEqualTo(128);
    }

    @Test
    void shouldCountFragmentsAndDecodeOnlyTheFirst() {
        byte[] first = TestPackets.packets().fragment(0, true).udp("10.0.0.1", 1000, "10.0.0.2", 2000, new byte[64]);
        byte[] later = TestPackets.packets().fragment(9, false).ip("10.0.0.1", "10.0.0.2", 17, new byte[64]);
        assertThat(decode(decoder, first)).isEqualTo(PacketDecoder.OK);
        assertThat(out.fragmented()).isTrue();
        assertThat(out.dstPort()).isEqualTo(2000);
        assertThat(decode(decoder, later)).isEqualTo(PacketDecoder.FRAGMENT);
        assertThat(decoder.fragments()).isEqualTo(2);
        assertThat(decoder.count(PacketDecoder.FRAGMENT)).isEqualTo(1);
    }

    @Test
    void shouldCountTruncatedAndMalformedWithoutThrowing() {
        byte[] frame = TestPackets.packets().tcp("10.0.0.1", 1, "10.0.0.2", 2, 0x10, 0, 0, 0, 0);
        for (int len = 0; len < frame.length; len++) {
            assertThat(decoder.decodeEthernet(new UnsafeBuffer(frame), 0, len, out))
                    .isIn(PacketDecoder.TRUNCATED, PacketDecoder.NOT_IP);
        }
        frame[14] = 0x43; // IHL 3: shorter than the minimum header
        assertThat(decode(decoder, frame)).isEqualTo(PacketDecoder.MALFORMED);
        byte[] arp = new byte[42];
        arp[12] = 0x08;
        arp[13] = 0x06;
        assertThat(decode(decoder, arp)).isEqualTo(PacketDecoder.NOT_IP);
        assertThat(decoder.count(PacketDecoder.MALFORMED)).isEqualTo(1);
        assertThat(decoder.count(PacketDecoder.NOT_IP)).isGreaterThanOrEqualTo(1);
    }

    @Test
    void shouldDecapsulateVxlanOnlyWhenEnabled() {
        byte[] inner = TestPackets.packets().tcp("172.16.0.1", 33000, "172.16.0.2", 6379, 0x18, 1, 1, 100, 10);
        ByteBuffer vx = ByteBuffer.allocate(8 + inner.length);
        vx.putInt(0x08000000).putInt(77 << 8).put(inner);
        byte[] outer = TestPackets.packets().udp("10.0.0.1", 50000, "10.0.0.2", PacketDecoder.VXLAN_PORT, vx.array());
        assertThat(decode(decoder, outer)).isEqualTo(PacketDecoder.OK);
        assertThat(out.protocol()).isEqualTo(PacketDecoder.PROTO_UDP);

        PacketDecoder vxlan = new PacketDecoder(true, PacketDecoder.VXLAN_PORT);
        assertThat(decode(vxlan, outer)).isEqualTo(PacketDecoder.OK);
        assertThat(out.protocol()).isEqualTo(PacketDecoder.PROTO_TCP);
        assertThat(out.dstPort()).isEqualTo(6379);
        assertThat(out.srcLow()).isEqualTo(TestPackets.ipv4("172.16.0.1"));
        assertThat(out.vxlanVni()).isEqualTo(77);
        assertThat(out.payloadBytes()).isEqualTo(10);
        assertThat(vxlan.vxlanDecapsulated()).isEqualTo(1);
    }

    @Test
    void shouldSurviveRandomBytes() {
        java.util.Random random = new java.util.Random(7);
        byte[] frame = TestPackets.packets().tcp("10.0.0.1", 1, "10.0.0.2", 2, 0x10, 0, 0, 0, 40);
        long decoded = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] copy = frame.clone();
            for (int k = 0; k < 4; k++) {
                copy[random.nextInt(copy.length)] = (byte) random.nextInt();
            }
            int result = decoder.decodeEthernet(new UnsafeBuffer(copy), 0, random.nextInt(copy.length + 1), out);
            assertThat(result).isBetween(PacketDecoder.OK, PacketDecoder.MALFORMED);
            decoded += result == PacketDecoder.OK ? 1 : 0;
            if (result == PacketDecoder.OK) {
                assertThat(out.payloadOffset()).isLessThanOrEqualTo(copy.length + 65_535);
            }
        }
        assertThat(decoded).isPositive();
    }
}
