package io.periscope.core.config;

import java.util.Map;

/**
 * Process metadata: how many processes are cached, where procfs is (a container sees the host's
 * at {@code /proc} with hostPID), explicit {@code service.name}s by process name (comm), and pod
 * metadata from the Kubernetes API.
 */
public record MetadataConfig(@Range(min = 16, max = 1L << 22) int cacheSize, String procRoot,
                             Map<String, String> serviceNames, KubernetesConfig kubernetes) {
    private static final int DEFAULT_CACHE_SIZE = 16_384;

    public MetadataConfig {
        serviceNames = Map.copyOf(serviceNames);
        if (procRoot.isEmpty()) {
            throw new ConfigValueException("proc_root", "must name the procfs mount, normally /proc");
        }
    }

    /** 16 Ki processes, /proc, no explicit names, Kubernetes metadata when in a cluster. */
    public static MetadataConfig defaults() {
        return new MetadataConfig(DEFAULT_CACHE_SIZE, "/proc", Map.of(), KubernetesConfig.defaults());
    }
}
