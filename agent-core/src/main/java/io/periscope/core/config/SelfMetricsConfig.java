package io.periscope.core.config;

/** The agent's own Prometheus endpoint ({@code /metrics}, {@code /healthz}, {@code /readyz}). */
public record SelfMetricsConfig(boolean enabled, String listen) {
    /** Loopback only by default: the numbers are for the node's scraper, not the network. */
    public static final String DEFAULT_LISTEN = "127.0.0.1:9464";

    public SelfMetricsConfig {
        int colon = listen.lastIndexOf(':');
        if (colon <= 0) {
            throw new ConfigValueException("listen", "expected address:port such as " + DEFAULT_LISTEN
                    + ", got '" + listen + "'");
        }
        try {
            int port = Integer.parseInt(listen.substring(colon + 1));
            if (port < 0 || port > 65_535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new ConfigValueException("listen", "bad port in '" + listen + "' (0-65535; 0 picks a free one)");
        }
    }

    /** Serve on {@value #DEFAULT_LISTEN}. */
    public static SelfMetricsConfig defaults() {
        return new SelfMetricsConfig(true, DEFAULT_LISTEN);
    }

    /** The address part (IPv6 brackets removed). */
    public String host() {
        String host = listen.substring(0, listen.lastIndexOf(':'));
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** The port part; 0 asks the kernel for a free port. */
    public int port() {
        return Integer.parseInt(listen.substring(listen.lastIndexOf(':') + 1));
    }
}
