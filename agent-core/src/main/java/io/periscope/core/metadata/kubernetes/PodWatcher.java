package io.periscope.core.metadata.kubernetes;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.periscope.core.telemetry.Counter;
import io.periscope.core.telemetry.MetricsRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a {@link PodDirectory} in step with the API server, as client-go's reflector does: list the
 * node's pods, then watch from the list's resourceVersion; a watch that ends (the server's timeout,
 * a dropped connection) resumes from the last version seen; a 410 Gone (the version is too old)
 * lists again. Failures back off exponentially up to {@code maxBackoff}, are counted in
 * {@code periscope_kubernetes_errors_total{kind}} and logged when they change; the agent runs on
 * without pod metadata meanwhile. One thread, its own; lookups never wait for it.
 */
public final class PodWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PodWatcher.class);
    private static final long INITIAL_BACKOFF_MILLIS = 500;
    private static final int HTTP_OK = 200;
    private static final int HTTP_GONE = 410;
    private static final int MAX_ERROR_BODY_BYTES = 512;
    private static final String ERRORS_HELP = "Kubernetes API failures by kind (connect, tls, http, parse,"
            + " expired: watch version too old, stalled: no data within the watch timeout, token: re-read failed)";

    private final KubernetesEndpoint endpoint;
    private final PodDirectory directory;
    private final ServiceAccountToken token;
    private final Duration requestTimeout;
    private final Duration watchTimeout;
    private final long maxBackoffMillis;
    private final Thread thread;
    private final Counter lists;
    private final Counter connectErrors;
    private final Counter tlsErrors;
    private final Counter httpErrors;
    private final Counter parseErrors;
    private final Counter expired;
    private final Counter stalled;
    private final Counter tokenErrors;
    private final Counter added;
    private final Counter modified;
    private final Counter deleted;
    private final Counter bookmarks;
    private volatile boolean stopped;
    private volatile boolean connected;
    private volatile InputStream openStream;
    private volatile long lastDataNanos;
    private HttpClient client;
    private String lastLogged = "";

    /** A watcher of {@code endpoint}'s pods on its node into {@code directory}; {@link #start()} runs it. */
    public PodWatcher(KubernetesEndpoint endpoint, PodDirectory directory, Duration tokenRefresh,
                      Duration requestTimeout, Duration watchTimeout, Duration maxBackoff, MetricsRegistry metrics) {
        this.endpoint = endpoint;
        this.directory = directory;
        this.token = new ServiceAccountToken(endpoint.tokenPath(), tokenRefresh.toNanos());
        this.requestTimeout = requestTimeout;
        this.watchTimeout = watchTimeout;
        this.maxBackoffMillis = Math.max(INITIAL_BACKOFF_MILLIS, maxBackoff.toMillis());
        this.thread = new Thread(this::run, "periscope-k8s-watch");
        thread.setDaemon(true);
        lists = metrics.counter("periscope_kubernetes_lists_total",
                "Lists of this node's pods from the Kubernetes API (at start, after 410 Gone)");
        connectErrors = metrics.counter("periscope_kubernetes_errors_total", ERRORS_HELP, "kind", "connect");
        tlsErrors = metrics.counter("periscope_kubernetes_errors_total", ERRORS_HELP, "kind", "tls");
        httpErrors = metrics.counter("periscope_kubernetes_errors_total", ERRORS_HELP, "kind", "http");
        parseErrors = metrics.counter("periscope_kubernetes_errors_total", ERRORS_HELP, "kind", "parse");
        expired = metrics.counter("periscope_kubernetes_errors_total", ERRORS_HELP, "kind", "expired");
        stalled = metrics.counter("periscope_kubernetes_errors_total", ERRORS_HELP, "kind", "stalled");
        tokenErrors = metrics.counter("periscope_kubernetes_errors_total", ERRORS_HELP, "kind", "token");
        String eventsHelp = "Pod watch events received, by type";
        added = metrics.counter("periscope_kubernetes_watch_events_total", eventsHelp, "type", "added");
        modified = metrics.counter("periscope_kubernetes_watch_events_total", eventsHelp, "type", "modified");
        deleted = metrics.counter("periscope_kubernetes_watch_events_total", eventsHelp, "type", "deleted");
        bookmarks = metrics.counter("periscope_kubernetes_watch_events_total", eventsHelp, "type", "bookmark");
        metrics.gauge("periscope_kubernetes_connected", "1 while the last list or watch of the Kubernetes API worked",
                () -> connected ? 1 : 0);
    }

    /** Starts the watch thread. */
    public void start() {
        thread.start();
    }

    /** Whether the last list or watch worked. */
    public boolean connected() {
        return connected;
    }

    /** Whether a watch stream is open (its response has arrived), so {@link #checkStalled} can act on it. */
    boolean watching() {
        return openStream != null;
    }

    /**
     * Drops a watch that has sent nothing (not even a bookmark) for longer than the server was asked
     * to keep it open: a connection that died without a FIN would otherwise block the reader forever.
     * Called periodically from another thread.
     */
    public void checkStalled(long nowNanos) {
        InputStream stream = openStream;
        long limit = watchTimeout.toNanos() + 2 * requestTimeout.toNanos();
        if (stream != null && nowNanos - lastDataNanos > limit) {
            stalled.increment();
            closeQuietly(stream);
        }
    }

    private void run() {
        long backoffMillis = INITIAL_BACKOFF_MILLIS;
        String resourceVersion = null;
        while (!stopped) {
            try {
                if (client == null) {
                    client = newClient();
                }
                if (resourceVersion == null) {
                    resourceVersion = list();
                    backoffMillis = INITIAL_BACKOFF_MILLIS;
                }
                resourceVersion = watch(resourceVersion);
                backoffMillis = INITIAL_BACKOFF_MILLIS;
                continue;
            } catch (GoneException e) {
                expired.increment();
                LOG.info("Kubernetes watch version too old ({}); listing the pods of node {} again",
                        e.getMessage(), endpoint.nodeName());
                resourceVersion = null;
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (SSLException e) {
                tlsErrors.increment();
                client = null; // the CA file may be fixed or rotated: read it again on the next try
                failed("TLS with the Kubernetes API server " + endpoint.server() + " failed: " + e.getMessage()
                        + " (does metadata.kubernetes.ca_path " + endpoint.caPath() + " hold the cluster's CA?)");
            } catch (GeneralSecurityException e) {
                tlsErrors.increment();
                client = null;
                failed("cannot trust the Kubernetes CA bundle " + endpoint.caPath() + ": " + e.getMessage()
                        + " (check metadata.kubernetes.ca_path)");
            } catch (ApiException e) {
                httpErrors.increment();
                failed(e.getMessage());
            } catch (JsonProcessingException e) {
                parseErrors.increment();
                resourceVersion = null;
                failed("unreadable answer from the Kubernetes API server " + endpoint.server() + ": "
                        + e.getOriginalMessage());
            } catch (IOException e) {
                if (stopped) {
                    return;
                }
                if (e.getCause() instanceof SSLException) {
                    tlsErrors.increment();
                    client = null;
                    failed("TLS with the Kubernetes API server " + endpoint.server() + " failed: "
                            + e.getCause().getMessage() + " (does metadata.kubernetes.ca_path " + endpoint.caPath()
                            + " hold the cluster's CA?)");
                } else {
                    connectErrors.increment();
                    failed("cannot reach the Kubernetes API server " + endpoint.server() + ": " + e);
                }
            }
            connected = false;
            try {
                Thread.sleep(backoffMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            backoffMillis = Math.min(maxBackoffMillis, backoffMillis * 2);
        }
    }

    /** Lists the node's pods into the directory; returns the list's resourceVersion. */
    private String list() throws IOException, InterruptedException {
        HttpResponse<InputStream> response = send(podsUri(""), requestTimeout);
        try (InputStream body = response.body(); JsonParser parser = PodJson.FACTORY.createParser(body)) {
            PodJson.PodList list = PodJson.readPodList(parser);
            directory.replaceAll(list.pods(), System.nanoTime());
            lists.increment();
            recovered("listed " + list.pods().size() + " pods of node " + endpoint.nodeName());
            return list.resourceVersion();
        }
    }

    /** Follows the watch stream until it ends; returns the last resourceVersion seen. */
    private String watch(String fromVersion) throws IOException, InterruptedException {
        String query = "&watch=1&allowWatchBookmarks=true&timeoutSeconds=" + watchTimeout.getSeconds()
                + "&resourceVersion=" + URLEncoder.encode(fromVersion, StandardCharsets.UTF_8);
        // The request timeout covers the wait for the response headers; the stream itself lasts up to
        // the server-side timeoutSeconds, and checkStalled() guards a silent connection.
        HttpResponse<InputStream> response = send(podsUri(query), requestTimeout);
        String version = fromVersion;
        InputStream body = response.body();
        openStream = body;
        lastDataNanos = System.nanoTime();
        try (JsonParser parser = PodJson.FACTORY.createParser(body)) {
            connected = true;
            PodJson.WatchEvent event;
            while (!stopped && (event = PodJson.readWatchEvent(parser)) != null) {
                lastDataNanos = System.nanoTime();
                PodJson.ApiObject object = event.object();
                switch (event.type()) {
                    case "ADDED":
                    case "MODIFIED":
                        (event.type().equals("ADDED") ? added : modified).increment();
                        if (object.pod != null) {
                            directory.upsert(object.pod);
                        }
                        break;
                    case "DELETED":
                        deleted.increment();
                        if (object.pod != null) {
                            directory.markDeleted(object.pod.uid(), System.nanoTime());
                        }
                        break;
                    case "BOOKMARK":
                        bookmarks.increment();
                        break;
                    case "ERROR":
                        if (object.code == HTTP_GONE) {
                            throw new GoneException(object.reason + ": " + object.message);
                        }
                        throw new ApiException("Kubernetes watch error " + object.code + " " + object.reason + ": "
                                + object.message);
                    default:
                        throw new ApiException("unknown Kubernetes watch event type '" + event.type() + "'");
                }
                if (!object.resourceVersion.isEmpty()) {
                    version = object.resourceVersion;
                }
            }
            return version;
        } catch (IOException e) {
            if (stopped) {
                return version;
            }
            if (e instanceof GoneException || e instanceof ApiException || e instanceof JsonProcessingException) {
                throw e;
            }
            // The connection dropped (or checkStalled closed it): watch again from where we were. The
            // pods known so far stay; only changes made meanwhile wait for the next watch.
            connectErrors.increment();
            connected = false;
            LOG.info("Kubernetes watch of node {} interrupted ({}); resuming from version {}", endpoint.nodeName(),
                    e.toString(), version);
            return version;
        } finally {
            openStream = null;
            closeQuietly(body);
        }
    }

    private HttpResponse<InputStream> send(URI uri, Duration timeout) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json")
                .GET();
        String bearer;
        try {
            bearer = token.current(System.nanoTime());
        } catch (ServiceAccountToken.StaleTokenException e) {
            tokenErrors.increment();
            failed("cannot re-read the service-account token " + endpoint.tokenPath() + " (" + e.getMessage()
                    + "); using the last one read");
            bearer = token.lastGood();
        } catch (IOException e) {
            tokenErrors.increment();
            throw new ApiException("cannot read the service-account token " + endpoint.tokenPath() + ": " + e
                    + " (check metadata.kubernetes.token_path)");
        }
        if (!bearer.isEmpty()) {
            request.header("Authorization", "Bearer " + bearer);
        }
        HttpResponse<InputStream> response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        int status = response.statusCode();
        if (status == HTTP_OK) {
            return response;
        }
        String detail;
        try (InputStream body = response.body()) {
            detail = new String(body.readNBytes(MAX_ERROR_BODY_BYTES), StandardCharsets.UTF_8).strip();
        }
        if (status == HTTP_GONE) {
            throw new GoneException("HTTP 410: " + detail);
        }
        throw new ApiException("Kubernetes API server " + endpoint.server() + " answered HTTP " + status + " to "
                + uri.getPath() + hint(status) + ": " + detail);
    }

    private static String hint(int status) {
        if (status == 401) {
            return " (the token in metadata.kubernetes.token_path is not accepted)";
        }
        if (status == 403) {
            return " (the service account may not list/watch pods: apply deploy/kubernetes/rbac.yaml)";
        }
        return "";
    }

    private URI podsUri(String query) {
        String selector = URLEncoder.encode("spec.nodeName=" + endpoint.nodeName(), StandardCharsets.UTF_8);
        return URI.create(endpoint.server() + "/api/v1/pods?fieldSelector=" + selector + query);
    }

    private HttpClient newClient() throws IOException, GeneralSecurityException {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(requestTimeout);
        if (endpoint.caPath() != null) {
            builder.sslContext(trusting(endpoint));
        }
        return builder.build();
    }

    /** An SSLContext that trusts exactly the certificates of the CA bundle (PEM, one or more). */
    static SSLContext trusting(KubernetesEndpoint endpoint) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(endpoint.caPath())) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new GeneralSecurityException("no certificate in the file");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (Certificate certificate : certificates) {
            store.setCertificateEntry("ca-" + i++, certificate);
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    private void failed(String message) {
        connected = false;
        // One line per distinct failure, not one per retry.
        if (!message.equals(lastLogged)) {
            LOG.warn("{}; pods are named without Kubernetes metadata until it works (retrying)", message);
            lastLogged = message;
        }
    }

    private void recovered(String what) {
        connected = true;
        if (!lastLogged.isEmpty()) {
            LOG.info("Kubernetes API server {} works again: {}", endpoint.server(), what);
            lastLogged = "";
        } else {
            LOG.info("Kubernetes metadata: {} from {}", what, endpoint.server());
        }
    }

    private static void closeQuietly(InputStream stream) {
        try {
            stream.close();
        } catch (IOException e) {
            // Closing is how a stalled or stopped watch is ended; nothing more to do.
        }
    }

    @Override
    public void close() {
        stopped = true;
        InputStream stream = openStream;
        if (stream != null) {
            closeQuietly(stream);
        }
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The API answered with an error the watcher cannot fix by relisting. */
    private static final class ApiException extends IOException {
        private static final long serialVersionUID = 1L;

        ApiException(String message) {
            super(message);
        }
    }

    /** 410 Gone: the resourceVersion is older than the server keeps; list again. */
    private static final class GoneException extends IOException {
        private static final long serialVersionUID = 1L;

        GoneException(String message) {
            super(message);
        }
    }
}
