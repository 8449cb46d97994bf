package io.periscope.sender;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Aggregates RED metrics (request count, errors, duration histograms) per resource and
 * endpoint, flow metrics per server endpoint, and the agent's own counters; {@link #collect}
 * turns them into cumulative OTLP metrics.
 *
 * <p>Each metric holds at most {@code maxSeriesPerMetric} series; further attribute sets fold
 * into one overflow series (endpoint attribute "other", {@code otel.metric.overflow=true}) and
 * are counted. Looking up an existing series allocates nothing: the attribute values are written
 * into a reused probe key.
 */
final class MetricsAggregator {
    /** Semantic-convention bucket boundaries for request durations, in seconds. */
    static final double[] DURATION_BOUNDS_SECONDS = {
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10};
    /** Round-trip time boundaries, in seconds (100 us to 1 s). */
    static final double[] RTT_BOUNDS_SECONDS = {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
    private static final double NANOS_PER_SECOND = 1e9;
    private static final int MAX_STRIPES = 64;
    static final String OTHER = "other";

    /** The duration metric a request feeds, with its attribute keys; the second key is the endpoint-like one. */
    enum Kind {
        HTTP_SERVER("http.server.request.duration", "Duration of HTTP server requests.",
                "http.request.method", "http.route", "http.response.status_code", "error.type"),
        HTTP_CLIENT("http.client.request.duration", "Duration of HTTP client requests.",
                "http.request.method", "server.address", "http.response.status_code", "error.type"),
        RPC_SERVER("rpc.server.duration", "Duration of inbound RPCs.",
                "rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code", "error.type"),
        RPC_CLIENT("rpc.client.duration", "Duration of outbound RPCs.",
                "rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code", "error.type"),
        DB_CLIENT("db.client.operation.duration", "Duration of database client operations.",
                "db.system.name", "db.collection.name", "db.operation.name", "error.type"),
        MESSAGING_CLIENT("messaging.client.operation.duration", "Duration of messaging operations.",
                "messaging.system", "messaging.destination.name", "messaging.operation.name", "error.type"),
        DNS_LOOKUP("dns.lookup.duration", "Duration of DNS lookups.",
                "dns.question.name", "dns.question.name", "error.type"),
        OTHER_SERVER("periscope.server.request.duration", "Duration of requests served, other protocols.",
                "periscope.l7_protocol", "periscope.operation", "error.type"),
        OTHER_CLIENT("periscope.client.request.duration", "Duration of requests made, other protocols.",
                "periscope.l7_protocol", "periscope.operation", "error.type");

        final String metricName;
        final String description;
        final String[] keys;

        Kind(String metricName, String description, String... keys) {
            this.metricName = metricName;
            this.description = description;
            // DNS has a single real key; the duplicate only marks it as the endpoint-like one.
            this.keys = keys[0].equals(keys[1]) ? Arrays.copyOfRange(keys, 1, keys.length) : keys;
        }

        int endpointKeyIndex() {
            return this == DNS_LOOKUP ? 0 : 1;
        }
    }

    private static final String[] INT_KEYS = {"http.response.status_code", "rpc.grpc.status_code"};

    private final int maxSeriesPerMetric;
    private final ProcessResource agentResource;
    private final long startEpochNanos = System.currentTimeMillis() * 1_000_000L;
    /**
     * RED series live in stripes, each with its own lock, map and probe key; a pipeline thread
     * keeps to one stripe (handed out round-robin), so the parse shards recording requests
     * concurrently do not contend, and only {@link #collect} visits every stripe.
     */
    private final Stripe[] stripes;
    private final AtomicInteger nextStripe = new AtomicInteger();
    private final ThreadLocal<Stripe> myStripe;
    /**
     * Per resource (by identity: ProcessResource keeps Object's equals), the RED attribute sets
     * admitted by the cardinality guard in any stripe. Read without a lock when a stripe meets
     * an attribute set it has no series for (new, or folded into the overflow series); written
     * under its own monitor.
     */
    private final ConcurrentHashMap<ProcessResource, Map<SeriesKey, Boolean>> admitted = new ConcurrentHashMap<>();
    /** Admitted attribute sets per kind; grows under the {@link #admitted} monitor only. */
    private final AtomicIntegerArray seriesPerKind = new AtomicIntegerArray(Kind.values().length);
    private final LongAdder redOverflows = new LongAdder();
    private final Map<ProcessResource, Map<SeriesKey, FlowSeries>> flows = new IdentityHashMap<>();
    private int flowSeries;
    /** The flows' probe key, under this object's monitor (flows arrive at a far lower rate). */
    private final SeriesKey probe = new SeriesKey();
    private long overflows;

    /** One stripe of the RED series. */
    private static final class Stripe {
        final ReentrantLock lock = new ReentrantLock();
        final Map<ProcessResource, Map<SeriesKey, DurationSeries>> red = new IdentityHashMap<>();
        final SeriesKey probe = new SeriesKey();
    }
    private final List<SelfMetric> selfMetrics = new CopyOnWriteArrayList<>();

    MetricsAggregator(int maxSeriesPerMetric, ProcessResource agentResource) {
        this.maxSeriesPerMetric = maxSeriesPerMetric;
        this.agentResource = agentResource;
        int count = Integer.highestOneBit(Math.max(2, Runtime.getRuntime().availableProcessors()) * 2 - 1) * 2;
        this.stripes = new Stripe[Math.min(count, MAX_STRIPES)];
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new Stripe();
        }
        this.myStripe = ThreadLocal.withInitial(() -> stripes[nextStripe.getAndIncrement() & (stripes.length - 1)]);
    }

