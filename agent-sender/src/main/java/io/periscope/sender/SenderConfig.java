package io.periscope.sender;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable configuration of an {@link OtlpExporter}; built with {@link #builder()}. Every value
 * has a default; {@link Builder#build()} rejects nonsense with a message naming the setting.
 */
public final class SenderConfig {
    /** Where spans, metrics and logs go. */
    public enum Destination {
        /** OTLP/gRPC to a collector. */
        GRPC,
        /** OTLP JSON lines into a local file (the Collector's otlpjsonfile format). */
        FILE
    }

    private final Destination destination;
    private final String host;
    private final int port;
    private final boolean tls;
    private final Path trustCertificates;
    private final Path clientCertificate;
    private final Path clientKey;
    private final Map<String, String> headers;
    private final Duration exportTimeout;
    private final boolean gzip;
    private final Map<Signal, Integer> queueCapacity;
    private final DropPolicy dropPolicy;
    private final int maxBatchSize;
    private final Duration maxBatchDelay;
    private final int maxMessageBytes;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final double backoffMultiplier;
    private final double backoffJitter;
    private final Duration maxRetryElapsed;
    private final Path filePath;
    private final long fileMaxBytes;
    private final int fileMaxBackups;
    private final Duration metricsInterval;
    private final int maxSeriesPerMetric;
    private final boolean requestLogsAsLogs;
    private final int traceExportThreads;
    private final long syscallClockOffsetNanos;
    private final long packetClockOffsetNanos;

    private SenderConfig(Builder b) {
        destination = b.destination;
        host = b.host;
        port = b.port;
        tls = b.tls;
        trustCertificates = b.trustCertificates;
        clientCertificate = b.clientCertificate;
        clientKey = b.clientKey;
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(b.headers));
        exportTimeout = b.exportTimeout;
        gzip = b.gzip;
        queueCapacity = Collections.unmodifiableMap(new EnumMap<>(b.queueCapacity));
        dropPolicy = b.dropPolicy;
        maxBatchSize = b.maxBatchSize;
        maxBatchDelay = b.maxBatchDelay;
        maxMessageBytes = b.maxMessageBytes;
        initialBackoff = b.initialBackoff;
        maxBackoff = b.maxBackoff;
        backoffMultiplier = b.backoffMultiplier;
        backoffJitter = b.backoffJitter;
        maxRetryElapsed = b.maxRetryElapsed;
        filePath = b.filePath;
        fileMaxBytes = b.fileMaxBytes;
        fileMaxBackups = b.fileMaxBackups;
        metricsInterval = b.metricsInterval;
        maxSeriesPerMetric = b.maxSeriesPerMetric;
        requestLogsAsLogs = b.requestLogsAsLogs;
        traceExportThreads = b.traceExportThreads;
        syscallClockOffsetNanos = b.syscallClockOffsetNanos;
        packetClockOffsetNanos = b.packetClockOffsetNanos;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Destination destination() {
        return destination;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public boolean tls() {
        return tls;
    }

    public Path trustCertificates() {
        return trustCertificates;
    }

    public Path clientCertificate() {
        return clientCertificate;
    }

    public Path clientKey() {
        return clientKey;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public Duration exportTimeout() {
        return exportTimeout;
    }

    public boolean gzip() {
        return gzip;
    }

    public int queueCapacity(Signal signal) {
        return queueCapacity.get(signal);
    }

    public DropPolicy dropPolicy() {
        return dropPolicy;
    }

    public int maxBatchSize() {
        return maxBatchSize;
    }

    public Duration maxBatchDelay() {
        return maxBatchDelay;
    }

    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    public Duration initialBackoff() {
        return initialBackoff;
    }

    public Duration maxBackoff() {
        return maxBackoff;
    }

    public double backoffMultiplier() {
        return backoffMultiplier;
    }

    public double backoffJitter() {
        return backoffJitter;
    }

    public Duration maxRetryElapsed() {
        return maxRetryElapsed;
    }

    public Path filePath() {
        return filePath;
    }

    public long fileMaxBytes() {
        return fileMaxBytes;
    }

    public int fileMaxBackups() {
        return fileMaxBackups;
    }

    public Duration metricsInterval() {
        return metricsInterval;
    }

    public int maxSeriesPerMetric() {
        return maxSeriesPerMetric;
    }

    public boolean requestLogsAsLogs() {
        return requestLogsAsLogs;
    }

    public int traceExportThreads() {
        return traceExportThreads;
    }

    public long syscallClockOffsetNanos() {
        return syscallClockOffsetNanos;
    }

    public long packetClockOffsetNanos() {
        return packetClockOffsetNanos;
    }

    /** Builder of {@link SenderConfig}; the defaults are those documented on each setter. */
    public static final class Builder {
        private Destination destination = Destination.FILE;
        private String host = "localhost";
        private int port = 4317;
        private boolean tls;
        private Path trustCertificates;
        private Path clientCertificate;
        private Path clientKey;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private Duration exportTimeout = Duration.ofSeconds(10);
        private boolean gzip = true;
        private final Map<Signal, Integer> queueCapacity = new EnumMap<>(Signal.class);
        private DropPolicy dropPolicy = DropPolicy.DROP_NEWEST;
        // Each export call costs gRPC/HTTP/2 work of its own (stream set-up, headers, a response) on
        // top of the bytes: at 512 spans per call that fixed part was half of the export path's CPU
        // (bench sender.GrpcExportCpuMain: 2.5 -> 1.1 us per span with 2048). 2048 typical spans
        // are ~1.5 MB, well inside a Collector's default 4 MiB limit; larger batches are split by
        // size (max message bytes) anyway. 4096 halved that fixed part once more in the lab
        // (agent-sender README, Session 8: -0.2 us per span), but in the lead's quiet B run it came
        // with 2.7-6x the export-queue drops over the run and +8 MB of RSS (3.6 MB requests), so the
        // default stays at 2048.
        private int maxBatchSize = 2048;
        private Duration maxBatchDelay = Duration.ofSeconds(1);
        private int maxMessageBytes = 4 * 1024 * 1024;
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(5);
        private double backoffMultiplier = 2.0;
        private double backoffJitter = 0.2;
        private Duration maxRetryElapsed = Duration.ofMinutes(5);
        private Path filePath = Path.of("/var/log/periscope/otlp.jsonl");
        private long fileMaxBytes = 100L * 1024 * 1024;
        private int fileMaxBackups = 5;
        private Duration metricsInterval = Duration.ofSeconds(10);
        private int maxSeriesPerMetric = 2000;
        private boolean requestLogsAsLogs;
        private int traceExportThreads = 1;
        private long syscallClockOffsetNanos = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
        private long packetClockOffsetNanos;

        private Builder() {
            // A slot holds one encoded span (~1 KiB, filled on first use). Two batches, so that a
            // full batch can wait while the previous one is in flight (the agent's own default,
            // pipeline.export_ring_size, is the same 8192).
            queueCapacity.put(Signal.TRACES, 8192);
            queueCapacity.put(Signal.METRICS, 64);
            queueCapacity.put(Signal.LOGS, 8192);
        }

        /**
         * Sends OTLP/gRPC to {@code endpoint}: {@code host:port}, {@code http://host:port} or
         * {@code https://host:port} (TLS). Default: no collector, the file exporter.
         */
        public Builder endpoint(String endpoint) {
            Objects.requireNonNull(endpoint, "endpoint");
            String e = endpoint.trim();
            boolean secure = false;
            if (e.startsWith("https://")) {
                secure = true;
            }
            if (!e.contains("://")) {
                e = "http://" + e;
            }
            URI uri;
            try {
                uri = URI.create(e);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("sender.endpoint: not host:port or a URL: " + endpoint, ex);
            }
            if (uri.getHost() == null) {
                throw new IllegalArgumentException("sender.endpoint: no host in " + endpoint);
            }
            destination = Destination.GRPC;
            host = uri.getHost();
            port = uri.getPort() < 0 ? 4317 : uri.getPort();
            tls = secure || tls;
            return this;
        }

        /** Uses TLS to the collector (implied by an https:// endpoint). Default false. */
        public Builder tls(boolean value) {
            tls = value;
            return this;
        }

        /** PEM CA certificates to trust instead of the JDK's; implies TLS. */
        public Builder trustCertificates(Path pem) {
            trustCertificates = Objects.requireNonNull(pem);
            tls = true;
            return this;
        }

        /** mTLS: PEM client certificate chain and PKCS#8 PEM private key; implies TLS. */
        public Builder clientCertificate(Path certificateChainPem, Path privateKeyPem) {
            clientCertificate = Objects.requireNonNull(certificateChainPem);
            clientKey = Objects.requireNonNull(privateKeyPem);
            tls = true;
            return this;
        }

        /** A header sent with every export (e.g. an auth token). */
        public Builder header(String name, String value) {
            headers.put(Objects.requireNonNull(name).toLowerCase(java.util.Locale.ROOT), Objects.requireNonNull(value));
            return this;
        }

        /** Deadline of one export call. Default 10 s. */
        public Builder exportTimeout(Duration value) {
            exportTimeout = positive("sender.export_timeout", value);
            return this;
        }

        /** gzip request bodies. Default true. */
        public Builder gzip(boolean value) {
            gzip = value;
            return this;
        }

        /** Items the queue of {@code signal} holds (spans 8192, log records 8192, metric requests 64). */
        public Builder queueCapacity(Signal signal, int items) {
            if (items < 1) {
                throw new IllegalArgumentException("sender.queue." + signal.label() + ": must be >= 1, was " + items);
            }
            queueCapacity.put(signal, items);
            return this;
        }

        /**
         * Which item a full queue gives up. Default {@link DropPolicy#DROP_NEWEST}: refusing
         * costs the caller nothing, while evicting the oldest copies the new record into the
         * coldest slot of the ring (about 10x the cost of an offer into a warm slot, see
         * README), which is the wrong moment to slow the pipeline down.
         */
        public Builder dropPolicy(DropPolicy value) {
            dropPolicy = Objects.requireNonNull(value);
            return this;
        }

        /** Items per export request at most (before splitting for size). Default 2048. */
        public Builder maxBatchSize(int items) {
            if (items < 1) {
                throw new IllegalArgumentException("sender.max_batch_size: must be >= 1, was " + items);
            }
            maxBatchSize = items;
            return this;
        }

        /** How long the first item of a batch waits for the batch to fill. Default 1 s. */
        public Builder maxBatchDelay(Duration value) {
            maxBatchDelay = positive("sender.max_batch_delay", value);
            return this;
        }

        /** Largest request sent; bigger batches are split. Default 4 MiB (a collector's default limit). */
        public Builder maxMessageBytes(int bytes) {
            if (bytes < 16 * 1024) {
                throw new IllegalArgumentException("sender.max_message_bytes: must be >= 16384, was " + bytes);
            }
            maxMessageBytes = bytes;
            return this;
        }

        /** Retry backoff: first wait, cap, growth factor and +-jitter fraction. Default 100 ms, 5 s, 2, 0.2. */
        public Builder backoff(Duration initial, Duration max, double multiplier, double jitter) {
            initialBackoff = positive("sender.retry.initial_backoff", initial);
            maxBackoff = positive("sender.retry.max_backoff", max);
            if (multiplier < 1 || jitter < 0 || jitter >= 1) {
                throw new IllegalArgumentException("sender.retry: multiplier must be >= 1 and jitter in [0, 1)");
            }
            backoffMultiplier = multiplier;
            backoffJitter = jitter;
            return this;
        }

        /** How long one request is retried before its items count as failed. Default 5 min. */
        public Builder maxRetryElapsed(Duration value) {
            maxRetryElapsed = positive("sender.retry.max_elapsed", value);
            return this;
        }

        /** Uses the OTLP JSON lines file exporter (the default destination). */
        public Builder file(Path path, long maxBytes, int maxBackups) {
            if (maxBytes < 1024 || maxBackups < 0) {
                throw new IllegalArgumentException("sender.file: max_bytes must be >= 1024 and max_backups >= 0");
            }
            destination = Destination.FILE;
            filePath = Objects.requireNonNull(path);
            fileMaxBytes = maxBytes;
            fileMaxBackups = maxBackups;
            return this;
        }

        /** How often aggregated metrics are exported. Default 10 s. */
        public Builder metricsInterval(Duration value) {
            metricsInterval = positive("sender.metrics_interval", value);
            return this;
        }

        /** Cardinality guard: series per metric before new ones fold into "other". Default 2000. */
        public Builder maxSeriesPerMetric(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("sender.max_series_per_metric: must be >= 1, was " + value);
            }
            maxSeriesPerMetric = value;
            return this;
        }

        /** Also export every request log as an OTLP log record. Default false. */
        public Builder requestLogsAsLogs(boolean value) {
            requestLogsAsLogs = value;
            return this;
        }

        /**
         * Threads encoding, compressing and sending spans, each with one request in flight.
         * Default 1 (about 100K spans/s with gzip on this project's 2-core test machine); more
         * threads use more cores when the span rate needs them.
         */
        public Builder traceExportThreads(int value) {
            if (value < 1 || value > 64) {
                throw new IllegalArgumentException("sender.trace_export_threads: must be in [1, 64], was " + value);
            }
            traceExportThreads = value;
            return this;
        }

        /**
         * Added to syscall timestamps (CLOCK_MONOTONIC ns) to get Unix epoch ns. Default: measured
         * at build time from the JVM's clocks (System.nanoTime is CLOCK_MONOTONIC on Linux).
         */
        public Builder syscallClockOffsetNanos(long value) {
            syscallClockOffsetNanos = value;
            return this;
        }

        /** Added to packet timestamps; default 0 since capture time is already epoch ns. */
        public Builder packetClockOffsetNanos(long value) {
            packetClockOffsetNanos = value;
            return this;
        }

        public SenderConfig build() {
            if (clientCertificate != null && clientKey == null) {
                throw new IllegalArgumentException("sender.tls: a client certificate needs its key");
            }
            return new SenderConfig(this);
        }

        private static Duration positive(String key, Duration value) {
            Objects.requireNonNull(value, key);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(key + ": must be positive, was " + value);
            }
            return value;
        }
    }
}
