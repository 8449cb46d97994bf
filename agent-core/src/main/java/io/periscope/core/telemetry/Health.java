package io.periscope.core.telemetry;

/**
 * What {@code /healthz} and {@code /readyz} answer: live unless something marked the agent failed;
 * ready once the agent says its sources and exporters run, and until it starts stopping.
 */
public final class Health {
    private volatile String notReadyReason = "starting";
    private volatile String failure;

    /** The agent is up: sources attached, exporters running. */
    public void markReady() {
        notReadyReason = null;
    }

    /** The agent cannot serve now (starting, stopping, reloading) and says why. */
    public void markNotReady(String reason) {
        notReadyReason = reason;
    }

    /** Something broke beyond repair; liveness fails so an orchestrator restarts us. */
    public void markFailed(String reason) {
        failure = reason;
    }

    /** Whether {@code /readyz} answers 200. */
    public boolean ready() {
        return notReadyReason == null && failure == null;
    }

    /** Why not ready, or null when ready. */
    public String notReadyReason() {
        return failure != null ? failure : notReadyReason;
    }

    /** Why not live, or null when live. */
    public String failure() {
        return failure;
    }
}
