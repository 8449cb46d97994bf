package io.periscope.core.config;

import java.time.Duration;

/**
 * Pod metadata from the Kubernetes API server ({@code metadata.kubernetes}). Empty strings mean "from
 * the environment": {@code api_server} from KUBERNETES_SERVICE_HOST/PORT, {@code node_name} from
 * NODE_NAME (the DaemonSet sets it from the downward API).
 */
public record KubernetesConfig(KubernetesMode enabled, String apiServer, String tokenPath, String caPath,
                               String nodeName, Duration tokenRefreshInterval, Duration deletedPodGrace,
                               @Range(min = 1, max = 65_536) int maxPods, Duration requestTimeout,
                               Duration watchTimeout, Duration maxBackoff) {
    /** Where kubelet mounts the service account's bound token. */
    public static final String IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
    /** Where kubelet mounts the cluster CA bundle. */
    public static final String IN_CLUSTER_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
    private static final int DEFAULT_MAX_PODS = 1024;
    private static final long DEFAULT_TOKEN_REFRESH_SECONDS = 60;
    private static final long DEFAULT_DELETED_POD_GRACE_SECONDS = 120;
    private static final long DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;
    private static final long DEFAULT_WATCH_TIMEOUT_SECONDS = 300;
    private static final long DEFAULT_MAX_BACKOFF_SECONDS = 30;

    public KubernetesConfig {
        if (!apiServer.isEmpty() && !apiServer.startsWith("https://") && !apiServer.startsWith("http://")) {
            throw new ConfigValueException("api_server",
                    "must be a URL such as https://10.96.0.1:443 (or empty: from KUBERNETES_SERVICE_HOST/PORT), got '"
                            + apiServer + "'");
        }
        requirePositive(tokenRefreshInterval, "token_refresh_interval");
        requirePositive(requestTimeout, "request_timeout");
        requirePositive(maxBackoff, "max_backoff");
        if (watchTimeout.getSeconds() < 1) {
            throw new ConfigValueException("watch_timeout", "must be at least 1s");
        }
        if (deletedPodGrace.isNegative()) {
            throw new ConfigValueException("deleted_pod_grace", "must not be negative");
        }
    }

    private static void requirePositive(Duration value, String key) {
        if (value.isZero() || value.isNegative()) {
            throw new ConfigValueException(key, "must be a positive duration such as 10s");
        }
    }

    /** auto, in-cluster paths, 1024 pods, deleted pods kept 2 min, token re-read every minute. */
    public static KubernetesConfig defaults() {
        return new KubernetesConfig(KubernetesMode.AUTO, "", IN_CLUSTER_TOKEN, IN_CLUSTER_CA, "",
                Duration.ofSeconds(DEFAULT_TOKEN_REFRESH_SECONDS),
                Duration.ofSeconds(DEFAULT_DELETED_POD_GRACE_SECONDS),
                DEFAULT_MAX_PODS, Duration.ofSeconds(DEFAULT_REQUEST_TIMEOUT_SECONDS),
                Duration.ofSeconds(DEFAULT_WATCH_TIMEOUT_SECONDS), Duration.ofSeconds(DEFAULT_MAX_BACKOFF_SECONDS));
    }
}
