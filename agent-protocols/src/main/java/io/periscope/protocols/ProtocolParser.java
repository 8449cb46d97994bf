package io.periscope.protocols;

import org.agrona.DirectBuffer;

/**
 * One application protocol: recognises its first bytes and parses messages of one direction in
 * place, opening requests and completing them through the {@link Connection} it is given.
 *
 * <p>A parser is stateless and shared; what it must remember about a connection (body bytes
 * still to skip, HPACK tables, prepared statements) lives in the state object it creates with
 * {@link #newState()}, one per connection, reachable as {@link Connection#state()}. Parsers must
 * never throw on bad bytes: they count a parse error, reset their state and return.
 */
public interface ProtocolParser {
    /** What {@link #infer} concluded from a connection's first bytes. */
    enum Inference {
        /** The bytes start a request of this protocol. */
        REQUEST,
        /** The bytes start a response of this protocol (capture began mid-connection). */
        RESPONSE,
        /** Not this protocol. */
        NO
    }

    L7Protocol protocol();

    /**
     * Whether {@code length} bytes at {@code offset} look like the start of a message.
     *
     * @param portHint true when a port says it is this protocol, which may relax weak checks
     * @param udp      true for datagrams
     */
    Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp);

    /** Creates the per-connection state; called once per pooled connection object. */
    Object newState();

    /** Forgets whatever was half-parsed in one direction (after a gap or garbage). */
    void reset(Object state, boolean requestSide);

    /**
     * Parses as many complete messages as the bytes hold.
     *
     * @return how many bytes were used; the rest (an incomplete message head) is kept by the
     *         engine, bounded by maxCarryBytes, and given back in front of the next bytes of the
     *         same direction
     */
    int parse(Connection conn, boolean requestSide, DirectBuffer buf, int offset, int length);

    /**
     * Tells the parser that {@code missingBytes} bytes of this direction were not captured (the
     * capture was cut). A parser skipping a body just counts them off; otherwise it resets.
     */
    void skip(Connection conn, boolean requestSide, long missingBytes);
}
