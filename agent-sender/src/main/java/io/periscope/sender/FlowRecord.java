package io.periscope.sender;

/**
 * The flow facts agent-sender exports, as a read-only view that agent-flowmap's flow records
 * are adapted to (by agent-core, or by the flow record implementing it).
 *
 * <p>Sides are named by role: the client opened the connection (sent the SYN, or the first
 * packet for UDP), the server accepted it. Counts cover [{@link #startNanos()},
 * {@link #endNanos()}]: a long-lived flow reported periodically gives the delta of each period
 * (so that sums over reports are right), a closed flow its last delta.
 */
public interface FlowRecord {
    /** How (whether) the flow ended. */
    enum CloseType {
        /** Still open: a periodic report. */
        ONGOING,
        /** Closed by FIN exchange. */
        FIN,
        /** Reset by the client. */
        CLIENT_RST,
        /** Reset by the server. */
        SERVER_RST,
        /** Evicted after inactivity. */
        TIMEOUT,
        /** Handshake never completed (SYN unanswered or refused). */
        HANDSHAKE_FAILED,
        /** Dropped from the flow table because it was full. */
        EVICTED
    }

    /** 4 or 6. */
    int ipVersion();

    /** Client address: 4 bytes used for IPv4, 16 for IPv6. */
    byte[] clientAddress();

    int clientPort();

    /** Server address: 4 bytes used for IPv4, 16 for IPv6. */
    byte[] serverAddress();

    int serverPort();

    /** IANA protocol number: 6 TCP, 17 UDP. */
    int l4Protocol();

    long bytesClientToServer();

    long bytesServerToClient();

    long packetsClientToServer();

    long packetsServerToClient();

    long retransmissionsClientToServer();

    long retransmissionsServerToClient();

    /** Smoothed round-trip time in ns (handshake or data), or -1 unknown. */
    long rttNanos();

    CloseType closeType();

    /** Start of the period the counts cover; capture clock (Unix epoch ns for packets). */
    long startNanos();

    /** End of the period the counts cover. */
    long endNanos();

    /** Interface index the packets were captured on; 0 unknown. */
    int interfaceIndex();
}
