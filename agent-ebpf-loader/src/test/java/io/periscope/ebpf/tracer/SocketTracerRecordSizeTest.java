package io.periscope.ebpf.tracer;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each event is one ring record of exactly header + captured bytes: lengths around the capture
 * limit, single buffers and iovec gathers, deliver exactly the bytes written, and the reader is
 * woken by the record that crosses the wakeup threshold.
 */
@Tag("kernel")
class SocketTracerRecordSizeTest {
    private static final int PORT = 18033;
    private static final int WAKE_PORT = 18034;
    private static final int LIMIT_BYTES = 256;
    private static final int WAKEUP_BYTES = 4096;
    /** The reader's epoll timeout: far beyond the wait for its result, so only a wakeup ends it in time. */
    private static final int AWAIT_MILLIS = 600_000;
    private static final long WOKEN_WITHIN_SECONDS = 60;

    /** One egress event as the handler saw it, with the record's own length. */
    private record Seen(int syscall, long returnBytes, int payloadLength, int recordLength, int flags, String payload) {
    }

    @Test
    void shouldDeliverExactlyTheCapturedBytesAroundTheLimit() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        SocketTracerConfig config = SocketTracerConfig.builder().targetPid(self).ignoreSelf(false).ports(PORT)
                .payloadBytes(LIMIT_BYTES).build();
        // Single buffers at the limit's boundaries, then gathers (writev) whose pieces end
        // before, at and after the limit.
        int[][] writes = {{1}, {LIMIT_BYTES - 1}, {LIMIT_BYTES}, {LIMIT_BYTES + 1}, {1000},
            {100, 100, 100}, {LIMIT_BYTES - 8, 8}, {LIMIT_BYTES - 8, 9}, {3, 5, 7, 11, 13}};
        List<String> sent = new ArrayList<>();
        int total = 0;
        try (SocketTracer tracer = SocketTracer.open(config);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", PORT));
            try (SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", PORT));
                    SocketChannel conn = server.accept()) {
                char next = 'a';
                for (int[] pieces : writes) {
                    ByteBuffer[] buffers = new ByteBuffer[pieces.length];
                    StringBuilder all = new StringBuilder();
                    for (int i = 0; i < pieces.length; i++) {
                        StringBuilder piece = new StringBuilder();
                        for (int j = 0; j < pieces[i]; j++) {
                            piece.append(next);
                            next = next == 'z' ? 'a' : (char) (next + 1);
                        }
                        buffers[i] = ByteBuffer.wrap(piece.toString().getBytes(StandardCharsets.US_ASCII));
                        all.append(piece);
                    }
                    long left = all.length();
                    while (left > 0) {
                        left -= pieces.length == 1 ? client.write(buffers[0]) : client.write(buffers);
                    }
                    sent.add(all.toString());
                    total += all.length();
                    // Read it all before the next write so each write is its own syscall's data.
                    ByteBuffer in = ByteBuffer.allocate(all.length());
                    while (in.hasRemaining()) {
                        conn.read(in);
                    }
                }
            }
            List<Seen> egress = new ArrayList<>();
            long[] moved = {0};
            for (int waits = 0; waits < 100 && moved[0] < total; waits++) {
                tracer.poll(e -> {
                    if (e.kind() == SocketEvent.KIND_DATA && e.direction() == SocketEvent.DIRECTION_EGRESS
                            && e.localPort() != PORT) {
                        egress.add(new Seen(e.syscall(), e.returnBytes(), e.payloadLength(), e.length(), e.flags(),
                                e.payloadAscii()));
                        moved[0] += e.returnBytes();
                    }
                }, 1024);
                tracer.await(100);
            }
            assertThat(egress).as("one egress event per write, in order").hasSize(writes.length);
            for (int i = 0; i < writes.length; i++) {
                Seen e = egress.get(i);
                String want = sent.get(i);
                int captured = Math.min(want.length(), LIMIT_BYTES);
                assertThat(e.syscall()).as("write %d", i)
                        .isEqualTo(writes[i].length == 1 ? SocketEvent.SYSCALL_WRITE : SocketEvent.SYSCALL_WRITEV);
                assertThat(e.returnBytes()).as("write %d", i).isEqualTo(want.length());
                assertThat(e.payloadLength()).as("write %d", i).isEqualTo(captured);
                assertThat(e.payload()).as("write %d", i).isEqualTo(want.substring(0, captured));
                assertThat(e.recordLength()).as("record %d is header + captured bytes", i)
                        .isEqualTo(SocketEvent.HEADER_BYTES + captured);
                assertThat((e.flags() & SocketEvent.FLAG_TRUNCATED) != 0).as("write %d", i)
                        .isEqualTo(want.length() > LIMIT_BYTES);
            }
            assertThat(tracer.lostEvents()).isZero();
        }
    }

    @Test
    void shouldWakeASleepingReaderOnceThePendingDataCrossesTheThreshold() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        SocketTracerConfig config = SocketTracerConfig.builder().targetPid(self).ignoreSelf(false).ports(WAKE_PORT)
                .payloadBytes(1024).wakeupBytes(WAKEUP_BYTES).build();
        try (SocketTracer tracer = SocketTracer.open(config);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", WAKE_PORT));
            try (SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", WAKE_PORT));
                    SocketChannel conn = server.accept()) {
                // The reader sleeps on an empty ring; a writer then produces ~3 thresholds' worth.
                CompletableFuture<Boolean> woken = CompletableFuture.supplyAsync(() -> tracer.await(AWAIT_MILLIS));
                Thread.sleep(200);
                byte[] chunk = new byte[1024];
                ByteBuffer in = ByteBuffer.allocate(chunk.length);
                for (int i = 0; i < 3 * WAKEUP_BYTES / chunk.length; i++) {
                    ByteBuffer out = ByteBuffer.wrap(chunk);
                    while (out.hasRemaining()) {
                        client.write(out);
                    }
                    in.clear();
                    while (in.hasRemaining()) {
                        conn.read(in);
                    }
                }
                // Without a wakeup the reader would sleep its full epoll timeout and get() would throw.
                assertThat(woken.get(WOKEN_WITHIN_SECONDS, TimeUnit.SECONDS)).isTrue();
            }
            int[] events = {0};
            while (tracer.poll(e -> events[0]++, 1024) > 0) {
                // drain
            }
            assertThat(events[0]).isGreaterThanOrEqualTo(2 * 3 * WAKEUP_BYTES / 1024);
            assertThat(tracer.lostEvents()).isZero();
        }
    }
}
