package io.periscope.core.metadata.kubernetes;

import java.util.Map;

/**
 * One container of a pod as a span's resource sees it: the pod, the container's name and the
 * resource attributes (pod-level plus {@code k8s.container.name}), made once when the pod was seen.
 */
public record ContainerMetadata(PodMetadata pod, String containerName, Map<String, String> resourceAttributes) {

    /** The {@code service.name} the pod's labels or workload give, or null when they give none. */
    public String serviceName() {
        return pod.serviceName();
    }
}
