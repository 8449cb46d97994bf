package io.periscope.sender;

import java.util.Map;

/**
 * What {@link OtlpExporter#shutdown} achieved: whether everything was flushed within the deadline,
 * and per signal how many items were still queued or in flight when it ran out (they count as
 * failed).
 */
public record ShutdownReport(boolean flushedAll, Map<Signal, Long> unflushed) {
    /** Items of {@code signal} that could not be delivered before the deadline. */
    public long unflushed(Signal signal) {
        return unflushed.getOrDefault(signal, 0L);
    }
}
