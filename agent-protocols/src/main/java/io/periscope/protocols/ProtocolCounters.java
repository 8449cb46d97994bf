package io.periscope.protocols;

import org.agrona.UnsafeAccess;

import java.util.Objects;

/**
 * What a {@link ProtocolEngine} did and what it dropped. One writer (the engine's thread); any
 * thread may read. The engine's thread sees every count at once; another thread sees at least
 * the counts as of the engine's last {@link ProtocolEngine#onTimerTick} (published there), and
 * usually the newer ones too.
 *
 * <p>Plain {@code long[]} slots written with plain stores, read volatile (a 64-bit slot is never
 * seen half written on the 64-bit JVMs the agent runs on). An ordered store per count was a
 * compiler barrier in the middle of every message (three per Redis pair); an
 * {@code AtomicLongArray.setRelease} before that went through a VarHandle, ~5 % of a Redis pair.
 * The one release store of {@link #publish()} per timer tick is what orders them for readers.
 */
public final class ProtocolCounters {
    private static final int PROTOCOLS = L7Protocol.values().length;

    private final long[] requestLogs = new long[PROTOCOLS];
    private final long[] parseErrors = new long[PROTOCOLS];
    private final long[] timeouts = new long[PROTOCOLS];
    private final long[] orphanResponses = new long[PROTOCOLS];
    private final long[] pendingDrops = new long[PROTOCOLS];
    private final long[] inferred = new long[PROTOCOLS];
    private final long[] carryOverflows = new long[PROTOCOLS];
    private final long[] truncatedMessages = new long[PROTOCOLS];
    private final long[] parserExceptions = new long[PROTOCOLS];
    private final long[] messages = new long[1];
    private final long[] connectionDrops = new long[1];
    private final long[] inferenceGiveUps = new long[1];
    private final long[] unknownMessages = new long[1];
    private final long[] socketIdReuses = new long[1];

    private static final long BASE = UnsafeAccess.UNSAFE.arrayBaseOffset(long[].class);
    private static final int SHIFT = 3;

    /** Written by {@link #publish()} after the plain stores it makes visible; read first by every getter. */
    private volatile long publications;

    private static void inc(long[] a, int i) {
        // one writer: plain read and store; publish() orders them for readers on other threads
        a[i]++;
    }

    /**
     * Makes every count so far visible to readers on other threads (a release store they read
     * with acquire). The engine calls it once per timer tick, from its own thread.
     */
    void publish() {
        publications++;
    }

    private long get(long[] a, int i) {
        // acquire: everything counted before the last publish() is seen
        long ignored = publications;
        return UnsafeAccess.UNSAFE.getLongVolatile(a, BASE + ((long) Objects.checkIndex(i, a.length) << SHIFT));
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

    void socketIdReuse() {
        inc(socketIdReuses, 0);
    }

    /** Request logs handed to the sink (answered, errored or timed out). */
    public long requestLogs(L7Protocol p) {
        return get(requestLogs, p.ordinal());
    }

    /** Messages a parser rejected as malformed. */
    public long parseErrors(L7Protocol p) {
        return get(parseErrors, p.ordinal());
    }

    /**
     * Exceptions thrown by a parser and caught by the engine (the connection was resynchronised).
     * Always a bug in a parser; it should stay 0.
     */
    public long parserExceptions(L7Protocol p) {
        return get(parserExceptions, p.ordinal());
    }

    /** Requests that ended as TIMEOUT (no response in time, or the connection closed). */
    public long timeouts(L7Protocol p) {
        return get(timeouts, p.ordinal());
    }

    /** Responses with no pending request to pair with (capture started mid-exchange, drops). */
    public long orphanResponses(L7Protocol p) {
        return get(orphanResponses, p.ordinal());
    }

    /** Requests dropped because the per-connection or total pending bound was reached. */
    public long pendingDrops(L7Protocol p) {
        return get(pendingDrops, p.ordinal());
    }

    /** Connections whose protocol was recognised. */
    public long inferred(L7Protocol p) {
        return get(inferred, p.ordinal());
    }

    /** Incomplete messages dropped because they outgrew maxCarryBytes. */
    public long carryOverflows(L7Protocol p) {
        return get(carryOverflows, p.ordinal());
    }

    /** Messages whose capture was cut (true length larger than captured). */
    public long truncatedMessages(L7Protocol p) {
        return get(truncatedMessages, p.ordinal());
    }

    /** Messages received. */
    public long messages() {
        return get(messages, 0);
    }

    /** Messages not parsed because maxConnections connections were already tracked. */
    public long connectionDrops() {
        return get(connectionDrops, 0);
    }

    /** Connections given up as unknown after maxInferenceAttempts messages. */
    public long inferenceGiveUps() {
        return get(inferenceGiveUps, 0);
    }

    /** Messages on connections whose protocol is unknown (not parsed). */
    public long unknownMessages() {
        return get(unknownMessages, 0);
    }

    /**
     * TCP messages whose socket id last carried another port pair: a new socket inherited the id
     * of one whose close the capture missed. The old connection was ended, the new one started.
     */
    public long socketIdReuses() {
        return get(socketIdReuses, 0);
    }
}
