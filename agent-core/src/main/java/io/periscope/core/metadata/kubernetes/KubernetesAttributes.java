package io.periscope.core.metadata.kubernetes;

/** The OTel semantic-convention resource attribute names periscope sets from pod metadata. */
public final class KubernetesAttributes {
    public static final String NAMESPACE_NAME = "k8s.namespace.name";
    public static final String POD_NAME = "k8s.pod.name";
    public static final String POD_UID = "k8s.pod.uid";
    public static final String POD_IP = "k8s.pod.ip";
    public static final String NODE_NAME = "k8s.node.name";
    public static final String CONTAINER_NAME = "k8s.container.name";
    public static final String DEPLOYMENT_NAME = "k8s.deployment.name";
    public static final String REPLICASET_NAME = "k8s.replicaset.name";
    public static final String STATEFULSET_NAME = "k8s.statefulset.name";
    public static final String DAEMONSET_NAME = "k8s.daemonset.name";
    public static final String JOB_NAME = "k8s.job.name";
    public static final String CRONJOB_NAME = "k8s.cronjob.name";

    private KubernetesAttributes() {
    }
}
