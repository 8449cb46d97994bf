package io.periscope.core.metadata.kubernetes;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What periscope keeps of one pod: its identity, node, IP, the workload that owns it, the
 * {@code service.name} its labels suggest, and its containers by runtime container id (64 hex, no
 * {@code containerd://} prefix). {@code attributes} are the pod-level OTel resource attributes,
 * built once here so a lookup never builds anything.
 */
public record PodMetadata(String uid, String namespace, String name, String nodeName, String podIp,
                          boolean hostNetwork, String serviceName, Map<String, String> containerNamesById,
                          Map<String, String> attributes) {

    public PodMetadata {
        containerNamesById = Map.copyOf(containerNamesById);
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    /** The resource attributes of one container of this pod: the pod's plus {@code k8s.container.name}. */
    public Map<String, String> containerAttributes(String containerName) {
        Map<String, String> all = new LinkedHashMap<>(attributes);
        if (containerName != null && !containerName.isEmpty()) {
            all.put(KubernetesAttributes.CONTAINER_NAME, containerName);
        }
        return Collections.unmodifiableMap(all);
    }
}
