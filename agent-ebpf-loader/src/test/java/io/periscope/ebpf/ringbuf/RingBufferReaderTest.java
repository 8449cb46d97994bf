package io.periscope.ebpf.ringbuf;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RingBufferReaderTest {
    private final List<String> seen = new ArrayList<>();
    private final RecordHandler collect = (buffer, offset, length) -> seen.add(buffer.getStringWithoutLengthAscii(
            offset, length));

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void shouldDeliverRecordsInOrderAndPublishConsumerPosition() {
        SyntheticRing ring = new SyntheticRing(4096);
        ring.write(ascii("first"));
        ring.write(ascii("second record"));

        int n = ring.reader().poll(collect, 10);

        assertThat(n).isEqualTo(2);
        assertThat(seen).containsExactly("first", "second record");
        // 8 + 5 -> 16, 8 + 13 -> 24: each record is 8-byte aligned.
        assertThat(ring.consumerPos()).isEqualTo(16 + 24);
        assertThat(ring.reader().pendingBytes()).isZero();
    }

    @Test
    void shouldReadRecordThatWrapsAroundTheEndContiguously() {
        SyntheticRing ring = new SyntheticRing(4096);
        ring.startAt(4096 - 16);
        String wrapped = "this record crosses the end of the ring";
        ring.write(ascii(wrapped));
        ring.write(ascii("after"));

        int n = ring.reader().poll(collect, 10);

        assertThat(n).isEqualTo(2);
        assertThat(seen).containsExactly(wrapped, "after");
        assertThat(ring.consumerPos()).isEqualTo(4096 - 16 + 48 + 16);
    }

    @Test
    void shouldJoinRecordThatWrapsAroundTheEndOfARingMappedOnce() {
        SyntheticRing ring = new SyntheticRing(4096, false);
        ring.startAt(4096 - 16);
        String wrapped = "this record crosses the end of the ring";
        ring.write(ascii(wrapped));
        ring.write(ascii("after"));
        RingBufferReader reader = ring.reader();

        int n = reader.poll(collect, 10);

        assertThat(n).isEqualTo(2);
        assertThat(seen).containsExactly(wrapped, "after");
        assertThat(reader.wrappedRecords()).isEqualTo(1);
        assertThat(ring.consumerPos()).isEqualTo(4096 - 16 + 48 + 16);
    }

    @Test
    void shouldReadRecordWhoseHeaderEndsTheRingMappedOnceFromTheStart() {
        SyntheticRing ring = new SyntheticRing(4096, false);
        ring.startAt(4096 - 8);
        ring.write(ascii("body at offset zero"));
        RingBufferReader reader = ring.reader();

        assertThat(reader.poll(collect, 10)).isEqualTo(1);

        assertThat(seen).containsExactly("body at offset zero");
        // Contiguous at the start of the ring: no copy needed.
        assertThat(reader.wrappedRecords()).isZero();
    }

    @Test
    void shouldKeepReadingAcrossManyWrapsOfARingMappedOnce() {
        SyntheticRing ring = new SyntheticRing(4096, false);
        RingBufferReader reader = ring.reader();
        List<String> written = new ArrayList<>();
        for (int round = 0; round < 200; round++) {
            // Lengths vary so that records end at every alignment relative to the ring's end.
            for (int i = 0; i < 5; i++) {
                String text = "round " + round + " record " + i + " " + "x".repeat((round * 7 + i * 13) % 300);
                written.add(text);
                ring.write(ascii(text));
            }
            reader.poll(collect, Integer.MAX_VALUE);
        }
        assertThat(seen).isEqualTo(written);
        assertThat(reader.wrappedRecords()).isPositive();
        assertThat(ring.consumerPos()).isEqualTo(ring.producerPos);
    }

    @Test
    void shouldStopAtBusyRecordAndResumeOnceCommitted() {
        SyntheticRing ring = new SyntheticRing(4096);
        ring.write(ascii("done"));
        long busy = ring.reserve(ascii("in progress"));
        ring.write(ascii("later"));
        RingBufferReader reader = ring.reader();

        assertThat(reader.poll(collect, 10)).isEqualTo(1);
        assertThat(seen).containsExactly("done");
        assertThat(ring.consumerPos()).isEqualTo(busy);

        assertThat(reader.poll(collect, 10)).isZero();
        ring.commit(busy, "in progress".length());
        assertThat(reader.poll(collect, 10)).isEqualTo(2);
        assertThat(seen).containsExactly("done", "in progress", "later");
    }

    @Test
    void shouldSkipDiscardedRecordButAdvancePastIt() {
        SyntheticRing ring = new SyntheticRing(4096);
        long discarded = ring.reserve(ascii("thrown away"));
        ring.discard(discarded, "thrown away".length());
        ring.write(ascii("kept"));

        assertThat(ring.reader().poll(collect, 10)).isEqualTo(1);
        assertThat(seen).containsExactly("kept");
        assertThat(ring.consumerPos()).isEqualTo(24 + 16);
    }

    @Test
    void shouldHonourLimitAndLeaveRestForNextPoll() {
        SyntheticRing ring = new SyntheticRing(4096);
        for (int i = 0; i < 5; i++) {
            ring.write(ascii("r" + i));
        }
        RingBufferReader reader = ring.reader();

        assertThat(reader.poll(collect, 2)).isEqualTo(2);
        assertThat(ring.consumerPos()).isEqualTo(32);
        assertThat(reader.poll(collect, 10)).isEqualTo(3);
        assertThat(seen).containsExactly("r0", "r1", "r2", "r3", "r4");
    }

    @Test
    void shouldNotPublishWhenNothingWasRead() {
        SyntheticRing ring = new SyntheticRing(4096);
        ring.startAt(128);
        ring.consumer.putLong(0, 128);

        assertThat(ring.reader().poll(collect, 10)).isZero();
        assertThat(ring.consumerPos()).isEqualTo(128);
    }

    @Test
    void shouldSkipRecordWhoseHandlerThrew() {
        SyntheticRing ring = new SyntheticRing(4096);
        ring.write(ascii("poison"));
        ring.write(ascii("fine"));
        RingBufferReader reader = ring.reader();

        assertThatThrownBy(() -> reader.poll((b, o, l) -> {
            throw new IllegalStateException("handler bug");
        }, 10)).hasMessage("handler bug");
        assertThat(ring.consumerPos()).isEqualTo(16);
        assertThat(reader.poll(collect, 10)).isEqualTo(1);
        assertThat(seen).containsExactly("fine");
    }

    @Test
    void shouldKeepReadingAcrossManyWrapsOfTheRing() {
        SyntheticRing ring = new SyntheticRing(4096);
        RingBufferReader reader = ring.reader();
        int total = 0;
        for (int round = 0; round < 100; round++) {
            for (int i = 0; i < 7; i++) {
                ring.write(ascii("round " + round + " record " + i + " with some padding bytes"));
            }
            total += reader.poll(collect, Integer.MAX_VALUE);
        }
        assertThat(total).isEqualTo(700);
        assertThat(seen.get(699)).isEqualTo("round 99 record 6 with some padding bytes");
        assertThat(ring.consumerPos()).isEqualTo(ring.producerPos).isGreaterThan(8 * 4096L);
    }

    @Test
    void shouldRejectCapacityThatIsNotAPowerOfTwo() {
        SyntheticRing ring = new SyntheticRing(4096);
        assertThatThrownBy(() -> new RingBufferReader(ring.consumer, ring.producer, ring.data, 3000))
                .hasMessageContaining("power of two");
    }
}
