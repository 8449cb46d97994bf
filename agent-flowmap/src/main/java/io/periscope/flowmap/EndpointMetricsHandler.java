package io.periscope.flowmap;

/** Receives the per-interval aggregate metrics of each active local endpoint (record reused). */
@FunctionalInterface
public interface EndpointMetricsHandler {
    /** One endpoint's counters for one metrics interval. */
    void onEndpointMetrics(EndpointMetricsRecord record);
}
