package io.periscope.protocols.kafka;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaTopicIdsTest {
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static String nameOf(KafkaTopicIds ids, long high, long low) {
        KafkaTopicIds.Entry e = ids.find(high, low);
        return e == null ? null : new String(e.name, StandardCharsets.US_ASCII);
    }

    @Test
    void learntIdShouldBeFoundAndAnUnknownOneNot() {
        KafkaTopicIds ids = new KafkaTopicIds(64);
        ids.learn(0xb7260d4a2ac243a5L, 0x997cd632783cf3f6L, ascii("orders"));
        assertThat(nameOf(ids, 0xb7260d4a2ac243a5L, 0x997cd632783cf3f6L)).isEqualTo("orders");
        assertThat(nameOf(ids, 0xb7260d4a2ac243a5L, 0x997cd632783cf3f7L)).isNull();
        assertThat(ids.learnt()).isEqualTo(1);
        assertThat(ids.size()).isEqualTo(1);
    }

    @Test
    void relearningTheSameNameShouldStoreNothingNewAndARenameShouldReplace() {
        KafkaTopicIds ids = new KafkaTopicIds(64);
        ids.learn(1, 2, ascii("a"));
        KafkaTopicIds.Entry first = ids.find(1, 2);
        ids.learn(1, 2, ascii("a"));
        assertThat(ids.find(1, 2)).isSameAs(first);
        assertThat(ids.learnt()).isEqualTo(1);
        ids.learn(1, 2, ascii("b"));
        assertThat(nameOf(ids, 1, 2)).isEqualTo("b");
        assertThat(ids.size()).isEqualTo(1);
        assertThat(ids.evictions()).isZero();
    }

    @Test
    void zeroIdAndBadNamesShouldNotBeStored() {
        KafkaTopicIds ids = new KafkaTopicIds(64);
        ids.learn(0, 0, ascii("no-such-topic"));
        ids.learn(5, 6, new byte[0]);
        ids.learn(5, 6, new byte[KafkaTopicIds.MAX_NAME_BYTES + 1]);
        assertThat(ids.size()).isZero();
        assertThat(ids.rejected()).isEqualTo(2);
    }

    @Test
    void capacityShouldBeAPowerOfTwoAndInvalidSizesRefused() {
        assertThat(new KafkaTopicIds(100).capacity()).isEqualTo(128);
        assertThat(new KafkaTopicIds(1).capacity()).isEqualTo(KafkaTopicIds.WAYS);
        assertThatThrownBy(() -> new KafkaTopicIds(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(KafkaTopicIds.shared().capacity()).isEqualTo(KafkaTopicIds.DEFAULT_ENTRIES);
    }

    @Test
    void moreIdsThanSlotsShouldEvictCountedAndNeverGrow() {
        KafkaTopicIds ids = new KafkaTopicIds(16);
        SplittableRandom rnd = new SplittableRandom(7);
        int n = 1000;
        long[] high = new long[n];
        long[] low = new long[n];
        for (int i = 0; i < n; i++) {
            high[i] = rnd.nextLong();
            low[i] = rnd.nextLong();
            ids.learn(high[i], low[i], ascii("topic-" + i));
        }
        assertThat(ids.size()).isEqualTo(16);
        assertThat(ids.learnt()).isEqualTo(n);
        assertThat(ids.evictions()).isEqualTo(n - 16);
        // whatever is still held is held right: a name never points at another id
        int found = 0;
        for (int i = 0; i < n; i++) {
            String name = nameOf(ids, high[i], low[i]);
            if (name != null) {
                assertThat(name).isEqualTo("topic-" + i);
                found++;
            }
        }
        assertThat(found).isEqualTo(16);
        // the last id learnt is always there
        assertThat(nameOf(ids, high[n - 1], low[n - 1])).isEqualTo("topic-" + (n - 1));
    }

    @Test
    void concurrentReadersAndWritersShouldOnlyEverSeeRightNames() throws Exception {
        KafkaTopicIds ids = new KafkaTopicIds(256);
        int topics = 2000; // more than the slots: writers keep evicting while readers look
        long[] high = new long[topics];
        long[] low = new long[topics];
        byte[][] names = new byte[topics][];
        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < topics; i++) {
            high[i] = rnd.nextLong();
            low[i] = rnd.nextLong();
            names[i] = ascii("t" + i);
        }
        int threads = 4;
        int rounds = 20_000;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<String> wrong = new AtomicReference<>();
        AtomicLong hits = new AtomicLong();
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            boolean writer = t % 2 == 0;
            SplittableRandom r = new SplittableRandom(t);
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int k = 0; k < rounds; k++) {
                    int i = r.nextInt(topics);
                    if (writer) {
                        ids.learn(high[i], low[i], names[i]);
                    } else {
                        KafkaTopicIds.Entry e = ids.find(high[i], low[i]);
                        if (e != null) {
                            hits.incrementAndGet();
                            if (!Arrays.equals(e.name, names[i])) {
                                wrong.set("id " + i + " read as " + new String(e.name, StandardCharsets.US_ASCII));
                            }
                        }
                    }
                }
            });
            all.add(th);
            th.start();
        }
        start.countDown();
        for (Thread th : all) {
            th.join();
        }
        assertThat(wrong.get()).isNull();
        assertThat(ids.size()).isLessThanOrEqualTo(ids.capacity());
        assertThat(ids.evictions()).isPositive();
        assertThat(hits.get()).isPositive();
    }
}
