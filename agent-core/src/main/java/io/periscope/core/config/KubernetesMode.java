package io.periscope.core.config;

/**
 * Whether the agent reads pod metadata from the Kubernetes API: {@code auto} when it finds itself in a
 * cluster (service environment and service-account files present), always, or never.
 */
public enum KubernetesMode {
    AUTO, TRUE, FALSE
}
