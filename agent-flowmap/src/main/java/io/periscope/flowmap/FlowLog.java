package io.periscope.flowmap;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * One flow log record: a closed flow, or a periodic record of a live flow carrying the counters
 * of the interval {@code [intervalStartNanos, intervalEndNanos]} only (the sum of all records of
 * a flow is its total). Reused by the {@link FlowTable} for every record: no allocation per
 * record; read it inside {@link FlowLogHandler#onFlowLog} and copy what you keep.
 *
 * <p>Addresses: IPv4 addresses are held in {@code ...AddressLow()} (low 32 bits, network order
 * value), with {@code ...AddressHigh() == 0}; IPv6 addresses are two big-endian longs.
 * Direction 0 is client to server, 1 server to client. The client is the side that sent the
 * SYN (TCP); without a handshake, the side with the ephemeral port, else the first sender.
 * Times are nanoseconds in the clock of the packet timestamps (wall clock for AF_PACKET/pcap).
 */
public final class FlowLog {
    /** Direction index of client to server counters. */
    public static final int CLIENT_TO_SERVER = 0;
    /** Direction index of server to client counters. */
    public static final int SERVER_TO_CLIENT = 1;
    /** Value of the RTT accessors when it was not measured. */
    public static final long NO_RTT = -1;

    long flowId;
    boolean finalRecord;
    int ipVersion;
    long clientAddressHigh;
    long clientAddressLow;
    long serverAddressHigh;
    long serverAddressLow;
    int clientPort;
    int serverPort;
    int protocol;
    int ifindex;
    int vlanId;
    long flowStartNanos;
    long intervalStartNanos;
    long intervalEndNanos;
    TcpState tcpState = TcpState.NONE;
    CloseType closeType = CloseType.STILL_OPEN;
    long serverHandshakeRttNanos = NO_RTT;
    long clientHandshakeRttNanos = NO_RTT;
    long dataRttCount;
    long dataRttSumNanos;
    long dataRttMaxNanos;
    final long[] firstNanos = new long[2];
    final long[] lastNanos = new long[2];
    final long[] bytes = new long[2];
    final long[] payloadBytes = new long[2];
    final long[] packets = new long[2];
    final int[] tcpFlags = new int[2];
    final long[] retransmissions = new long[2];
    final long[] outOfOrder = new long[2];
    final long[] zeroWindow = new long[2];

    /** A number identifying the flow within its table's lifetime (same for all records of a flow). */
    public long flowId() {
        return flowId;
    }

    /** True when this is the last record of the flow (it closed, timed out, or was evicted/flushed). */
    public boolean isFinal() {
        return finalRecord;
    }

    /** 4 or 6. */
    public int ipVersion() {
        return ipVersion;
    }

    /** High 64 bits of the client IPv6 address (0 for IPv4). */
    public long clientAddressHigh() {
        return clientAddressHigh;
    }

    /** Low 64 bits of the client IPv6 address, or the IPv4 address in the low 32 bits. */
    public long clientAddressLow() {
        return clientAddressLow;
    }

    /** High 64 bits of the server IPv6 address (0 for IPv4). */
    public long serverAddressHigh() {
        return serverAddressHigh;
    }

    /** Low 64 bits of the server IPv6 address, or the IPv4 address in the low 32 bits. */
    public long serverAddressLow() {
        return serverAddressLow;
    }

    /** Client port (0 for ICMP and protocols without ports). */
    public int clientPort() {
        return clientPort;
    }

    /** Server port (0 for ICMP and protocols without ports). */
    public int serverPort() {
        return serverPort;
    }

    /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...). */
    public int protocol() {
        return protocol;
    }

    /** Interface index the flow was captured on (0 when unknown). */
    public int ifindex() {
        return ifindex;
    }

    /** 802.1Q VLAN id, or 0 when untagged. */
    public int vlanId() {
        return vlanId;
    }

    /** Time of the first packet of the flow. */
    public long flowStartNanos() {
        return flowStartNanos;
    }

    /** Start of the interval whose counters this record carries (flow start for the first record). */
    public long intervalStartNanos() {
        return intervalStartNanos;
    }

    /** End of the interval: the export time (for final records, the last packet time or the timeout). */
    public long intervalEndNanos() {
        return intervalEndNanos;
    }

    /** TCP state at export. */
    public TcpState tcpState() {
        return tcpState;
    }

    /** How the flow ended; {@link CloseType#STILL_OPEN} for periodic records. */
    public CloseType closeType() {
        return closeType;
    }

    /** Handshake RTT on the server side: client SYN to server SYN-ACK, or {@link #NO_RTT}. */
    public long serverHandshakeRttNanos() {
        return serverHandshakeRttNanos;
    }

    /** Handshake RTT on the client side: server SYN-ACK to client ACK, or {@link #NO_RTT}. */
    public long clientHandshakeRttNanos() {
        return clientHandshakeRttNanos;
    }

    /** Full handshake RTT (SYN to final ACK), or {@link #NO_RTT} when the handshake was not seen whole. */
    public long handshakeRttNanos() {
        return serverHandshakeRttNanos < 0 || clientHandshakeRttNanos < 0
                ? NO_RTT : serverHandshakeRttNanos + clientHandshakeRttNanos;
    }

    /** Number of data RTT samples (data segment to its ACK, either direction) in this interval. */
    public long dataRttCount() {
        return dataRttCount;
    }

    /** Sum of the data RTT samples in this interval. */
    public long dataRttSumNanos() {
        return dataRttSumNanos;
    }

    /** Largest data RTT sample in this interval (0 when none; microsecond resolution). */
    public long dataRttMaxNanos() {
        return dataRttMaxNanos;
    }

    /** Time of the first packet of direction {@code dir} in the flow (0 if none yet). */
    public long firstPacketNanos(int dir) {
        return firstNanos[dir];
    }

    /** Time of the last packet of direction {@code dir} in the flow (0 if none yet). */
    public long lastPacketNanos(int dir) {
        return lastNanos[dir];
    }

    /** IP bytes (IP header and payload, no link header) of direction {@code dir} in this interval. */
    public long bytes(int dir) {
        return bytes[dir];
    }

    /** L4 payload bytes (TCP/UDP data) of direction {@code dir} in this interval, retransmissions included. */
    public long payloadBytes(int dir) {
        return payloadBytes[dir];
    }

    /** Packets of direction {@code dir} in this interval. */
    public long packets(int dir) {
        return packets[dir];
    }

    /** OR of the TCP flags (FIN=1, SYN=2, RST=4, PSH=8, ACK=16, URG=32, ECE=64, CWR=128) seen in {@code dir}. */
    public int tcpFlags(int dir) {
        return tcpFlags[dir];
    }

    /** Retransmitted segments (data or SYN) sent in direction {@code dir} in this interval. */
    public long retransmissions(int dir) {
        return retransmissions[dir];
    }

    /** Out-of-order segments (filling an earlier gap) in direction {@code dir} in this interval. */
    public long outOfOrder(int dir) {
        return outOfOrder[dir];
    }

    /** Segments advertising a zero receive window sent in direction {@code dir} in this interval. */
    public long zeroWindow(int dir) {
        return zeroWindow[dir];
    }

    /** The client address as an {@link InetAddress} (allocates: not for the hot path). */
    public InetAddress clientAddress() {
        return toInet(ipVersion, clientAddressHigh, clientAddressLow);
    }

    /** The server address as an {@link InetAddress} (allocates: not for the hot path). */
    public InetAddress serverAddress() {
        return toInet(ipVersion, serverAddressHigh, serverAddressLow);
    }

    static InetAddress toInet(int ipVersion, long high, long low) {
        byte[] raw = new byte[ipVersion == 4 ? 4 : 16];
        writeAddress(raw, ipVersion, high, low);
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("address of length " + raw.length, e);
        }
    }

    /**
     * Writes an address held as two longs (see the class comment) into {@code into} without
     * allocating: the first 4 bytes for IPv4, 16 for IPv6, network order.
     */
    public static void writeAddress(byte[] into, int ipVersion, long high, long low) {
        if (ipVersion == 4) {
            for (int i = 0; i < 4; i++) {
                into[i] = (byte) (low >>> (24 - 8 * i));
            }
        } else {
            for (int i = 0; i < 8; i++) {
                into[i] = (byte) (high >>> (56 - 8 * i));
                into[8 + i] = (byte) (low >>> (56 - 8 * i));
            }
        }
    }

    @Override
    public String toString() {
        return "FlowLog{" + protocol + " " + clientAddress().getHostAddress() + ":" + clientPort + " -> "
                + serverAddress().getHostAddress() + ":" + serverPort + " state=" + tcpState + " close=" + closeType
                + " final=" + isFinal() + " c2s=" + packets[0] + "p/" + bytes[0] + "B s2c=" + packets[1] + "p/"
                + bytes[1] + "B retrans=" + retransmissions[0] + "/" + retransmissions[1]
                + " rtt=" + serverHandshakeRttNanos + "+" + clientHandshakeRttNanos + "}";
    }
}