    // ---- RED ----

    static Kind kind(RequestLog r) {
        boolean client = r.role() == Role.CLIENT;
        switch (r.protocol()) {
            case HTTP1:
            case HTTP2:
                return client ? Kind.HTTP_CLIENT : Kind.HTTP_SERVER;
            case GRPC:
            case DUBBO:
                return client ? Kind.RPC_CLIENT : Kind.RPC_SERVER;
            case MYSQL:
            case POSTGRESQL:
            case MONGODB:
            case REDIS:
            case MEMCACHED:
                return client ? Kind.DB_CLIENT : Kind.OTHER_SERVER;
            case KAFKA:
            case MQTT:
            case AMQP:
            case NATS:
                return client ? Kind.MESSAGING_CLIENT : Kind.OTHER_SERVER;
            case DNS:
                return client ? Kind.DNS_LOOKUP : Kind.OTHER_SERVER;
            default:
                return client ? Kind.OTHER_CLIENT : Kind.OTHER_SERVER;
        }
    }

    void recordRequest(RequestLog r, ProcessResource resource) {
        Stripe stripe = myStripe.get();
        Kind k = kind(r);
        stripe.lock.lock();
        try {
            SeriesKey probe = stripe.probe;
            probe.reset(k.ordinal());
            writeAttributes(k, r, probe);
            Map<SeriesKey, DurationSeries> byKey = stripe.red.get(resource);
            if (byKey == null) {
                byKey = new HashMap<>();
                stripe.red.put(resource, byKey);
            }
            DurationSeries s = byKey.get(probe);
            if (s == null) {
                s = newSeries(k, resource, probe, byKey);
            }
            s.record(Math.max(0, r.durationNanos()) / NANOS_PER_SECOND);
        } finally {
            stripe.lock.unlock();
        }
    }

