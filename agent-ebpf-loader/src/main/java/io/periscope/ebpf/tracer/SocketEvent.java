package io.periscope.ebpf.tracer;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Flyweight over one {@code struct socket_event} of bpf-src/socket_tracer.bpf.c, read in place
 * from the ring buffer (Aeron {@code HeaderFlyweight} style): field offsets are named constants
 * and every accessor reads the wrapped memory, so wrapping and reading allocate nothing.
 * Valid only inside the handler call that received it.
 */
public final class SocketEvent {
    /** A socket syscall moved data. */
    public static final int KIND_DATA = 1;
    /** The last close of a traced socket: its id will not appear again. */
    public static final int KIND_CLOSE = 2;
    /** A process called exec (comm is the new one). */
    public static final int KIND_EXEC = 3;
    /** A process exited. */
    public static final int KIND_EXIT = 4;

    public static final int DIRECTION_EGRESS = 0;
    public static final int DIRECTION_INGRESS = 1;

    public static final int ROLE_UNKNOWN = 0;
    /** The process connected this socket. */
    public static final int ROLE_CLIENT = 1;
    /** The process accepted this socket. */
    public static final int ROLE_SERVER = 2;

    public static final int SYSCALL_READ = 1;
    public static final int SYSCALL_WRITE = 2;
    public static final int SYSCALL_READV = 3;
    public static final int SYSCALL_WRITEV = 4;
    public static final int SYSCALL_SENDTO = 5;
    public static final int SYSCALL_RECVFROM = 6;
    public static final int SYSCALL_SENDMSG = 7;
    public static final int SYSCALL_RECVMSG = 8;
    public static final int SYSCALL_SENDMMSG = 9;
    public static final int SYSCALL_RECVMMSG = 10;

    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_UDP = 17;

    /** The payload holds fewer bytes than the syscall moved. */
    public static final int FLAG_TRUNCATED = 1;

    public static final int KIND_OFFSET = 0;
    public static final int DIRECTION_OFFSET = 2;
    public static final int ROLE_OFFSET = 3;
    public static final int L4_PROTOCOL_OFFSET = 4;
    public static final int FAMILY_OFFSET = 5;
    public static final int SYSCALL_OFFSET = 6;
    public static final int FLAGS_OFFSET = 7;
    public static final int TGID_OFFSET = 8;
    public static final int TID_OFFSET = 12;
    public static final int FD_OFFSET = 16;
    public static final int TCP_SEQ_OFFSET = 20;
    public static final int SOCKET_ID_OFFSET = 24;
    public static final int ENTER_NS_OFFSET = 32;
    public static final int EXIT_NS_OFFSET = 40;
    public static final int SYSCALL_TRACE_ID_OFFSET = 48;
    public static final int RETURN_BYTES_OFFSET = 56;
    public static final int LOCAL_PORT_OFFSET = 64;
    public static final int REMOTE_PORT_OFFSET = 66;
    public static final int PAYLOAD_LENGTH_OFFSET = 68;
    public static final int LOCAL_ADDR_OFFSET = 72;
    public static final int REMOTE_ADDR_OFFSET = 88;
    public static final int COMM_OFFSET = 104;
    public static final int ADDR_BYTES = 16;
    public static final int COMM_BYTES = 16;
    /** Size of the fixed part; the payload follows. */
    public static final int HEADER_BYTES = 120;
    /** The most payload the kernel side captures per event. */
    public static final int MAX_PAYLOAD_BYTES = 16384;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private DirectBuffer buffer;
    private int offset;
    private int length;

