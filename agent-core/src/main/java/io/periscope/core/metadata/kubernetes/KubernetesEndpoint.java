package io.periscope.core.metadata.kubernetes;

import io.periscope.core.ConfigException;
import io.periscope.core.config.KubernetesConfig;
import io.periscope.core.config.KubernetesMode;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Where and as whom the agent talks to the API server, resolved from {@code metadata.kubernetes} and
 * the environment kubelet gives every pod. {@code caPath} is null for a plain-http server (tests,
 * {@code kubectl proxy}).
 */
public record KubernetesEndpoint(URI server, Path tokenPath, Path caPath, String nodeName) {
    private static final String KEY = "metadata.kubernetes.";

    /**
     * The endpoint to use, or null when Kubernetes metadata is off: {@code enabled: false}, or
     * {@code auto} outside a cluster ({@code whyNot} then receives the reason). With {@code enabled: true}
     * anything missing is a {@link ConfigException} naming the key.
     */
    public static KubernetesEndpoint resolve(KubernetesConfig config, Function<String, String> environment,
                                             Consumer<String> whyNot) throws ConfigException {
        if (config.enabled() == KubernetesMode.FALSE) {
            whyNot.accept(KEY + "enabled is false");
            return null;
        }
        boolean required = config.enabled() == KubernetesMode.TRUE;
        URI server = server(config, environment);
        if (server == null) {
            return missing(required, whyNot, KEY + "api_server",
                    "not set and KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not in the environment"
                            + " (not running in a pod?); set it to the API server's URL, e.g. https://10.96.0.1:443");
        }
        Path token = Path.of(config.tokenPath());
        if (config.tokenPath().isEmpty() || !Files.isReadable(token)) {
            return missing(required, whyNot, KEY + "token_path",
                    "cannot read the service-account token '" + config.tokenPath()
                            + "' (is automountServiceAccountToken off?); point it at a bearer token file");
        }
        Path ca = null;
        if (server.getScheme().equals("https") && !config.caPath().isEmpty()) {
            ca = Path.of(config.caPath());
            if (!Files.isReadable(ca)) {
                return missing(required, whyNot, KEY + "ca_path",
                        "cannot read the cluster CA bundle '" + config.caPath()
                                + "'; point it at the PEM file, or set it empty to trust the JVM's CAs");
            }
        }
        String node = config.nodeName().isEmpty() ? orEmpty(environment.apply("NODE_NAME")) : config.nodeName();
        if (node.isEmpty()) {
            return missing(required, whyNot, KEY + "node_name",
                    "not set and NODE_NAME is not in the environment; set NODE_NAME from the downward API"
                            + " (fieldRef spec.nodeName) as deploy/kubernetes/daemonset.yaml does");
        }
        return new KubernetesEndpoint(server, token, ca, node);
    }

    private static KubernetesEndpoint missing(boolean required, Consumer<String> whyNot,
                                              String key, String problem) throws ConfigException {
        if (required) {
            throw new ConfigException(key + ": " + problem + " (" + KEY + "enabled is true; set it to auto to run"
                    + " without Kubernetes metadata when this is missing)");
        }
        whyNot.accept(key + ": " + problem);
        return null;
    }

    private static URI server(KubernetesConfig config, Function<String, String> environment) throws ConfigException {
        String url = config.apiServer();
        if (url.isEmpty()) {
            String host = orEmpty(environment.apply("KUBERNETES_SERVICE_HOST"));
            String port = orEmpty(environment.apply("KUBERNETES_SERVICE_PORT"));
            if (host.isEmpty() || port.isEmpty()) {
                return null;
            }
            url = "https://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
        try {
            URI uri = new URI(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            if (uri.getHost() == null) {
                throw new URISyntaxException(url, "no host");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new ConfigException(KEY + "api_server: '" + url + "' is not a URL (" + e.getMessage() + ")");
        }
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value.trim();
    }
}
