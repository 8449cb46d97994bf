package io.periscope.core.pipeline;

import io.periscope.ebpf.tracer.SocketEvent;
import io.periscope.ebpf.tracer.SocketEventHandler;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The syscall pipeline on scripted tracer records (no kernel): one shard parses on the poller
 * thread from the source's memory, more shards go through the Disruptor's slots; both must turn
 * the same records into the same request logs.
 */
class SyscallPipelineTest {
    private static final int SERVER_PID = 4242;
    private static final int CLIENT_PID = 777;
    private static final int PORT = 18410;
    private static final int PAIRS = 300;
    private static final int CONNECTIONS = 7;
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(20);

    /** Hands out its records in polls of at most the limit, from native memory like the kernel ring. */
    private static final class ScriptedSource implements SyscallEventSource {
        private final ConcurrentLinkedQueue<byte[]> records = new ConcurrentLinkedQueue<>();
        private final UnsafeBuffer ring = new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16));
        private final SocketEvent event = new SocketEvent();

        void add(byte[] record) {
            records.add(record);
        }

        boolean drained() {
            return records.isEmpty();
        }

        @Override
        public int poll(SocketEventHandler handler, int limit) {
            int n = 0;
            byte[] r;
            while (n < limit && (r = records.poll()) != null) {
                ring.putBytes(0, r);
                // The declared length may exceed the bytes present (a malformed record).
                handler.onEvent(event.wrap(ring, 0, r.length));
                n++;
            }
            return n;
        }

        @Override
        public boolean await(int timeoutMillis) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }

        @Override
        public long lostEvents() {
            return 3;
        }

        @Override
        public long malformedEvents() {
            return 0;
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void shouldTurnRecordsIntoRequestLogsWithAnyShardCount(int shards) throws Exception {
        List<String> logs = run(shards, 1024);
        assertThat(logs).hasSize(2 * PAIRS);
        assertThat(logs.stream().filter(l -> l.startsWith("SERVER")).count()).isEqualTo(PAIRS);
        assertThat(logs).contains(
                "SERVER pid=4242 GET /items/17 200 ua=lab-client " + PORT
                        + " comm=server ipv4 peer=127.0.0.2 local=127.0.0.1",
                "CLIENT pid=777 GET /items/17 200 ua=lab-client " + PORT
                        + " comm=client ipv4 peer=127.0.0.1 local=127.0.0.2");
    }

    @Test
    void shouldGiveTheSameRequestLogsParsingOnThePollerAsThroughTheSlots() throws Exception {
        // 60 payload bytes cut every request inside its headers: the cap must be applied alike.
        for (int cap : new int[] {1024, 60}) {
            List<String> inline = run(1, cap);
            List<String> slots = run(2, cap);
            assertThat(inline).as("payload cap %d", cap).hasSize(2 * PAIRS);
            assertThat(inline.stream().sorted().collect(Collectors.toList()))
                    .as("payload cap %d", cap)
                    .isEqualTo(slots.stream().sorted().collect(Collectors.toList()));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void shouldReportExecExitAndCountMalformedRecords(int shards) throws Exception {
        ScriptedSource source = new ScriptedSource();
        List<Integer> execs = new CopyOnWriteArrayList<>();
        List<Integer> exits = new CopyOnWriteArrayList<>();
        SyscallPipeline pipeline = new SyscallPipeline(source, settings(shards, 1024),
                () -> new ProtocolEngine(ProtocolConfig.defaults()), () -> log -> { }, execs::add, exits::add);
        pipeline.start();
        try {
            source.add(processEvent(SocketEvent.KIND_EXEC, 11));
            byte[] bad = record(1, SocketEvent.DIRECTION_INGRESS, SocketEvent.ROLE_SERVER, SERVER_PID, PORT, 40000,
                    "server", "GET / HTTP/1.1\r\n\r\n", 0);
            // Claims more payload than the record holds.
            ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(SocketEvent.PAYLOAD_LENGTH_OFFSET, 5000);
            source.add(bad);
            source.add(processEvent(SocketEvent.KIND_EXIT, 12));
            long deadline = System.nanoTime() + WAIT_NANOS;
            while ((exits.isEmpty() || pipeline.eventsIn() < 3) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(execs).containsExactly(11);
            assertThat(exits).containsExactly(12);
            assertThat(pipeline.eventsIn()).isEqualTo(3);
            assertThat(pipeline.malformed()).isEqualTo(1);
            assertThat(pipeline.lostInKernel()).isEqualTo(3);
            assertThat(pipeline.droppedRingFull()).isZero();
        } finally {
            assertThat(pipeline.stop(5_000)).isTrue();
        }
    }

    private static SyscallPipeline.Settings settings(int shards, int payloadCapBytes) {
        // Slots for every scripted record: the poller hands them over faster than any shard parses.
        return new SyscallPipeline.Settings(4096, payloadCapBytes, shards, SyscallPipeline.POLL_BATCH, "blocking",
                TimeUnit.MILLISECONDS.toNanos(100));
    }

    /** Runs PAIRS requests (over CONNECTIONS keep-alive connections, seen from both ends). */
    private static List<String> run(int shards, int payloadCapBytes) throws Exception {
        ScriptedSource source = new ScriptedSource();
        List<String> logs = new CopyOnWriteArrayList<>();
        ProtocolConfig config = ProtocolConfig.builder().addPortRange(L7Protocol.HTTP1, PORT, PORT).build();
        SyscallPipeline pipeline = new SyscallPipeline(source, settings(shards, payloadCapBytes),
                () -> new ProtocolEngine(config), () -> log -> logs.add(describe(log)), pid -> { }, pid -> { });
        pipeline.start();
        try {
            for (byte[] r : script()) {
                source.add(r);
            }
            long deadline = System.nanoTime() + WAIT_NANOS;
            while ((logs.size() < 2 * PAIRS || !source.drained()) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        } finally {
            assertThat(pipeline.stop(5_000)).isTrue();
        }
        assertThat(pipeline.droppedRingFull()).isZero();
        assertThat(pipeline.malformed()).isZero();
        return new ArrayList<>(logs);
    }

    private static String describe(RequestLog log) {
        return log.role() + " pid=" + log.pid() + " " + log.method() + " " + log.resource() + " " + log.statusCode()
                + " ua=" + log.userAgent() + " " + (log.role() == Role.SERVER ? log.localPort() : log.remotePort())
                + " comm=" + log.comm() + " ipv" + log.ipVersion() + " peer=" + ipv4(log.remoteAddress())
                + " local=" + ipv4(log.localAddress());
    }

    private static String ipv4(byte[] a) {
        return (a[0] & 0xff) + "." + (a[1] & 0xff) + "." + (a[2] & 0xff) + "." + (a[3] & 0xff);
    }

    private static List<byte[]> script() {
        List<byte[]> out = new ArrayList<>();
        long[] seq = new long[4 * CONNECTIONS];
        for (int i = 0; i < PAIRS; i++) {
            int c = i % CONNECTIONS;
            long clientSocket = 100 + 2L * c;
            long serverSocket = clientSocket + 1;
            int clientPort = 40000 + c;
            String request = "GET /items/" + (i % 20) + " HTTP/1.1\r\nHost: 127.0.0.1:" + PORT
                    + "\r\nUser-Agent: lab-client\r\nAccept: */*\r\n\r\n";
            String response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            out.add(record(clientSocket, SocketEvent.DIRECTION_EGRESS, SocketEvent.ROLE_CLIENT, CLIENT_PID,
                    clientPort, PORT, "client", request, next(seq, 4 * c, request)));
            out.add(record(serverSocket, SocketEvent.DIRECTION_INGRESS, SocketEvent.ROLE_SERVER, SERVER_PID, PORT,
                    clientPort, "server", request, next(seq, 4 * c + 1, request)));
            out.add(record(serverSocket, SocketEvent.DIRECTION_EGRESS, SocketEvent.ROLE_SERVER, SERVER_PID, PORT,
                    clientPort, "server", response, next(seq, 4 * c + 2, response)));
            out.add(record(clientSocket, SocketEvent.DIRECTION_INGRESS, SocketEvent.ROLE_CLIENT, CLIENT_PID,
                    clientPort, PORT, "client", response, next(seq, 4 * c + 3, response)));
        }
        return out;
    }

    private static long next(long[] seq, int i, String payload) {
        long at = seq[i];
        seq[i] += payload.length();
        return at;
    }

    private static byte[] record(long socketId, int direction, int role, int pid, int localPort, int remotePort,
            String comm, String payload, long tcpSeq) {
        byte[] p = payload.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(SocketEvent.HEADER_BYTES + p.length).order(ByteOrder.LITTLE_ENDIAN);
        long now = System.nanoTime();
        b.putShort(SocketEvent.KIND_OFFSET, (short) SocketEvent.KIND_DATA);
        b.put(SocketEvent.DIRECTION_OFFSET, (byte) direction);
        b.put(SocketEvent.ROLE_OFFSET, (byte) role);
        b.put(SocketEvent.L4_PROTOCOL_OFFSET, (byte) SocketEvent.IPPROTO_TCP);
        b.put(SocketEvent.FAMILY_OFFSET, (byte) SocketEvent.AF_INET);
        b.put(SocketEvent.SYSCALL_OFFSET, (byte) (direction == SocketEvent.DIRECTION_INGRESS
                ? SocketEvent.SYSCALL_READ : SocketEvent.SYSCALL_WRITE));
        b.putInt(SocketEvent.TGID_OFFSET, pid);
        b.putInt(SocketEvent.TID_OFFSET, pid);
        b.putInt(SocketEvent.FD_OFFSET, 5);
        b.putInt(SocketEvent.TCP_SEQ_OFFSET, (int) tcpSeq);
        b.putLong(SocketEvent.SOCKET_ID_OFFSET, socketId);
        b.putLong(SocketEvent.ENTER_NS_OFFSET, now - 1000);
        b.putLong(SocketEvent.EXIT_NS_OFFSET, now);
        b.putLong(SocketEvent.RETURN_BYTES_OFFSET, p.length);
        b.putShort(SocketEvent.LOCAL_PORT_OFFSET, (short) localPort);
        b.putShort(SocketEvent.REMOTE_PORT_OFFSET, (short) remotePort);
        b.putInt(SocketEvent.PAYLOAD_LENGTH_OFFSET, p.length);
        // The server listens on 127.0.0.1, the client connects from 127.0.0.2.
        boolean server = role == SocketEvent.ROLE_SERVER;
        b.order(ByteOrder.BIG_ENDIAN).putInt(SocketEvent.LOCAL_ADDR_OFFSET, server ? 0x7f000001 : 0x7f000002)
                .putInt(SocketEvent.REMOTE_ADDR_OFFSET, server ? 0x7f000002 : 0x7f000001);
        byte[] name = comm.getBytes(StandardCharsets.US_ASCII);
        b.position(SocketEvent.COMM_OFFSET);
        b.put(name);
        b.position(SocketEvent.HEADER_BYTES);
        b.put(p);
        return b.array();
    }

    private static byte[] processEvent(int kind, int pid) {
        ByteBuffer b = ByteBuffer.allocate(SocketEvent.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(SocketEvent.KIND_OFFSET, (short) kind);
        b.putInt(SocketEvent.TGID_OFFSET, pid);
        b.putInt(SocketEvent.TID_OFFSET, pid);
        return b.array();
    }
}
