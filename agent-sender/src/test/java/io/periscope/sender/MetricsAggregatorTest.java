package io.periscope.sender;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.periscope.sender.TestRecords.attributes;
import static io.periscope.sender.TestRecords.str;
import static org.assertj.core.api.Assertions.assertThat;

class MetricsAggregatorTest {
    private final ProcessResource app = ProcessResource.builder("app").pid(9).build();
    private final ProcessResource agent = ProcessResource.builder("periscope").build();

    private static List<Metric> metrics(List<ExportMetricsServiceRequest> reqs, String name) {
        List<Metric> out = new ArrayList<>();
        reqs.forEach(r -> r.getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList().forEach(sm ->
                sm.getMetricsList().stream().filter(m -> m.getName().equals(name)).forEach(out::add))));
        return out;
    }

    @Test
    void shouldFoldSeriesBeyondTheLimitIntoOtherAndCountThem() {
        MetricsAggregator agg = new MetricsAggregator(3, agent);
        for (int i = 0; i < 10; i++) {
            agg.recordRequest(TestRecords.httpServer("GET", "/r" + i, "/r" + i, 200), app);
            agg.recordRequest(TestRecords.httpServer("GET", "/r" + i, "/r" + i, 200), app);
        }
        List<Metric> m = metrics(agg.collect(4 << 20), "http.server.request.duration");
        assertThat(m).hasSize(1);
        List<HistogramDataPoint> points = m.get(0).getHistogram().getDataPointsList();
        assertThat(points).hasSize(4);
        HistogramDataPoint other = points.stream()
                .filter(p -> MetricsAggregator.OTHER.equals(str(attributes(p.getAttributesList()), "http.route")))
                .findFirst().orElseThrow();
        assertThat(other.getCount()).isEqualTo(14);
        assertThat(attributes(other.getAttributesList()).get("otel.metric.overflow").getBoolValue()).isTrue();
        assertThat(agg.overflows()).isEqualTo(14);
        assertThat(points.stream().mapToLong(HistogramDataPoint::getCount).sum()).isEqualTo(20);
    }

    @Test
    void shouldMergeWhatConcurrentThreadsRecordAndGuardCardinalityAcrossThem() throws Exception {
        MetricsAggregator agg = new MetricsAggregator(3, agent);
        int threads = 4;
        int perThread = 5_000;
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            RequestLog[] routes = new RequestLog[10];
            for (int i = 0; i < routes.length; i++) {
                routes[i] = TestRecords.httpServer("GET", "/r" + i, "/r" + i, 200);
            }
            all.add(new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    agg.recordRequest(routes[i % routes.length], app);
                }
            }));
        }
        all.forEach(Thread::start);
        for (Thread t : all) {
            t.join();
        }

        List<HistogramDataPoint> points = metrics(agg.collect(4 << 20), "http.server.request.duration").get(0)
                .getHistogram().getDataPointsList();

        // Each thread recorded into its own stripe; the collection merges them per attribute set.
        assertThat(points).hasSize(4);
        assertThat(points.stream().mapToLong(HistogramDataPoint::getCount).sum()).isEqualTo((long) threads * perThread);
        long folded = points.stream()
                .filter(p -> MetricsAggregator.OTHER.equals(str(attributes(p.getAttributesList()), "http.route")))
                .mapToLong(HistogramDataPoint::getCount).sum();
        assertThat(folded).isEqualTo(7L * threads * perThread / 10);
        assertThat(agg.overflows()).isEqualTo(folded);
        for (HistogramDataPoint p : points) {
            assertThat(p.getBucketCountsList().stream().mapToLong(Long::longValue).sum()).isEqualTo(p.getCount());
        }
    }

    @Test
    void shouldAggregateRedPerProtocolWithConventionalNames() {
        MetricsAggregator agg = new MetricsAggregator(100, agent);
        RequestLog sql = TestRecords.httpServer("x", "", "", 0).protocol(L7Protocol.POSTGRESQL).role(Role.CLIENT)
                .statusCode(-1).statusClass(StatusClass.SERVER_ERROR);
        sql.method().setAscii("SELECT");
        sql.endpoint().setAscii("orders");
        agg.recordRequest(sql, app);
        RequestLog grpc = TestRecords.httpServer("POST", "/shop.Cart/Add", "", 0).protocol(L7Protocol.GRPC)
                .statusClass(StatusClass.OK);
        agg.recordRequest(grpc, app);
        List<ExportMetricsServiceRequest> reqs = agg.collect(4 << 20);

        HistogramDataPoint db = metrics(reqs, "db.client.operation.duration").get(0).getHistogram().getDataPoints(0);
        Map<String, AnyValue> a = attributes(db.getAttributesList());
        assertThat(str(a, "db.system.name")).isEqualTo("postgresql");
        assertThat(str(a, "db.collection.name")).isEqualTo("orders");
        assertThat(str(a, "db.operation.name")).isEqualTo("SELECT");
        assertThat(str(a, "error.type")).isEqualTo("_OTHER");
        assertThat(db.getCount()).isEqualTo(1);
        assertThat(db.getSum()).isEqualTo(0.0025);
        // 2.5 ms falls in the first bucket (<= 5 ms).
        assertThat(db.getBucketCounts(0)).isEqualTo(1);

        HistogramDataPoint rpc = metrics(reqs, "rpc.server.duration").get(0).getHistogram().getDataPoints(0);
        a = attributes(rpc.getAttributesList());
        assertThat(str(a, "rpc.system")).isEqualTo("grpc");
        assertThat(str(a, "rpc.service")).isEqualTo("shop.Cart");
        assertThat(str(a, "rpc.method")).isEqualTo("Add");
        assertThat(a.get("rpc.grpc.status_code").getIntValue()).isZero();
        assertThat(a).doesNotContainKey("error.type");
    }

    @Test
    void shouldExportRegisteredAgentCounters() {
        MetricsAggregator agg = new MetricsAggregator(100, agent);
        long[] events = {41};
        agg.registerCounter("periscope.ringbuf.events", "{event}", "Events read.", () -> events[0]++);
        Metric m = metrics(agg.collect(4 << 20), "periscope.ringbuf.events").get(0);
        assertThat(m.getSum().getIsMonotonic()).isTrue();
        assertThat(m.getSum().getDataPoints(0).getAsInt()).isEqualTo(41);
    }
}
