package io.periscope.sender;

/**
 * Where encoded export requests go: a collector over gRPC or a local file. Called from the
 * exporter's own worker threads only, one request at a time per signal; may block until done.
 */
interface ExportTransport extends AutoCloseable {

    /** Sends one encoded {@code Export*ServiceRequest}; the array is reused after the call returns. */
    ExportOutcome export(Signal signal, byte[] request, int length);

    /** Aborts calls in flight and releases the connection. */
    @Override
    void close();

    /** The result of one export attempt. */
    record ExportOutcome(Kind kind, long rejected, String message, long retryAfterNanos) {
        /** How the attempt ended. */
        enum Kind {
            /** Delivered (possibly with {@code rejected} items refused by partial success). */
            OK,
            /** Not delivered, worth trying again (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED...). */
            RETRYABLE,
            /** Not delivered and never will be (INVALID_ARGUMENT, UNAUTHENTICATED...). */
            FATAL
        }

        static ExportOutcome ok(long rejected, String message) {
            return new ExportOutcome(Kind.OK, rejected, message, 0);
        }

        static ExportOutcome retryable(String message, long retryAfterNanos) {
            return new ExportOutcome(Kind.RETRYABLE, 0, message, retryAfterNanos);
        }

        static ExportOutcome fatal(String message) {
            return new ExportOutcome(Kind.FATAL, 0, message, 0);
        }
    }
}
