package io.periscope.bench.core;

import io.periscope.core.pipeline.SyscallEventSource;
import io.periscope.ebpf.tracer.SocketEvent;
import io.periscope.ebpf.tracer.SocketEventHandler;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The socket tracer's records for bench B's traffic, made up instead of traced: h2load's keep-alive
 * HTTP/1.1 connections to one nginx worker, each request seen as four records (h2load's write,
 * nginx's read, nginx's writev, h2load's read), at a fixed request rate. The records sit in
 * native memory like the kernel ring's and are delivered in the batches a wake-up every
 * {@code wakeNanos} would find, so the pipeline behind it does what it does in B, without the
 * kernel, nginx or h2load sharing the CPU. Nothing is allocated per event.
 */
public final class SyntheticHttpSource implements SyscallEventSource {
    /** What h2load --h1 sends. */
    static final String REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1:18611\r\n"
            + "User-Agent: h2load nghttp2/1.52.0\r\n\r\n";
    /** What nginx's {@code return 200 "hello periscope\n"} answers. */
    static final String RESPONSE = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 15:00:00 GMT\r\n"
            + "Content-Type: text/plain\r\nContent-Length: 16\r\nConnection: keep-alive\r\n\r\nhello periscope\n";
    private static final int STEPS = 4;
    private static final int SERVER_PORT = 18611;
    private static final int CLIENT_PORT_BASE = 40_000;
    private static final int LOOPBACK = 0x7f000001;
    /** Nanoseconds each made-up syscall lasts, between its enter and exit stamps. */
    private static final long SYSCALL_NANOS = 2_000;

    private final UnsafeBuffer records;
    private final int[] offsets;
    private final int[] lengths;
    private final long[] tcpSeq;
    private final SocketEvent event = new SocketEvent();
    private final int connections;
    private final double eventsPerNano;
    private final long wakeNanos;
    private final long startNanos;
    private final long ringEvents;
    private long delivered;
    private long lost;
    private long traceIds;

    /**
     * @param requestsPerSecond requests made (each gives two spans, nginx's and h2load's)
     * @param connections       keep-alive connections the requests go round
     * @param serverPid         the pid nginx's records carry; {@code clientPid} h2load's
     * @param wakeNanos         how long {@link #await} sleeps: the interval of the kernel's wake-ups
     * @param ringBytes         the kernel ring's size: records due but not polled beyond what it
     *                          holds are lost, as the kernel would lose them
     */
    public SyntheticHttpSource(int requestsPerSecond, int connections, int serverPid, int clientPid,
            long wakeNanos, int ringBytes) {
        this.connections = connections;
        this.eventsPerNano = requestsPerSecond * (double) STEPS / TimeUnit.SECONDS.toNanos(1);
        this.wakeNanos = wakeNanos;
        byte[] request = REQUEST.getBytes(StandardCharsets.US_ASCII);
        byte[] response = RESPONSE.getBytes(StandardCharsets.US_ASCII);
        int perConnection = 2 * (SocketEvent.HEADER_BYTES + request.length)
                + 2 * (SocketEvent.HEADER_BYTES + response.length);
        records = new UnsafeBuffer(ByteBuffer.allocateDirect(connections * perConnection));
        offsets = new int[connections * STEPS];
        lengths = new int[connections * STEPS];
        tcpSeq = new long[connections * STEPS];
        int at = 0;
        for (int c = 0; c < connections; c++) {
            long clientSocket = 1000 + 2L * c;
            long serverSocket = clientSocket + 1;
            int clientPort = CLIENT_PORT_BASE + c;
            // h2load writes, nginx reads, nginx writes (writev), h2load reads.
            at = record(c, 0, at, clientSocket, SocketEvent.DIRECTION_EGRESS, SocketEvent.ROLE_CLIENT,
                    SocketEvent.SYSCALL_WRITE, clientPid, 10 + c, clientPort, SERVER_PORT, "h2load", request);
            at = record(c, 1, at, serverSocket, SocketEvent.DIRECTION_INGRESS, SocketEvent.ROLE_SERVER,
                    SocketEvent.SYSCALL_READ, serverPid, 100 + c, SERVER_PORT, clientPort, "nginx", request);
            at = record(c, 2, at, serverSocket, SocketEvent.DIRECTION_EGRESS, SocketEvent.ROLE_SERVER,
                    SocketEvent.SYSCALL_WRITEV, serverPid, 100 + c, SERVER_PORT, clientPort, "nginx", response);
            at = record(c, 3, at, clientSocket, SocketEvent.DIRECTION_INGRESS, SocketEvent.ROLE_CLIENT,
                    SocketEvent.SYSCALL_READ, clientPid, 10 + c, clientPort, SERVER_PORT, "h2load", response);
        }
        // The kernel ring keeps each record 8-byte aligned behind an 8-byte header.
        ringEvents = ringBytes / (perConnection / STEPS + 16);
        startNanos = System.nanoTime();
    }

    private int record(int connection, int step, int at, long socketId, int direction, int role, int syscall,
            int pid, int fd, int localPort, int remotePort, String comm, byte[] payload) {
        int i = connection * STEPS + step;
        offsets[i] = at;
        lengths[i] = SocketEvent.HEADER_BYTES + payload.length;
        tcpSeq[i] = 1_000_000L * (connection + 1) + (direction == SocketEvent.DIRECTION_INGRESS ? 500_000 : 0);
        ByteOrder le = ByteOrder.LITTLE_ENDIAN;
        records.putShort(at + SocketEvent.KIND_OFFSET, (short) SocketEvent.KIND_DATA, le);
        records.putByte(at + SocketEvent.DIRECTION_OFFSET, (byte) direction);
        records.putByte(at + SocketEvent.ROLE_OFFSET, (byte) role);
        records.putByte(at + SocketEvent.L4_PROTOCOL_OFFSET, (byte) SocketEvent.IPPROTO_TCP);
        records.putByte(at + SocketEvent.FAMILY_OFFSET, (byte) SocketEvent.AF_INET);
        records.putByte(at + SocketEvent.SYSCALL_OFFSET, (byte) syscall);
        records.putInt(at + SocketEvent.TGID_OFFSET, pid, le);
        records.putInt(at + SocketEvent.TID_OFFSET, pid, le);
        records.putInt(at + SocketEvent.FD_OFFSET, fd, le);
        records.putLong(at + SocketEvent.SOCKET_ID_OFFSET, socketId, le);
        records.putLong(at + SocketEvent.RETURN_BYTES_OFFSET, payload.length, le);
        records.putShort(at + SocketEvent.LOCAL_PORT_OFFSET, (short) localPort, le);
        records.putShort(at + SocketEvent.REMOTE_PORT_OFFSET, (short) remotePort, le);
        records.putInt(at + SocketEvent.PAYLOAD_LENGTH_OFFSET, payload.length, le);
        records.putInt(at + SocketEvent.LOCAL_ADDR_OFFSET, LOOPBACK, ByteOrder.BIG_ENDIAN);
        records.putInt(at + SocketEvent.REMOTE_ADDR_OFFSET, LOOPBACK, ByteOrder.BIG_ENDIAN);
        byte[] name = comm.getBytes(StandardCharsets.US_ASCII);
        records.putBytes(at + SocketEvent.COMM_OFFSET, name);
        records.putBytes(at + SocketEvent.HEADER_BYTES, payload);
        return at + lengths[i];
    }

    @Override
    public int poll(SocketEventHandler handler, int limit) {
        long now = System.nanoTime();
        long due = (long) ((now - startNanos) * eventsPerNano) - delivered;
        if (due > ringEvents) {
            // The reader fell behind by more than the ring holds: the kernel dropped the excess.
            lost += due - ringEvents;
            delivered += due - ringEvents;
            due = ringEvents;
        }
        int n = (int) Math.min(due, limit);
        for (int k = 0; k < n; k++) {
            long e = delivered++;
            long request = e / STEPS;
            int step = (int) (e % STEPS);
            int i = (int) (request % connections) * STEPS + step;
            int at = offsets[i];
            if (step == 0 || step == 1) {
                // A new request: h2load's write starts a new syscall trace, nginx's read another.
                traceIds++;
            }
            long exit = now + step * SYSCALL_NANOS;
            records.putLong(at + SocketEvent.ENTER_NS_OFFSET, exit - SYSCALL_NANOS, ByteOrder.LITTLE_ENDIAN);
            records.putLong(at + SocketEvent.EXIT_NS_OFFSET, exit, ByteOrder.LITTLE_ENDIAN);
            records.putLong(at + SocketEvent.SYSCALL_TRACE_ID_OFFSET, traceIds, ByteOrder.LITTLE_ENDIAN);
            records.putInt(at + SocketEvent.TCP_SEQ_OFFSET, (int) tcpSeq[i], ByteOrder.LITTLE_ENDIAN);
            tcpSeq[i] += lengths[i] - SocketEvent.HEADER_BYTES;
            handler.onEvent(event.wrap(records, at, lengths[i]));
        }
        return n;
    }

    @Override
    public boolean await(int timeoutMillis) {
        LockSupport.parkNanos(Math.min(wakeNanos, TimeUnit.MILLISECONDS.toNanos(timeoutMillis)));
        return true;
    }

    @Override
    public long lostEvents() {
        return lost;
    }

    @Override
    public long malformedEvents() {
        return 0;
    }

    /** Records delivered so far (the poller's count; read it after the pipeline stopped). */
    public long delivered() {
        return delivered;
    }
}
