package io.periscope.flowmap;

/** How a flow ended, or {@link #STILL_OPEN} for periodic records of live flows. */
public enum CloseType {
    /** The flow is still active (periodic record). */
    STILL_OPEN,
    /** Both sides closed with FIN. */
    FIN,
    /** The client sent RST. */
    RST_BY_CLIENT,
    /** The server sent RST. */
    RST_BY_SERVER,
    /** No packet for the state's timeout (idle established flow, unanswered SYN, UDP/ICMP idle). */
    TIMEOUT,
    /** Removed to make room for a new flow because the table was full (eviction policy). */
    EVICTED,
    /** Flushed because the table was closed/flushed (agent shutdown, end of a pcap). */
    FLUSHED,
    /** The 5-tuple was reused by a new connection (a new SYN after the old flow closed). */
    PORT_REUSE;

    private static final CloseType[] VALUES = values();

    static CloseType of(int code) {
        return VALUES[code];
    }
}
