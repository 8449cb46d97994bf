package io.periscope.core.pipeline;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.resource.v1.Resource;
import io.periscope.flowmap.EndpointMetricsHandler;
import io.periscope.flowmap.EndpointMetricsRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A packet reader's per-interval network metrics per local (server) endpoint, as OTLP delta
 * metrics: the flow table hands over one record per active endpoint when an interval ends (on the
 * reader's thread, from its timer tick), and {@link #finish} sends them as one request. The work is
 * per endpoint and interval, never per packet.
 *
 * <p>Metrics: {@code periscope.endpoint.bytes} and {@code .packets} (by {@code periscope.direction}
 * in = towards the endpoint, out), {@code .retransmissions}, {@code .flows.opened}, {@code
 * .flows.closed} and {@code .rtt} (a histogram in seconds); each point carries {@code
 * server.address}, {@code server.port} and {@code network.transport}.
 */
final class EndpointMetricsExport implements EndpointMetricsHandler {
    private static final double NANOS_PER_SECOND = 1e9;
    private static final int IPPROTO_TCP = 6;
    private static final int IPPROTO_UDP = 17;
    private static final List<Double> RTT_BOUNDS_SECONDS = rttBounds();

    private final Predicate<ExportMetricsServiceRequest> offer;
    private final Resource resource;
    private final InstrumentationScope scope;
    private Metric.Builder bytes;
    private Metric.Builder packets;
    private Metric.Builder retransmissions;
    private Metric.Builder opened;
    private Metric.Builder closed;
    private Metric.Builder rtt;
    private int endpoints;
    private long requests;
    private long dropped;

    /**
     * @param offer queues a request for export (false when it had to be dropped)
     * @param resource the agent's resource (the host these endpoints live on)
     */
    EndpointMetricsExport(Predicate<ExportMetricsServiceRequest> offer, Resource resource,
            InstrumentationScope scope) {
        this.offer = offer;
        this.resource = resource;
        this.scope = scope;
    }

    @Override
    public void onEndpointMetrics(EndpointMetricsRecord r) {
        if (endpoints == 0) {
            begin();
        }
        endpoints++;
        long start = r.intervalStartNanos();
        long end = r.intervalEndNanos();
        List<KeyValue> attributes = List.of(
                string("server.address", r.address().getHostAddress()),
                KeyValue.newBuilder().setKey("server.port").setValue(AnyValue.newBuilder().setIntValue(r.port()))
                        .build(),
                string("network.transport", transport(r.protocol())));
        directional(bytes, attributes, r.bytesIn(), r.bytesOut(), start, end);
        directional(packets, attributes, r.packetsIn(), r.packetsOut(), start, end);
        point(retransmissions, attributes, r.retransmissions(), start, end);
        point(opened, attributes, r.newFlows(), start, end);
        point(closed, attributes, r.closedFlows(), start, end);
        if (r.rttCount() > 0) {
            HistogramDataPoint.Builder h = HistogramDataPoint.newBuilder().setStartTimeUnixNano(start)
                    .setTimeUnixNano(end).addAllAttributes(attributes).setCount(r.rttCount())
                    .setSum(r.rttSumNanos() / NANOS_PER_SECOND).addAllExplicitBounds(RTT_BOUNDS_SECONDS);
            for (int i = 0; i < EndpointMetricsRecord.RTT_BUCKETS; i++) {
                h.addBucketCounts(r.rttBucketCount(i));
            }
            rtt.getHistogramBuilder().addDataPoints(h);
        }
    }

    /** Sends what the last interval(s) handed over as one request, if anything. */
    void finish() {
        if (endpoints == 0) {
            return;
        }
        ScopeMetrics.Builder metrics = ScopeMetrics.newBuilder().setScope(scope)
                .addMetrics(bytes).addMetrics(packets).addMetrics(retransmissions).addMetrics(opened)
                .addMetrics(closed);
        if (rtt.getHistogram().getDataPointsCount() > 0) {
            metrics.addMetrics(rtt);
        }
        ExportMetricsServiceRequest request = ExportMetricsServiceRequest.newBuilder()
                .addResourceMetrics(ResourceMetrics.newBuilder().setResource(resource).addScopeMetrics(metrics))
                .build();
        endpoints = 0;
        requests++;
        if (!offer.test(request)) {
            dropped++;
        }
    }

    /** Requests made so far (reader thread; others may read it stale). */
    long requests() {
        return requests;
    }

    /** Requests the exporter's metrics queue refused (also counted by the exporter). */
    long dropped() {
        return dropped;
    }

    private void begin() {
        bytes = sum("periscope.endpoint.bytes", "By", "IP bytes to (in) and from (out) a local endpoint.");
        packets = sum("periscope.endpoint.packets", "{packet}", "Packets to (in) and from (out) a local endpoint.");
        retransmissions = sum("periscope.endpoint.retransmissions", "{packet}",
                "TCP retransmissions on a local endpoint's flows.");
        opened = sum("periscope.endpoint.flows.opened", "{flow}", "Flows to a local endpoint that began.");
        closed = sum("periscope.endpoint.flows.closed", "{flow}", "Flows to a local endpoint that ended.");
        rtt = Metric.newBuilder().setName("periscope.endpoint.rtt").setUnit("s")
                .setDescription("Round-trip times measured on a local endpoint's flows.")
                .setHistogram(Histogram.newBuilder()
                        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA));
    }

    private static Metric.Builder sum(String name, String unit, String description) {
        return Metric.newBuilder().setName(name).setUnit(unit).setDescription(description)
                .setSum(Sum.newBuilder().setIsMonotonic(true)
                        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA));
    }

    private static void directional(Metric.Builder m, List<KeyValue> attributes, long in, long out, long start,
            long end) {
        m.getSumBuilder().addDataPoints(NumberDataPoint.newBuilder().setStartTimeUnixNano(start).setTimeUnixNano(end)
                .addAllAttributes(attributes).addAttributes(string("periscope.direction", "in")).setAsInt(in));
        m.getSumBuilder().addDataPoints(NumberDataPoint.newBuilder().setStartTimeUnixNano(start).setTimeUnixNano(end)
                .addAllAttributes(attributes).addAttributes(string("periscope.direction", "out")).setAsInt(out));
    }

    private static void point(Metric.Builder m, List<KeyValue> attributes, long value, long start, long end) {
        m.getSumBuilder().addDataPoints(NumberDataPoint.newBuilder().setStartTimeUnixNano(start).setTimeUnixNano(end)
                .addAllAttributes(attributes).setAsInt(value));
    }

    private static KeyValue string(String key, String value) {
        return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
    }

    private static String transport(int protocol) {
        switch (protocol) {
            case IPPROTO_TCP:
                return "tcp";
            case IPPROTO_UDP:
                return "udp";
            default:
                return Integer.toString(protocol);
        }
    }

    private static List<Double> rttBounds() {
        List<Double> bounds = new ArrayList<>();
        for (int i = 0; i < EndpointMetricsRecord.RTT_BUCKETS - 1; i++) {
            bounds.add(EndpointMetricsRecord.rttBucketUpperBoundNanos(i) / NANOS_PER_SECOND);
        }
        return List.copyOf(bounds);
    }
}
