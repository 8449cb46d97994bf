package io.periscope.protocols;

import org.agrona.UnsafeAccess;

import java.util.Arrays;

/**
 * Where a request's bytes were seen: the fields a connection's messages share (socket, process,
 * addresses, ports, role), read through {@link RequestLog}'s accessors or {@link
 * RequestLog#connection()}.
 *
 * <p>The engine keeps one per connection and its records refer to it instead of copying its
 * fields per request. It never changes while a pending record of the connection refers to it:
 * when a message brings different values, those records get a copy of their own first
 * ({@code Connection.connectionInfo}). A record lent to a sink may share it with its connection:
 * read it during the call only (as the rest of the record), and never write into
 * {@link #comm()} or the address arrays of a lent record.
 */
public final class ConnectionInfo {
    private static final long BYTE_ARRAY_BASE = UnsafeAccess.UNSAFE.arrayBaseOffset(byte[].class);

    CaptureSource captureSource = CaptureSource.SYSCALL;
    int interfaceIndex;
    long socketId;
    int pid;
    int fd = -1;
    final TextField comm = new TextField(RequestLog.COMM_BYTES);
    Role role = Role.UNKNOWN;
    int ipVersion;
    final byte[] localAddress = new byte[16];
    int localPort;
    final byte[] remoteAddress = new byte[16];
    int remotePort;
    int l4Protocol;
    /** The role the capture gave ({@link CapturedMessage#role()}), which {@link #role} is made from. */
    private Role capturedRole = Role.UNKNOWN;
    /** False until filled from a message, and after {@link #invalidate()}: matches nothing. */
    private boolean valid;

    /** Resets every field to "unknown". */
    void clear() {
        captureSource = CaptureSource.SYSCALL;
        interfaceIndex = 0;
        socketId = 0;
        pid = 0;
        fd = -1;
        comm.clear();
        role = Role.UNKNOWN;
        ipVersion = 0;
        Arrays.fill(localAddress, (byte) 0);
        localPort = 0;
        Arrays.fill(remoteAddress, (byte) 0);
        remotePort = 0;
        l4Protocol = 0;
        capturedRole = Role.UNKNOWN;
        valid = false;
    }

    void invalidate() {
        valid = false;
    }

    void copyFrom(ConnectionInfo other) {
        captureSource = other.captureSource;
        interfaceIndex = other.interfaceIndex;
        socketId = other.socketId;
        pid = other.pid;
        fd = other.fd;
        comm.copyFrom(other.comm);
        role = other.role;
        ipVersion = other.ipVersion;
        System.arraycopy(other.localAddress, 0, localAddress, 0, 16);
        localPort = other.localPort;
        System.arraycopy(other.remoteAddress, 0, remoteAddress, 0, 16);
        remotePort = other.remotePort;
        l4Protocol = other.l4Protocol;
        capturedRole = other.capturedRole;
        valid = false;
    }

    /**
     * Takes the connection fields of {@code msg}. With no role from the capture, the side that
     * sends requests ({@code requestDirection}, else the message's own direction) is the client.
     */
    void set(CapturedMessage msg, Direction requestDirection) {
        captureSource = msg.captureSource();
        interfaceIndex = msg.interfaceIndex();
        socketId = msg.socketId();
        pid = msg.pid();
        fd = msg.fd();
        // all 16 bytes, not only the content, so that matches() can compare whole words
        TextField c = msg.comm();
        comm.copyFrom(c);
        System.arraycopy(c.array(), 0, comm.array(), 0, RequestLog.COMM_BYTES);
        capturedRole = msg.role();
        Role r = capturedRole;
        if (r == Role.UNKNOWN) {
            Direction sent = requestDirection != null ? requestDirection : msg.direction();
            r = sent == Direction.EGRESS ? Role.CLIENT : Role.SERVER;
        }
        role = r;
        ipVersion = msg.ipVersion();
        System.arraycopy(msg.localAddress(), 0, localAddress, 0, 16);
        localPort = msg.localPort();
        System.arraycopy(msg.remoteAddress(), 0, remoteAddress, 0, 16);
        remotePort = msg.remotePort();
        l4Protocol = msg.l4Protocol();
        valid = true;
    }

    /**
     * Whether {@code msg} carries exactly these fields (so a record may refer to this object
     * instead of a copy). May say no for equal fields (bytes past a comm's end differ): the
     * caller then takes them again, which is only slower.
     */
    boolean matches(CapturedMessage msg) {
        return valid && socketId == msg.socketId() && pid == msg.pid() && fd == msg.fd()
                && localPort == msg.localPort() && remotePort == msg.remotePort()
                && capturedRole == msg.role() && ipVersion == msg.ipVersion() && l4Protocol == msg.l4Protocol()
                && captureSource == msg.captureSource() && interfaceIndex == msg.interfaceIndex()
                && sameWords(localAddress, msg.localAddress()) && sameWords(remoteAddress, msg.remoteAddress())
                && comm.length() == msg.comm().length() && comm.truncated() == msg.comm().truncated()
                && sameWords(comm.array(), msg.comm().array());
    }

    /** Whether two 16-byte arrays are equal, as two 64-bit words each. */
    private static boolean sameWords(byte[] a, byte[] b) {
        return UnsafeAccess.UNSAFE.getLong(a, BYTE_ARRAY_BASE) == UnsafeAccess.UNSAFE.getLong(b, BYTE_ARRAY_BASE)
                && UnsafeAccess.UNSAFE.getLong(a, BYTE_ARRAY_BASE + Long.BYTES)
                == UnsafeAccess.UNSAFE.getLong(b, BYTE_ARRAY_BASE + Long.BYTES);
    }

    public CaptureSource captureSource() {
        return captureSource;
    }

    /** The interface a packet capture saw the bytes on; 0 for syscalls. */
    public int interfaceIndex() {
        return interfaceIndex;
    }

    /** A socket id unique for the socket's lifetime (syscall source), or a flow id (packet source). */
    public long socketId() {
        return socketId;
    }

    /** The process id (tgid) of the observed process; 0 when not known (packets). */
    public int pid() {
        return pid;
    }

    public int fd() {
        return fd;
    }

    /** The process's command name (up to 16 bytes, as the kernel keeps it). */
    public TextField comm() {
        return comm;
    }

    public Role role() {
        return role;
    }

    /** 4 or 6; 0 when unknown. */
    public int ipVersion() {
        return ipVersion;
    }

    /** The local address: 4 bytes used for IPv4, 16 for IPv6. */
    public byte[] localAddress() {
        return localAddress;
    }

    public int localPort() {
        return localPort;
    }

    /** The peer address: 4 bytes used for IPv4, 16 for IPv6. */
    public byte[] remoteAddress() {
        return remoteAddress;
    }

    public int remotePort() {
        return remotePort;
    }

    /** IANA protocol number: 6 TCP, 17 UDP; 0 unknown. */
    public int l4Protocol() {
        return l4Protocol;
    }
}
