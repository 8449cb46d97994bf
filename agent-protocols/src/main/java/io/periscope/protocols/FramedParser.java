package io.periscope.protocols;

import org.agrona.DirectBuffer;

/**
 * The consume loop every length-framed parser shares (AMQP, NATS, MQTT, Dubbo, MongoDB, Kafka,
 * TLS): pass over what is left of a message whose head was read, hand each new message to
 * {@link #frame}, and stop when it needs more bytes (the engine carries them to the next
 * segment) or found garbage (a counted parse error; the rest of the bytes are dropped and the
 * engine resets the direction, which resynchronises on the next message).
 *
 * <p>A subclass reads one message head in {@link #frame}, tells its {@link FrameSkip} state how
 * much of the message is left to pass over, and returns the bytes it used. Its per-connection
 * state extends {@link FrameSkip}, so reset and a cut capture are handled here too.
 *
 * @param <S> the per-connection state
 */
public abstract class FramedParser<S extends FrameSkip> implements ProtocolParser {
    /** {@link #frame} result: the bytes do not hold enough of the message yet. */
    protected static final int WAIT = -1;
    /** {@link #frame} result: the bytes are not a message of this protocol. */
    protected static final int MALFORMED = -2;

    /**
     * Reads the message starting at {@code pos}.
     *
     * @param end the end of the bytes at hand; a message may run past it
     * @return how many bytes it used (at least 1), having added the rest of the message to
     *         {@code s}'s bytes to skip; or {@link #WAIT} or {@link #MALFORMED}
     */
    protected abstract int frame(Connection conn, S s, boolean requestSide, DirectBuffer buf, int pos, int end);

    /**
     * How much of a message of {@code total} bytes at {@code pos} the bytes up to {@code end} hold,
     * or {@link #WAIT} when that is less than its whole or its first {@code headBytes} (what the
     * parser reads of a message); a {@code headBytes} of 0 never waits.
     */
    protected static int head(long total, int pos, int end, int headBytes) {
        int head = (int) Math.min(total, end - pos);
        return head < Math.min(total, headBytes) ? WAIT : head;
    }

    @Override
    public final int parse(Connection conn, boolean requestSide, DirectBuffer buf, int offset, int length) {
        @SuppressWarnings("unchecked")
        S s = (S) conn.state();
        int end = offset + length;
        int pos = offset;
        while (pos < end) {
            int skipped = s.consume(requestSide, end - pos);
            if (skipped > 0) {
                pos += skipped;
                continue;
            }
            int used = frame(conn, s, requestSide, buf, pos, end);
            if (used <= 0) {
                // 0 is never returned; were it, waiting is what cannot loop
                if (used == MALFORMED) {
                    conn.parseError();
                    return length;
                }
                return pos - offset;
            }
            pos += used;
        }
        return pos - offset;
    }

    @Override
    public void reset(Object state, boolean requestSide) {
        ((FrameSkip) state).clear(requestSide);
    }

    @Override
    public void skip(Connection conn, boolean requestSide, long missingBytes) {
        ((FrameSkip) conn.state()).lost(requestSide, missingBytes);
    }
}
