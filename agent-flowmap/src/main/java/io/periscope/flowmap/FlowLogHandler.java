package io.periscope.flowmap;

/**
 * Receives flow log records from a {@link FlowTable}. The record is reused: copy what you keep
 * before returning. Called on the table's (single) writer thread.
 */
@FunctionalInterface
public interface FlowLogHandler {
    /** One closed flow, or the deltas of a live flow since its previous record. */
    void onFlowLog(FlowLog log);
}
