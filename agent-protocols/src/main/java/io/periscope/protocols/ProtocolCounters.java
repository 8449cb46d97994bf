package io.periscope.protocols;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What a {@link ProtocolEngine} did and what it dropped. One writer (the engine's thread); any
 * thread may read (values are published with lazySet, so readers see them soon, not at once).
 */
public final class ProtocolCounters {
    private static final int PROTOCOLS = L7Protocol.values().length;

    private final AtomicLongArray requestLogs = new AtomicLongArray(PROTOCOLS);
    private final AtomicLongArray parseErrors = new AtomicLongArray(PROTOCOLS);
    private final AtomicLongArray timeouts = new AtomicLongArray(PROTOCOLS);
    private final AtomicLongArray orphanResponses = new AtomicLongArray(PROTOCOLS);
    private final AtomicLongArray pendingDrops = new AtomicLongArray(PROTOCOLS);
    private final AtomicLongArray inferred = new AtomicLongArray(PROTOCOLS);
    private final AtomicLongArray carryOverflows = new AtomicLongArray(PROTOCOLS);
    private final AtomicLongArray truncatedMessages = new AtomicLongArray(PROTOCOLS);
    private final AtomicLongArray parserExceptions = new AtomicLongArray(PROTOCOLS);
    private final AtomicLongArray messages = new AtomicLongArray(1);
    private final AtomicLongArray connectionDrops = new AtomicLongArray(1);
    private final AtomicLongArray inferenceGiveUps = new AtomicLongArray(1);
    private final AtomicLongArray unknownMessages = new AtomicLongArray(1);

    private static void inc(AtomicLongArray a, int i) {
        // one writer: a plain read of its own last value, a release store for the readers
        a.setRelease(i, a.getPlain(i) + 1);
    }

    void requestLog(L7Protocol p) {
        inc(requestLogs, p.ordinal());
    }

    /** Counts bytes a parser could not make sense of (the connection resynchronises). */
    public void parseError(L7Protocol p) {
        inc(parseErrors, p.ordinal());
    }

    void parserException(L7Protocol p) {
        inc(parserExceptions, p.ordinal());
    }

    void timeout(L7Protocol p) {
        inc(timeouts, p.ordinal());
    }

    void orphanResponse(L7Protocol p) {
        inc(orphanResponses, p.ordinal());
    }

    void pendingDrop(L7Protocol p) {
        inc(pendingDrops, p.ordinal());
    }

    void inference(L7Protocol p) {
        inc(inferred, p.ordinal());
    }

    void carryOverflow(L7Protocol p) {
        inc(carryOverflows, p.ordinal());
    }

    void truncated(L7Protocol p) {
        inc(truncatedMessages, p.ordinal());
    }

    void message() {
        inc(messages, 0);
    }

    void connectionDrop() {
        inc(connectionDrops, 0);
    }

    void inferenceGiveUp() {
        inc(inferenceGiveUps, 0);
    }

    void unknownMessage() {
        inc(unknownMessages, 0);
    }

    /** Request logs handed to the sink (answered, errored or timed out). */
    public long requestLogs(L7Protocol p) {
        return requestLogs.get(p.ordinal());
    }

    /** Messages a parser rejected as malformed. */
    public long parseErrors(L7Protocol p) {
        return parseErrors.get(p.ordinal());
    }

    /**
     * Exceptions thrown by a parser and caught by the engine (the connection was resynchronised).
     * Always a bug in a parser; it should stay 0.
     */
    public long parserExceptions(L7Protocol p) {
        return parserExceptions.get(p.ordinal());
    }

    /** Requests that ended as TIMEOUT (no response in time, or the connection closed). */
    public long timeouts(L7Protocol p) {
        return timeouts.get(p.ordinal());
    }

    /** Responses with no pending request to pair with (capture started mid-exchange, drops). */
    public long orphanResponses(L7Protocol p) {
        return orphanResponses.get(p.ordinal());
    }

    /** Requests dropped because the per-connection or total pending bound was reached. */
    public long pendingDrops(L7Protocol p) {
        return pendingDrops.get(p.ordinal());
    }

    /** Connections whose protocol was recognised. */
    public long inferred(L7Protocol p) {
        return inferred.get(p.ordinal());
    }

    /** Incomplete messages dropped because they outgrew maxCarryBytes. */
    public long carryOverflows(L7Protocol p) {
        return carryOverflows.get(p.ordinal());
    }

    /** Messages whose capture was cut (true length larger than captured). */
    public long truncatedMessages(L7Protocol p) {
        return truncatedMessages.get(p.ordinal());
    }

    /** Messages received. */
    public long messages() {
        return messages.get(0);
    }

    /** Messages not parsed because maxConnections connections were already tracked. */
    public long connectionDrops() {
        return connectionDrops.get(0);
    }

    /** Connections given up as unknown after maxInferenceAttempts messages. */
    public long inferenceGiveUps() {
        return inferenceGiveUps.get(0);
    }

    /** Messages on connections whose protocol is unknown (not parsed). */
    public long unknownMessages() {
        return unknownMessages.get(0);
    }
}
