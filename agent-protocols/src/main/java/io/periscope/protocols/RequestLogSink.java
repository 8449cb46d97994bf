package io.periscope.protocols;

/**
 * Receives finished request logs. The record is lent for the duration of the call only: a sink
 * that keeps it must copy it ({@link RequestLog#copyFrom(RequestLog)}).
 */
@FunctionalInterface
public interface RequestLogSink {
    void onRequestLog(RequestLog log);
}
