package io.periscope.core.config;

import java.time.Duration;
import java.util.Map;

/**
 * The OTLP/gRPC exporter. An empty {@code endpoint} means "no collector": the file exporter then
 * takes the output. An endpoint without a port gets {@link #DEFAULT_PORT}.
 */
public record OtlpExporterConfig(String endpoint, TlsConfig tls, Map<String, String> headers,
                                 Duration timeout, Compression compression) {
    /** The OTLP/gRPC port the OpenTelemetry Collector listens on by default. */
    public static final int DEFAULT_PORT = 4317;

    public OtlpExporterConfig {
        headers = Map.copyOf(headers);
        if (!endpoint.isEmpty()) {
            parseEndpoint(endpoint);
        }
        if (timeout.isZero() || timeout.isNegative()) {
            throw new ConfigValueException("timeout", "must be positive, e.g. 10s");
        }
    }

    /** No collector configured; 10 s export timeout; no compression. */
    public static OtlpExporterConfig defaults() {
        return new OtlpExporterConfig("", TlsConfig.defaults(), Map.of(), Duration.ofSeconds(10), Compression.NONE);
    }

    /** Whether a collector was configured. */
    public boolean enabled() {
        return !endpoint.isEmpty();
    }

    /** The host part of the endpoint (brackets of an IPv6 literal removed). */
    public String host() {
        return parseEndpoint(endpoint)[0];
    }

    /** The port of the endpoint, {@link #DEFAULT_PORT} when not written. */
    public int port() {
        return Integer.parseInt(parseEndpoint(endpoint)[1]);
    }

    private static String[] parseEndpoint(String endpoint) {
        String text = endpoint;
        if (text.contains("://")) {
            throw new ConfigValueException("endpoint", "expected host:port (e.g. localhost:4317), not a URL: '"
                    + endpoint + "'; TLS is chosen with exporters.otlp.tls.enabled");
        }
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new ConfigValueException("endpoint", "unclosed '[' in '" + endpoint + "'");
            }
            host = text.substring(1, close);
            String rest = text.substring(close + 1);
            port = rest.startsWith(":") ? rest.substring(1) : Integer.toString(DEFAULT_PORT);
        } else {
            int colon = text.lastIndexOf(':');
            host = colon < 0 ? text : text.substring(0, colon);
            port = colon < 0 ? Integer.toString(DEFAULT_PORT) : text.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw new ConfigValueException("endpoint", "missing host in '" + endpoint + "'");
        }
        try {
            PortRange.of(Integer.parseInt(port));
        } catch (IllegalArgumentException e) {
            throw new ConfigValueException("endpoint", "bad port '" + port + "' in '" + endpoint + "'");
        }
        return new String[] {host, port};
    }
}
