package io.periscope.core.metadata.kubernetes;

import io.periscope.core.ConfigException;
import io.periscope.core.config.KubernetesConfig;
import io.periscope.core.telemetry.MetricsRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Pod metadata for the agent: resolves {@code metadata.kubernetes}, runs the {@link PodWatcher} and
 * a housekeeping task (evicts deleted pods after their grace period, drops stalled watches), and
 * offers the {@link PodDirectory} lookups. Off ({@link #directory()} null) outside a cluster.
 */
public final class KubernetesMetadata implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesMetadata.class);
    private static final long HOUSEKEEPING_INTERVAL_MILLIS = 5_000;

    private final PodDirectory directory;
    private final PodWatcher watcher;
    private final ScheduledExecutorService housekeeping;

    private KubernetesMetadata(PodDirectory directory, PodWatcher watcher, ScheduledExecutorService housekeeping) {
        this.directory = directory;
        this.watcher = watcher;
        this.housekeeping = housekeeping;
    }

    /**
     * Starts watching this node's pods when {@code config} and {@code environment} say the agent runs in
     * a cluster; otherwise returns an instance that does nothing. With {@code enabled: true} a missing
     * server, token, CA or node name is a {@link ConfigException} naming the key. Never waits for the
     * API server: pods appear in the directory once the first list answers.
     */
    public static KubernetesMetadata start(KubernetesConfig config, Function<String, String> environment,
                                           MetricsRegistry metrics) throws ConfigException {
        KubernetesEndpoint endpoint = KubernetesEndpoint.resolve(config, environment,
                why -> LOG.info("Kubernetes metadata off: {}", why));
        if (endpoint == null) {
            metrics.gauge("periscope_kubernetes_enabled", "1 when pod metadata is read from the Kubernetes API",
                    () -> 0);
            return new KubernetesMetadata(null, null, null);
        }
        PodDirectory directory = new PodDirectory(config.maxPods(), config.deletedPodGrace().toNanos());
        metrics.gauge("periscope_kubernetes_enabled", "1 when pod metadata is read from the Kubernetes API", () -> 1);
        metrics.gauge("periscope_kubernetes_pods", "Pods of this node known (deleted ones in their grace period too)",
                directory::size);
        metrics.counter("periscope_kubernetes_pods_dropped_total",
                "Pods not kept because metadata.kubernetes.max_pods were already known", directory::dropped);
        PodWatcher watcher = new PodWatcher(endpoint, directory, config.tokenRefreshInterval(),
                config.requestTimeout(), config.watchTimeout(), config.maxBackoff(), metrics);
        ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "periscope-k8s-housekeeping");
            thread.setDaemon(true);
            return thread;
        });
        housekeeping.scheduleWithFixedDelay(() -> {
            long now = System.nanoTime();
            directory.evictExpired(now);
            watcher.checkStalled(now);
        }, HOUSEKEEPING_INTERVAL_MILLIS, HOUSEKEEPING_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        LOG.info("Kubernetes metadata: watching the pods of node {} at {}", endpoint.nodeName(), endpoint.server());
        watcher.start();
        return new KubernetesMetadata(directory, watcher, housekeeping);
    }

    /** The pods of this node, or null when Kubernetes metadata is off. */
    public PodDirectory directory() {
        return directory;
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.close();
            housekeeping.shutdownNow();
        }
    }
}