    /**
     * A stripe's first request of an attribute set: admit it (if the set is already admitted
     * in another stripe, or the guard has room) or fold it into the overflow series.
     */
    private DurationSeries newSeries(Kind k, ProcessResource resource, SeriesKey probe,
                                     Map<SeriesKey, DurationSeries> byKey) {
        Map<SeriesKey, Boolean> known = admitted.get(resource);
        if (known == null) {
            known = admitted.computeIfAbsent(resource, x -> new ConcurrentHashMap<>());
        }
        boolean admit = known.containsKey(probe);
        if (!admit && seriesPerKind.get(k.ordinal()) < maxSeriesPerMetric) {
            synchronized (admitted) {
                admit = known.containsKey(probe);
                if (!admit && seriesPerKind.get(k.ordinal()) < maxSeriesPerMetric) {
                    known.put(probe.copy(), Boolean.TRUE);
                    seriesPerKind.incrementAndGet(k.ordinal());
                    admit = true;
                }
            }
        }
        List<KeyValue> attributes;
        if (admit) {
            attributes = decode(k.keys, probe);
        } else {
            redOverflows.increment();
            probe.reset(-1 - k.ordinal());
            DurationSeries other = byKey.get(probe);
            if (other != null) {
                return other;
            }
            attributes = List.of(stringKv(k.keys[k.endpointKeyIndex()], OTHER), overflowKv());
        }
        DurationSeries s = new DurationSeries(k, attributes, DURATION_BOUNDS_SECONDS);
        byKey.put(probe.copy(), s);
        return s;
    }

    /** Writes the value of each of the kind's keys; an empty value means "attribute absent". */
    private static void writeAttributes(Kind k, RequestLog r, SeriesKey p) {
        switch (k) {
            case HTTP_SERVER:
                p.value(r.method()).value(r.endpoint()).valueInt(r.statusCode());
                break;
            case HTTP_CLIENT:
                p.value(r.method());
                p.hostOrPeer(r);
                p.valueInt(r.statusCode());
                break;
            case RPC_SERVER:
            case RPC_CLIENT:
                if (r.protocol() == L7Protocol.GRPC) {
                    p.ascii("grpc");
                    p.grpcPath(r.endpoint().isEmpty() ? r.resource() : r.endpoint());
                    p.valueInt(r.statusCode());
                } else {
                    p.ascii("apache_dubbo").value(r.resource()).value(r.method()).valueInt(-1);
                }
                break;
            case DB_CLIENT:
                p.ascii(SpanEncoder.dbSystem(r.protocol())).value(r.endpoint()).value(r.method());
                break;
            case MESSAGING_CLIENT:
                p.ascii(SpanEncoder.messagingSystem(r.protocol())).value(r.resource()).value(r.method());
                break;
            case DNS_LOOKUP:
                p.value(r.resource());
                break;
            default:
                p.ascii(SpanEncoder.protocolName(r.protocol())).value(r.method());
                break;
        }
        if (SpanEncoder.isError(r)) {
            if (r.statusClass() == StatusClass.TIMEOUT) {
                p.ascii("timeout");
            } else if (r.statusCode() >= 0) {
                p.valueInt(r.statusCode());
            } else {
                p.ascii("_OTHER");
            }
        } else {
            p.ascii("");
        }
    }