    /** Points this flyweight at a record; returns this. */
    public SocketEvent wrap(DirectBuffer buffer, int offset, int length) {
        this.buffer = buffer;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /** Whether the wrapped record is long enough for its header and declared payload. */
    public boolean isWellFormed() {
        return length >= HEADER_BYTES && HEADER_BYTES + payloadLength() <= length;
    }

    /** The buffer wrapped (the ring's data area while in a handler). */
    public DirectBuffer buffer() {
        return buffer;
    }

    /** Offset of the record in {@link #buffer()}. */
    public int offset() {
        return offset;
    }

    /** Record length in bytes. */
    public int length() {
        return length;
    }

    /** {@link #KIND_DATA}, {@link #KIND_CLOSE}, {@link #KIND_EXEC} or {@link #KIND_EXIT}. */
    public int kind() {
        return buffer.getShort(offset + KIND_OFFSET, ORDER) & 0xffff;
    }

    /** {@link #DIRECTION_EGRESS} or {@link #DIRECTION_INGRESS}. */
    public int direction() {
        return buffer.getByte(offset + DIRECTION_OFFSET);
    }

    /** {@link #ROLE_CLIENT}, {@link #ROLE_SERVER} or {@link #ROLE_UNKNOWN}. */
    public int role() {
        return buffer.getByte(offset + ROLE_OFFSET);
    }

    /** {@link #IPPROTO_TCP} or {@link #IPPROTO_UDP} (0 for unix sockets). */
    public int l4Protocol() {
        return buffer.getByte(offset + L4_PROTOCOL_OFFSET) & 0xff;
    }

    /** {@link #AF_INET} or {@link #AF_INET6} (1 for unix). */
    public int family() {
        return buffer.getByte(offset + FAMILY_OFFSET) & 0xff;
    }

    /** Which syscall ({@code SYSCALL_*}). */
    public int syscall() {
        return buffer.getByte(offset + SYSCALL_OFFSET) & 0xff;
    }

    /** {@link #FLAG_TRUNCATED} when the payload is shorter than {@link #returnBytes()}. */
    public int flags() {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xff;
    }

    /** Process id (tgid). */
    public int pid() {
        return buffer.getInt(offset + TGID_OFFSET, ORDER);
    }

    /** Thread id. */
    public int tid() {
        return buffer.getInt(offset + TID_OFFSET, ORDER);
    }

    /**
     * The file descriptor used; -1 on a close event that ends the id of a socket which ended
     * without a traced close (its process exited or exec'd) once a new socket took its place.
     */
    public int fd() {
        return buffer.getInt(offset + FD_OFFSET, ORDER);
    }

    /** TCP sequence number of the first byte moved (unsigned 32-bit in a long); 0 for UDP. */
    public long tcpSeq() {
        return buffer.getInt(offset + TCP_SEQ_OFFSET, ORDER) & 0xffffffffL;
    }

    /**
     * An id unique to this socket while the tracer runs: never shared by two sockets, however the
     * first one ended (close, process exit, exec); a socket the tracer lost track of (its entry
     * evicted) may get a second id.
     */
    public long socketId() {
        return buffer.getLong(offset + SOCKET_ID_OFFSET, ORDER);
    }

    /** Syscall entry, CLOCK_MONOTONIC nanoseconds. */
    public long enterNanos() {
        return buffer.getLong(offset + ENTER_NS_OFFSET, ORDER);
    }

    /** Syscall exit, CLOCK_MONOTONIC nanoseconds. */
    public long exitNanos() {
        return buffer.getLong(offset + EXIT_NS_OFFSET, ORDER);
    }

    /** Per-thread trace id: new when the thread reads after writing; carried by its next writes. */
    public long syscallTraceId() {
        return buffer.getLong(offset + SYSCALL_TRACE_ID_OFFSET, ORDER);
    }

    /** Bytes the syscall moved (its return value; per message for *mmsg). */
    public long returnBytes() {
        return buffer.getLong(offset + RETURN_BYTES_OFFSET, ORDER);
    }

    /** Local port (host order). */
    public int localPort() {
        return buffer.getShort(offset + LOCAL_PORT_OFFSET, ORDER) & 0xffff;
    }

    /** Remote port (host order). */
    public int remotePort() {
        return buffer.getShort(offset + REMOTE_PORT_OFFSET, ORDER) & 0xffff;
    }

    /** Bytes of payload captured. */
    public int payloadLength() {
        return buffer.getInt(offset + PAYLOAD_LENGTH_OFFSET, ORDER);
    }

    /** Offset of the payload in {@link #buffer()}. */
    public int payloadOffset() {
        return offset + HEADER_BYTES;
    }

    /** Local IPv4 address as an int in network order read big-endian (a.b.c.d = a<<24|...). */
    public int localIpv4() {
        return buffer.getInt(offset + LOCAL_ADDR_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /** Remote IPv4 address, like {@link #localIpv4()}. */
    public int remoteIpv4() {
        return buffer.getInt(offset + REMOTE_ADDR_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /** Copies the 16 local address bytes (IPv4: first 4) into {@code dst}. */
    public void getLocalAddress(MutableDirectBuffer dst, int dstOffset) {
        dst.putBytes(dstOffset, buffer, offset + LOCAL_ADDR_OFFSET, ADDR_BYTES);
    }

    /** Copies the 16 remote address bytes (IPv4: first 4) into {@code dst}. */
    public void getRemoteAddress(MutableDirectBuffer dst, int dstOffset) {
        dst.putBytes(dstOffset, buffer, offset + REMOTE_ADDR_OFFSET, ADDR_BYTES);
    }

    /** The local address as an object (allocates: for logs and tests, not the hot path). */
    public InetAddress localAddress() {
        return address(LOCAL_ADDR_OFFSET);
    }

    /** The remote address as an object (allocates: for logs and tests, not the hot path). */
    public InetAddress remoteAddress() {
        return address(REMOTE_ADDR_OFFSET);
    }

    private InetAddress address(int field) {
        byte[] raw = new byte[family() == AF_INET6 ? ADDR_BYTES : 4];
        buffer.getBytes(offset + field, raw);
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The thread's command name (allocates: for logs and tests). */
    public String comm() {
        int end = 0;
        while (end < COMM_BYTES && buffer.getByte(offset + COMM_OFFSET + end) != 0) {
            end++;
        }
        byte[] raw = new byte[end];
        buffer.getBytes(offset + COMM_OFFSET, raw);
        return new String(raw, StandardCharsets.UTF_8);
    }

    /** The captured payload as a String (allocates: for logs and tests). */
    public String payloadAscii() {
        byte[] raw = new byte[payloadLength()];
        buffer.getBytes(payloadOffset(), raw);
        return new String(raw, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        if (buffer == null) {
            return "SocketEvent{unwrapped}";
        }
        return "SocketEvent{kind=" + kind() + ", pid=" + pid() + ", tid=" + tid() + ", comm=" + comm()
                + ", fd=" + fd() + ", socket=" + socketId() + ", dir=" + direction() + ", role=" + role()
                + ", proto=" + l4Protocol() + ", " + localPort() + "->" + remotePort() + ", seq=" + tcpSeq()
                + ", ret=" + returnBytes() + ", payload=" + payloadLength() + ", trace=" + syscallTraceId() + "}";
    }
}
