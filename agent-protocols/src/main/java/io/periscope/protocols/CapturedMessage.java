package io.periscope.protocols;

import org.agrona.DirectBuffer;

import java.util.Arrays;

/**
 * One chunk of bytes seen on a connection in one direction: a syscall's payload (eBPF) or a
 * reassembled run of TCP payload / one UDP datagram (packets). Whoever captured it fills this
 * reusable holder and hands it to {@link ProtocolEngine#onMessage}; the engine reads it during the
 * call only and keeps no reference to the buffer.
 *
 * <p>The parsers never learn where the bytes came from: only the fields below matter.
 */
public final class CapturedMessage {
    private long socketId;
    private Direction direction = Direction.INGRESS;
    private Role role = Role.UNKNOWN;
    private CaptureSource captureSource = CaptureSource.SYSCALL;
    private long timestampNanos;
    private long tcpSeq = -1;
    private long syscallTraceId;
    private DirectBuffer buffer;
    private int offset;
    private int capturedLength;
    private long trueLength;
    private int pid;
    private int tid;
    private int fd = -1;
    private final TextField comm = new TextField(RequestLog.COMM_BYTES);
    private int ipVersion;
    private final byte[] localAddress = new byte[16];
    private int localPort;
    private final byte[] remoteAddress = new byte[16];
    private int remotePort;
    private int l4Protocol = 6;
    private int interfaceIndex;

    /** Resets the connection-describing fields to "unknown"; call before filling a new message. */
    public CapturedMessage clear() {
        socketId = 0;
        direction = Direction.INGRESS;
        role = Role.UNKNOWN;
        captureSource = CaptureSource.SYSCALL;
        timestampNanos = 0;
        tcpSeq = -1;
        syscallTraceId = 0;
        buffer = null;
        offset = 0;
        capturedLength = 0;
        trueLength = 0;
        pid = 0;
        tid = 0;
        fd = -1;
        comm.clear();
        ipVersion = 0;
        Arrays.fill(localAddress, (byte) 0);
        localPort = 0;
        Arrays.fill(remoteAddress, (byte) 0);
        remotePort = 0;
        l4Protocol = 6;
        interfaceIndex = 0;
        return this;
    }

    /**
     * Points at the captured bytes.
     *
     * @param trueLengthBytes how many bytes the syscall or segment really carried; larger than
     *                        {@code length} when the capture was cut
     */
    public CapturedMessage payload(DirectBuffer buf, int off, int length, long trueLengthBytes) {
        if (off < 0 || length < 0 || off + length > buf.capacity()) {
            throw new IllegalArgumentException("payload " + off + "+" + length + " outside buffer of "
                    + buf.capacity() + " bytes");
        }
        buffer = buf;
        offset = off;
        capturedLength = length;
        trueLength = Math.max(trueLengthBytes, length);
        return this;
    }

    /** The socket (syscall source) or flow (packet source) id: the connection key. */
    public long socketId() {
        return socketId;
    }

    public CapturedMessage socketId(long value) {
        socketId = value;
        return this;
    }

    /** EGRESS when the observed endpoint sent the bytes, INGRESS when it received them. */
    public Direction direction() {
        return direction;
    }

    public CapturedMessage direction(Direction value) {
        direction = value;
        return this;
    }

    /** The observed endpoint's role, when the capture knows it (accept vs connect); else UNKNOWN. */
    public Role role() {
        return role;
    }

    public CapturedMessage role(Role value) {
        role = value;
        return this;
    }

    public CaptureSource captureSource() {
        return captureSource;
    }

    public CapturedMessage captureSource(CaptureSource value) {
        captureSource = value;
        return this;
    }

    /** When the bytes were seen (CLOCK_MONOTONIC for syscalls, capture time for packets), in ns. */
    public long timestampNanos() {
        return timestampNanos;
    }

    public CapturedMessage timestampNanos(long value) {
        timestampNanos = value;
        return this;
    }

    /** TCP sequence number of the first byte; -1 unknown. */
    public long tcpSeq() {
        return tcpSeq;
    }

    public CapturedMessage tcpSeq(long value) {
        tcpSeq = value;
        return this;
    }

    /** The syscall trace id assigned by the eBPF side; 0 none. */
    public long syscallTraceId() {
        return syscallTraceId;
    }

    public CapturedMessage syscallTraceId(long value) {
        syscallTraceId = value;
        return this;
    }

    public DirectBuffer buffer() {
        return buffer;
    }

    public int offset() {
        return offset;
    }

    /** Bytes present in {@link #buffer()}. */
    public int capturedLength() {
        return capturedLength;
    }

    /** Bytes the message really had; at least {@link #capturedLength()}. */
    public long trueLength() {
        return trueLength;
    }

    public int pid() {
        return pid;
    }

    public CapturedMessage pid(int value) {
        pid = value;
        return this;
    }

    public int tid() {
        return tid;
    }

    public CapturedMessage tid(int value) {
        tid = value;
        return this;
    }

    public int fd() {
        return fd;
    }

    public CapturedMessage fd(int value) {
        fd = value;
        return this;
    }

    /** The process's command name; fill in place. */
    public TextField comm() {
        return comm;
    }

    /** 4 or 6; 0 when unknown. */
    public int ipVersion() {
        return ipVersion;
    }

    public CapturedMessage ipVersion(int value) {
        ipVersion = value;
        return this;
    }

    /** Local address bytes (4 used for IPv4); fill in place. */
    public byte[] localAddress() {
        return localAddress;
    }

    public int localPort() {
        return localPort;
    }

    public CapturedMessage localPort(int value) {
        localPort = value;
        return this;
    }

    /** Remote address bytes (4 used for IPv4); fill in place. */
    public byte[] remoteAddress() {
        return remoteAddress;
    }

    public int remotePort() {
        return remotePort;
    }

    public CapturedMessage remotePort(int value) {
        remotePort = value;
        return this;
    }

    /** IANA protocol number: 6 TCP (default), 17 UDP. */
    public int l4Protocol() {
        return l4Protocol;
    }

    public CapturedMessage l4Protocol(int value) {
        l4Protocol = value;
        return this;
    }

    public int interfaceIndex() {
        return interfaceIndex;
    }

    public CapturedMessage interfaceIndex(int value) {
        interfaceIndex = value;
        return this;
    }
}