    private static List<KeyValue> decode(String[] keys, SeriesKey key) {
        List<KeyValue> out = new ArrayList<>(keys.length);
        int pos = 1;
        byte[] b = key.buf;
        for (String k : keys) {
            int len = ((b[pos] & 0xff) << 8) | (b[pos + 1] & 0xff);
            pos += 2;
            if (len > 0) {
                String v = new String(b, pos, len, StandardCharsets.UTF_8);
                if (isIntKey(k)) {
                    out.add(KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder()
                            .setIntValue(Long.parseLong(v))).build());
                } else {
                    out.add(stringKv(k, v));
                }
            }
            pos += len;
        }
        return List.copyOf(out);
    }

    private static boolean isIntKey(String k) {
        for (String s : INT_KEYS) {
            if (s.equals(k)) {
                return true;
            }
        }
        return false;
    }

    static KeyValue stringKv(String key, String value) {
        return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
    }

    private static KeyValue overflowKv() {
        return KeyValue.newBuilder().setKey("otel.metric.overflow").setValue(AnyValue.newBuilder().setBoolValue(true))
                .build();
    }

    // ---- flows ----

    synchronized void recordFlow(FlowRecord f, ProcessResource resource) {
        probe.reset(0);
        probe.address(f.ipVersion(), f.serverAddress()).valueInt(f.serverPort())
                .ascii(LogRecordMapper.transport(f.l4Protocol()));
        Map<SeriesKey, FlowSeries> byKey = flows.get(resource);
        if (byKey == null) {
            byKey = new HashMap<>();
            flows.put(resource, byKey);
        }
        FlowSeries s = byKey.get(probe);
        if (s == null) {
            List<KeyValue> attributes;
            boolean overflow = flowSeries >= maxSeriesPerMetric;
            if (overflow) {
                overflows++;
                probe.reset(-1);
                attributes = List.of(stringKv("server.address", OTHER), overflowKv());
                s = byKey.get(probe);
            } else {
                attributes = decode(new String[] {"server.address", "server.port", "network.transport"}, probe);
                attributes = fixPort(attributes);
            }
            if (s == null) {
                s = new FlowSeries(attributes);
                byKey.put(probe.copy(), s);
                if (!overflow) {
                    flowSeries++;
                }
            }
        }
        s.record(f);
    }

    /** server.port is numeric in the conventions; decode() only knows the request keys. */
    private static List<KeyValue> fixPort(List<KeyValue> attributes) {
        List<KeyValue> out = new ArrayList<>(attributes.size());
        for (KeyValue kv : attributes) {
            if (kv.getKey().equals("server.port")) {
                out.add(KeyValue.newBuilder().setKey("server.port").setValue(AnyValue.newBuilder()
                        .setIntValue(Long.parseLong(kv.getValue().getStringValue()))).build());
            } else {
                out.add(kv);
            }
        }
        return List.copyOf(out);
    }

    // ---- the agent's own ----

    void registerCounter(String name, String unit, String description, LongSupplier value) {
        selfMetrics.add(new SelfMetric(name, unit, description, value, true, List.of()));
    }

    void registerGauge(String name, String unit, String description, LongSupplier value) {
        selfMetrics.add(new SelfMetric(name, unit, description, value, false, List.of()));
    }

    void registerSelfCounters(Map<Signal, SignalCounters> counters) {
        for (SignalCounters c : counters.values()) {
            KeyValue signal = stringKv("signal", c.signal().label());
            String items = "periscope.sender.items";
            String desc = "Telemetry items by what became of them.";
            selfMetrics.add(new SelfMetric(items, "{item}", desc, c::offered, true,
                    List.of(signal, stringKv("outcome", "offered"))));
            selfMetrics.add(new SelfMetric(items, "{item}", desc, c::dropped, true,
                    List.of(signal, stringKv("outcome", "dropped"))));
            selfMetrics.add(new SelfMetric(items, "{item}", desc, c::exported, true,
                    List.of(signal, stringKv("outcome", "exported"))));
            selfMetrics.add(new SelfMetric(items, "{item}", desc, c::rejected, true,
                    List.of(signal, stringKv("outcome", "rejected"))));
            selfMetrics.add(new SelfMetric(items, "{item}", desc, c::failed, true,
                    List.of(signal, stringKv("outcome", "failed"))));
            selfMetrics.add(new SelfMetric("periscope.sender.retries", "{request}",
                    "Export attempts repeated after retryable errors.", c::retried, true, List.of(signal)));
            selfMetrics.add(new SelfMetric("periscope.sender.pending", "{item}",
                    "Items queued or in flight.", c::pending, false, List.of(signal)));
        }
        selfMetrics.add(new SelfMetric("periscope.sender.cardinality_overflows", "{series}",
                "Attribute sets folded into the overflow series by the cardinality guard.", this::overflows, true,
                List.of()));
    }

    long overflows() {
        synchronized (this) {
            return overflows + redOverflows.sum();
        }
    }

    // ---- collection ----

    /** Builds cumulative OTLP metrics of everything, one request per resource (split if needed). */
    List<ExportMetricsServiceRequest> collect(int maxMessageBytes) {
        long now = System.currentTimeMillis() * 1_000_000L;
        // Copy the counts under the lock (microseconds), build the protobuf outside it, so the
        // pipeline threads recording requests are not held up by a collection.
        Map<ProcessResource, List<DurationSeries>> redCopy = new LinkedHashMap<>();
        Map<ProcessResource, List<FlowSeries>> flowCopy = new LinkedHashMap<>();
        // One stripe at a time: each holds up its own producer for one copy of its series.
        Map<ProcessResource, Map<SeriesKey, DurationSeries>> merged = new LinkedHashMap<>();
        for (Stripe stripe : stripes) {
            stripe.lock.lock();
            try {
                for (Map.Entry<ProcessResource, Map<SeriesKey, DurationSeries>> e : stripe.red.entrySet()) {
                    Map<SeriesKey, DurationSeries> into =
                            merged.computeIfAbsent(e.getKey(), x -> new LinkedHashMap<>());
                    for (Map.Entry<SeriesKey, DurationSeries> s : e.getValue().entrySet()) {
                        DurationSeries have = into.get(s.getKey());
                        if (have == null) {
                            into.put(s.getKey(), s.getValue().copy());
                        } else {
                            have.add(s.getValue());
                        }
                    }
                }
            } finally {
                stripe.lock.unlock();
            }
        }
        for (Map.Entry<ProcessResource, Map<SeriesKey, DurationSeries>> e : merged.entrySet()) {
            redCopy.put(e.getKey(), new ArrayList<>(e.getValue().values()));
        }
        synchronized (this) {
            for (Map.Entry<ProcessResource, Map<SeriesKey, FlowSeries>> e : flows.entrySet()) {
                List<FlowSeries> list = new ArrayList<>(e.getValue().size());
                e.getValue().values().forEach(s -> list.add(s.copy()));
                flowCopy.put(e.getKey(), list);
            }
        }
        Map<ProcessResource, List<Metric>> byResource = new LinkedHashMap<>();
        for (Map.Entry<ProcessResource, List<DurationSeries>> e : redCopy.entrySet()) {
            Map<Kind, Metric.Builder> metrics = new EnumMap<>(Kind.class);
            for (DurationSeries s : e.getValue()) {
                Metric.Builder m = metrics.computeIfAbsent(s.kind, k -> Metric.newBuilder()
                        .setName(k.metricName).setDescription(k.description).setUnit("s")
                        .setHistogram(Histogram.newBuilder().setAggregationTemporality(
                                AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)));
                m.getHistogramBuilder().addDataPoints(s.point(startEpochNanos, now));
            }
            List<Metric> list = byResource.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
            metrics.values().forEach(b -> list.add(b.build()));
        }
        for (Map.Entry<ProcessResource, List<FlowSeries>> e : flowCopy.entrySet()) {
            List<Metric> list = byResource.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
            FlowSeries.addMetrics(e.getValue(), list, startEpochNanos, now);
        }
        List<Metric> self = byResource.computeIfAbsent(agentResource, k -> new ArrayList<>());
        Map<String, Metric.Builder> selfByName = new LinkedHashMap<>();
        for (SelfMetric m : selfMetrics) {
            Metric.Builder b = selfByName.computeIfAbsent(m.name, n -> {
                Metric.Builder mb = Metric.newBuilder().setName(n).setUnit(m.unit).setDescription(m.description);
                if (m.monotonic) {
                    mb.setSum(Sum.newBuilder().setIsMonotonic(true)
                            .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE));
                } else {
                    mb.setGauge(Gauge.getDefaultInstance());
                }
                return mb;
            });
            NumberDataPoint.Builder p = NumberDataPoint.newBuilder().setTimeUnixNano(now)
                    .setAsInt(m.value.getAsLong()).addAllAttributes(m.attributes);
            if (m.monotonic) {
                b.getSumBuilder().addDataPoints(p.setStartTimeUnixNano(startEpochNanos));
            } else {
                b.getGaugeBuilder().addDataPoints(p);
            }
        }
        selfByName.values().forEach(b -> self.add(b.build()));
        List<ExportMetricsServiceRequest> out = new ArrayList<>();
        for (Map.Entry<ProcessResource, List<Metric>> e : byResource.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            addSplit(out, e.getKey(), e.getValue(), maxMessageBytes);
        }
        return out;
    }

    private static void addSplit(List<ExportMetricsServiceRequest> out, ProcessResource resource,
                                 List<Metric> metrics, int maxMessageBytes) {
        ExportMetricsServiceRequest req = ExportMetricsServiceRequest.newBuilder()
                .addResourceMetrics(ResourceMetrics.newBuilder().setResource(resource.toProto())
                        .addScopeMetrics(ScopeMetrics.newBuilder().setScope(OtlpExporter.scope())
                                .addAllMetrics(metrics)))
                .build();
        if (req.getSerializedSize() <= maxMessageBytes || metrics.size() == 1) {
            out.add(req);
            return;
        }
        int half = metrics.size() / 2;
        addSplit(out, resource, metrics.subList(0, half), maxMessageBytes);
        addSplit(out, resource, metrics.subList(half, metrics.size()), maxMessageBytes);
    }

    static int pointCount(ExportMetricsServiceRequest req) {
        int n = 0;
        for (ResourceMetrics rm : req.getResourceMetricsList()) {
            for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                for (Metric m : sm.getMetricsList()) {
                    n += m.getHistogram().getDataPointsCount() + m.getSum().getDataPointsCount()
                            + m.getGauge().getDataPointsCount();
                }
            }
        }
        return n;
    }

    // ---- series ----

    /** A histogram of one attribute set. */
    static final class DurationSeries {
        final Kind kind;
        final List<KeyValue> attributes;
        final double[] bounds;
        final long[] buckets;
        long count;
        double sum;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;

        DurationSeries(Kind kind, List<KeyValue> attributes, double[] bounds) {
            this.kind = kind;
            this.attributes = attributes;
            this.bounds = bounds;
            this.buckets = new long[bounds.length + 1];
        }

        DurationSeries copy() {
            DurationSeries c = new DurationSeries(kind, attributes, bounds);
            System.arraycopy(buckets, 0, c.buckets, 0, buckets.length);
            c.count = count;
            c.sum = sum;
            c.min = min;
            c.max = max;
            return c;
        }

        /** Adds the counts of {@code other} (the same attribute set from another stripe). */
        void add(DurationSeries other) {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] += other.buckets[i];
            }
            count += other.count;
            sum += other.sum;
            min = Math.min(min, other.min);
            max = Math.max(max, other.max);
        }

        void record(double value) {
            int i = 0;
            while (i < bounds.length && value > bounds[i]) {
                i++;
            }
            buckets[i]++;
            count++;
            sum += value;
            min = Math.min(min, value);
            max = Math.max(max, value);
        }

        HistogramDataPoint point(long startNanos, long nowNanos) {
            HistogramDataPoint.Builder p = HistogramDataPoint.newBuilder().setStartTimeUnixNano(startNanos)
                    .setTimeUnixNano(nowNanos).addAllAttributes(attributes).setCount(count).setSum(sum);
            if (count > 0) {
                p.setMin(min).setMax(max);
            }
            for (double b : bounds) {
                p.addExplicitBounds(b);
            }
            for (long c : buckets) {
                p.addBucketCounts(c);
            }
            return p.build();
        }
    }

    /** Flow totals of one server endpoint. */
    static final class FlowSeries {
        final List<KeyValue> attributes;
        long bytesC2s;
        long bytesS2c;
        long packetsC2s;
        long packetsS2c;
        long retransC2s;
        long retransS2c;
        final long[] closed = new long[FlowRecord.CloseType.values().length];
        final DurationSeries rtt;

        FlowSeries(List<KeyValue> attributes) {
            this.attributes = attributes;
            this.rtt = new DurationSeries(Kind.OTHER_SERVER, attributes, RTT_BOUNDS_SECONDS);
        }

        FlowSeries copy() {
            FlowSeries c = new FlowSeries(attributes);
            c.bytesC2s = bytesC2s;
            c.bytesS2c = bytesS2c;
            c.packetsC2s = packetsC2s;
            c.packetsS2c = packetsS2c;
            c.retransC2s = retransC2s;
            c.retransS2c = retransS2c;
            System.arraycopy(closed, 0, c.closed, 0, closed.length);
            DurationSeries r = rtt.copy();
            System.arraycopy(r.buckets, 0, c.rtt.buckets, 0, r.buckets.length);
            c.rtt.count = r.count;
            c.rtt.sum = r.sum;
            c.rtt.min = r.min;
            c.rtt.max = r.max;
            return c;
        }

        void record(FlowRecord f) {
            bytesC2s += f.bytesClientToServer();
            bytesS2c += f.bytesServerToClient();
            packetsC2s += f.packetsClientToServer();
            packetsS2c += f.packetsServerToClient();
            retransC2s += f.retransmissionsClientToServer();
            retransS2c += f.retransmissionsServerToClient();
            closed[f.closeType().ordinal()]++;
            if (f.rttNanos() >= 0) {
                rtt.record(f.rttNanos() / NANOS_PER_SECOND);
            }
        }

        static void addMetrics(Iterable<FlowSeries> series, List<Metric> out, long start, long now) {
            Metric.Builder bytes = sum("periscope.flow.bytes", "By", "Bytes carried by flows, per direction.");
            Metric.Builder packets = sum("periscope.flow.packets", "{packet}", "Packets of flows, per direction.");
            Metric.Builder retrans = sum("periscope.flow.retransmissions", "{packet}",
                    "TCP retransmissions, per direction.");
            Metric.Builder flowsReported = sum("periscope.flow.reports", "{flow}",
                    "Flow reports, by close type (ongoing = periodic report of an open flow).");
            Metric.Builder rtt = Metric.newBuilder().setName("periscope.flow.rtt").setUnit("s")
                    .setDescription("Round-trip time of flows.").setHistogram(Histogram.newBuilder()
                            .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE));
            for (FlowSeries s : series) {
                directional(bytes, s.attributes, s.bytesC2s, s.bytesS2c, start, now);
                directional(packets, s.attributes, s.packetsC2s, s.packetsS2c, start, now);
                directional(retrans, s.attributes, s.retransC2s, s.retransS2c, start, now);
                for (FlowRecord.CloseType t : FlowRecord.CloseType.values()) {
                    if (s.closed[t.ordinal()] > 0) {
                        flowsReported.getSumBuilder().addDataPoints(NumberDataPoint.newBuilder()
                                .setStartTimeUnixNano(start).setTimeUnixNano(now).addAllAttributes(s.attributes)
                                .addAttributes(stringKv("periscope.flow.close_type",
                                        t.name().toLowerCase(Locale.ROOT)))
                                .setAsInt(s.closed[t.ordinal()]));
                    }
                }
                if (s.rtt.count > 0) {
                    rtt.getHistogramBuilder().addDataPoints(s.rtt.point(start, now));
                }
            }
            out.add(bytes.build());
            out.add(packets.build());
            out.add(retrans.build());
            out.add(flowsReported.build());
            if (rtt.getHistogram().getDataPointsCount() > 0) {
                out.add(rtt.build());
            }
        }

        private static Metric.Builder sum(String name, String unit, String description) {
            return Metric.newBuilder().setName(name).setUnit(unit).setDescription(description)
                    .setSum(Sum.newBuilder().setIsMonotonic(true)
                            .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE));
        }

        private static void directional(Metric.Builder m, List<KeyValue> attributes, long c2s, long s2c,
                                        long start, long now) {
            m.getSumBuilder().addDataPoints(NumberDataPoint.newBuilder().setStartTimeUnixNano(start)
                    .setTimeUnixNano(now).addAllAttributes(attributes)
                    .addAttributes(stringKv("periscope.direction", "client_to_server")).setAsInt(c2s));
            m.getSumBuilder().addDataPoints(NumberDataPoint.newBuilder().setStartTimeUnixNano(start)
                    .setTimeUnixNano(now).addAllAttributes(attributes)
                    .addAttributes(stringKv("periscope.direction", "server_to_client")).setAsInt(s2c));
        }
    }

    /** One agent counter or gauge. */
    private record SelfMetric(String name, String unit, String description, LongSupplier value, boolean monotonic,
                              List<KeyValue> attributes) {
    }

    /**
     * A series key: kind byte, then each attribute value as a 2-byte length and its bytes. The
     * probe instance is rewritten per lookup; keys stored in maps are exact-size copies.
     */
    static final class SeriesKey {
        private static final int MAX_VALUE_BYTES = 512;
        byte[] buf = new byte[2048];
        int len;
        int kind;
        private final byte[] digits = new byte[24];
        private final byte[] addressText = new byte[64];

        void reset(int kindValue) {
            kind = kindValue;
            buf[0] = (byte) kindValue;
            len = 1;
        }

        SeriesKey raw(byte[] src, int off, int n) {
            n = Math.min(n, MAX_VALUE_BYTES);
            if (len + n + 2 > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n + 2));
            }
            buf[len++] = (byte) (n >>> 8);
            buf[len++] = (byte) n;
            System.arraycopy(src, off, buf, len, n);
            len += n;
            return this;
        }

        SeriesKey value(TextField f) {
            return raw(f.array(), 0, f.length());
        }

        SeriesKey ascii(String s) {
            int n = s == null ? 0 : s.length();
            if (len + n + 2 > buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2 + n);
            }
            buf[len++] = (byte) (n >>> 8);
            buf[len++] = (byte) n;
            for (int i = 0; i < n; i++) {
                buf[len++] = (byte) s.charAt(i);
            }
            return this;
        }

        SeriesKey valueInt(long v) {
            if (v < 0) {
                return raw(digits, 0, 0);
            }
            int n = digits.length;
            do {
                digits[--n] = (byte) ('0' + v % 10);
                v /= 10;
            } while (v > 0);
            return raw(digits, n, digits.length - n);
        }

        SeriesKey address(int ipVersion, byte[] addr) {
            int n = IpFormat.format(ipVersion, addr, addressText, 0);
            return raw(addressText, 0, n);
        }

        void hostOrPeer(RequestLog r) {
            TextField host = r.host();
            if (!host.isEmpty()) {
                byte[] a = host.array();
                int end = host.length();
                if (a[0] != '[') {
                    for (int i = 0; i < host.length(); i++) {
                        if (a[i] == ':') {
                            end = i;
                            break;
                        }
                    }
                }
                raw(a, 0, end);
            } else {
                address(r.ipVersion(), r.remoteAddress());
            }
        }

        void grpcPath(TextField path) {
            byte[] a = path.array();
            int n = path.length();
            int start = n > 0 && a[0] == '/' ? 1 : 0;
            int slash = -1;
            for (int i = n - 1; i >= start; i--) {
                if (a[i] == '/') {
                    slash = i;
                    break;
                }
            }
            if (slash > start) {
                raw(a, start, slash - start);
                raw(a, slash + 1, n - slash - 1);
            } else {
                raw(a, 0, 0);
                raw(a, start, n - start);
            }
        }

        SeriesKey copy() {
            SeriesKey k = new SeriesKey();
            k.buf = Arrays.copyOf(buf, len);
            k.len = len;
            k.kind = kind;
            return k;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof SeriesKey)) {
                return false;
            }
            SeriesKey other = (SeriesKey) o;
            return Arrays.equals(buf, 0, len, other.buf, 0, other.len);
        }

        @Override
        public int hashCode() {
            int h = 1;
            for (int i = 0; i < len; i++) {
                h = 31 * h + buf[i];
            }
            return h;
        }
    }
}
