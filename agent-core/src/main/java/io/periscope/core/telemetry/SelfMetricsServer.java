package io.periscope.core.telemetry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves {@code /metrics} (Prometheus text), {@code /healthz} and {@code /readyz} with the JDK's
 * HTTP server on one daemon thread: scrapes are rare and small, no framework needed.
 */
public final class SelfMetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SelfMetricsServer.class);
    private static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";
    private static final int HTTP_OK = 200;
    private static final int HTTP_NOT_FOUND = 404;
    private static final int HTTP_BAD_METHOD = 405;
    private static final int HTTP_UNAVAILABLE = 503;
    private static final int BACKLOG = 16;

    private final HttpServer server;
    private final ExecutorService executor;

    private SelfMetricsServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Binds {@code host:port} (port 0 picks a free one) and starts serving. */
    public static SelfMetricsServer start(String host, int port, MetricsRegistry registry, Health health)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), BACKLOG);
        ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "periscope-self-metrics");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(exchange, registry, health));
        server.start();
        SelfMetricsServer started = new SelfMetricsServer(server, executor);
        LOG.info("self-metrics on http://{}:{}/metrics", host, started.port());
        return started;
    }

    /** The bound port. */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void handle(HttpExchange exchange, MetricsRegistry registry, Health health) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                respond(exchange, HTTP_BAD_METHOD, TEXT_CONTENT_TYPE, "only GET and HEAD\n");
                return;
            }
            switch (exchange.getRequestURI().getPath()) {
                case "/metrics":
                    respond(exchange, HTTP_OK, PROMETHEUS_CONTENT_TYPE, registry.scrape());
                    break;
                case "/healthz":
                    String failure = health.failure();
                    respond(exchange, failure == null ? HTTP_OK : HTTP_UNAVAILABLE, TEXT_CONTENT_TYPE,
                            failure == null ? "ok\n" : "failed: " + failure + "\n");
                    break;
                case "/readyz":
                    String reason = health.notReadyReason();
                    respond(exchange, reason == null ? HTTP_OK : HTTP_UNAVAILABLE, TEXT_CONTENT_TYPE,
                            reason == null ? "ready\n" : "not ready: " + reason + "\n");
                    break;
                default:
                    respond(exchange, HTTP_NOT_FOUND, TEXT_CONTENT_TYPE, "try /metrics, /healthz or /readyz\n");
            }
        } catch (RuntimeException e) {
            LOG.warn("self-metrics request failed", e);
        }
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream body0 = exchange.getResponseBody()) {
                body0.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
