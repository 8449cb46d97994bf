package io.periscope.flowmap;

/** TCP connection state of a flow as seen on the wire (NONE for UDP, ICMP and other protocols). */
public enum TcpState {
    /** Not TCP. */
    NONE,
    /** SYN (and maybe SYN-ACK) seen, handshake not finished yet. */
    OPENING,
    /** Handshake completed, or data seen on a connection that started before capture. */
    ESTABLISHED,
    /** One side sent FIN. */
    CLOSING,
    /** Both sides sent FIN. */
    CLOSED,
    /** A RST was seen. */
    RESET,
    /** The handshake never completed: the opening timeout expired (SYN without answer, or no final ACK). */
    HALF_OPEN;

    private static final TcpState[] VALUES = values();

    static TcpState of(int code) {
        return VALUES[code];
    }
}
