package io.periscope.flowmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile frames through decoder and flow table: nothing may throw, every frame gets a result
 * code, and the table stays within its capacity. {@link #fuzz} is a Jazzer harness (regression
 * mode under {@code mvn test}; {@code JAZZER_FUZZ=1} fuzzes for real, bounded to 15 s);
 * {@link #shouldSurviveMutatedCorpusFrames} is a seeded mutation run that always executes.
 */
class PacketFuzzTest {
    private static final int MAX_FLOWS = 64;

    private final PacketDecoder decoder = new PacketDecoder(true, PacketDecoder.VXLAN_PORT);
    private final DecodedPacket packet = new DecodedPacket();
    private final FlowTable table = new FlowTable(FlowTableConfig.builder().maxFlows(MAX_FLOWS)
            .fullPolicy(FlowTableConfig.FullPolicy.EVICT).build(), log -> { }, r -> { });
    private long ts = 1_700_000_000_000_000_000L;

    @AfterEach
    void close() {
        table.close();
    }

    private void feed(byte[] frame, int capturedLength, boolean raw) {
        UnsafeBuffer buffer = new UnsafeBuffer(frame);
        int result = raw ? decoder.decodeIp(buffer, 0, capturedLength, packet)
                : decoder.decodeEthernet(buffer, 0, capturedLength, packet);
        assertThat(result).isBetween(PacketDecoder.OK, PacketDecoder.MALFORMED);
        if (result == PacketDecoder.OK) {
            ts += 1_000_000L;
            table.onPacket(packet, 1, ts);
            table.tick(ts);
        }
        assertThat(table.size()).isLessThanOrEqualTo(MAX_FLOWS);
    }

    @FuzzTest(maxDuration = "15s")
    void fuzz(FuzzedDataProvider data) {
        boolean raw = data.consumeBoolean();
        byte[] frame = data.consumeRemainingAsBytes();
        feed(frame, frame.length, raw);
    }

    @Test
    void shouldSurviveMutatedCorpusFrames() {
        Random random = new Random(42);
        byte[][] seeds = {
            TestPackets.packets().tcp("10.0.0.1", 40000, "10.0.0.2", 80, 0x18, 1, 1, 100, 64),
            TestPackets.packets().vlan(7).udp("10.0.0.1", 5000, "10.0.0.2", 4789, new byte[64]),
            TestPackets.packets().hopByHop().tcp("fd00::1", 1, "fd00::2", 2, 0x02, 1, 0, 100, 0),
            TestPackets.packets().fragment(0, true).udp("10.0.0.1", 1, "10.0.0.2", 2, new byte[32]),
            TestPackets.packets().icmpEcho("fd00::1", "fd00::2"),
        };
        for (int i = 0; i < 50_000; i++) {
            byte[] frame = seeds[random.nextInt(seeds.length)].clone();
            int flips = 1 + random.nextInt(6);
            for (int k = 0; k < flips; k++) {
                frame[random.nextInt(frame.length)] = (byte) random.nextInt();
            }
            feed(frame, random.nextInt(frame.length + 1), random.nextInt(8) == 0);
        }
        assertThat(decoder.count(PacketDecoder.OK)).isPositive();
        assertThat(decoder.count(PacketDecoder.MALFORMED) + decoder.count(PacketDecoder.TRUNCATED)).isPositive();
        assertThat(table.flowsCreated()).isGreaterThan(MAX_FLOWS);
    }
}
