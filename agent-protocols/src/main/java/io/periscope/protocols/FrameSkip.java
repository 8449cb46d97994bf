package io.periscope.protocols;

/**
 * How many bytes of the current message each direction still has to pass over: a body the parser
 * does not read, or what remains of a message whose head it has handled. Every length-framed
 * parser needs this; their per-connection state classes extend it.
 */
public class FrameSkip {
    private long requestBytes;
    private long responseBytes;

    /** Forgets what one direction had left to skip (its parser resets after a gap or garbage). */
    public final void clear(boolean requestSide) {
        if (requestSide) {
            requestBytes = 0;
        } else {
            responseBytes = 0;
        }
    }

    /** One direction is to pass over {@code bytes} more. */
    public final void add(boolean requestSide, long bytes) {
        if (requestSide) {
            requestBytes += bytes;
        } else {
            responseBytes += bytes;
        }
    }

    /** The capture lost {@code missingBytes} of one direction: they count off what was to be skipped. */
    public final void lost(boolean requestSide, long missingBytes) {
        if (requestSide) {
            requestBytes = Math.max(0, requestBytes - missingBytes);
        } else {
            responseBytes = Math.max(0, responseBytes - missingBytes);
        }
    }

    /** Passes over what is left to skip within {@code available} bytes; returns how many it took. */
    public final int consume(boolean requestSide, int available) {
        long left = requestSide ? requestBytes : responseBytes;
        if (left <= 0 || available <= 0) {
            return 0;
        }
        int n = (int) Math.min(left, available);
        if (requestSide) {
            requestBytes -= n;
        } else {
            responseBytes -= n;
        }
        return n;
    }

    /** Bytes one direction still has to skip. */
    public final long pending(boolean requestSide) {
        return requestSide ? requestBytes : responseBytes;
    }
}
