package io.periscope.core.metadata.kubernetes;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the Kubernetes API's JSON (a PodList, watch events, a Status) with Jackson's streaming
 * parser, keeping only the fields periscope uses: a node's pods are large objects (managed fields,
 * specs) of which a few strings matter. Unknown fields are skipped without being built.
 */
final class PodJson {
    static final JsonFactory FACTORY = JsonFactory.builder().build();

    /** Service name set on the pod by the user, as the OTel Kubernetes conventions describe. */
    static final String SERVICE_NAME_ANNOTATION = "resource.opentelemetry.io/service.name";
    static final String NAME_LABEL = "app.kubernetes.io/name";
    static final String APP_LABEL = "app";
    static final String TEMPLATE_HASH_LABEL = "pod-template-hash";
    /** A CronJob names its Jobs {@code <cronjob>-<scheduled time in minutes>}. */
    private static final Pattern CRONJOB_JOB = Pattern.compile("^(.+)-[0-9]+$");

    /** One object of the API: a Pod (then {@link #pod} is set when it names a uid) or a Status. */
    static final class ApiObject {
        String kind = "";
        String resourceVersion = "";
        PodMetadata pod;
        int code;
        String reason = "";
        String message = "";
    }

    /** One line of a watch stream. */
    record WatchEvent(String type, ApiObject object) {
    }

    /** A list response: its resourceVersion (where a watch starts) and its pods. */
    record PodList(String resourceVersion, List<PodMetadata> pods) {
    }

    private PodJson() {
    }

    /** Reads a PodList whole from {@code p} (positioned before its first token). */
    static PodList readPodList(JsonParser p) throws IOException {
        expect(p.nextToken(), JsonToken.START_OBJECT, p);
        String resourceVersion = "";
        List<PodMetadata> pods = new ArrayList<>();
        String kind = "";
        ApiObject status = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals("metadata") && value == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    if (name.equals("resourceVersion")) {
                        resourceVersion = p.getValueAsString("");
                    } else {
                        p.skipChildren();
                    }
                }
            } else if (field.equals("items") && value == JsonToken.START_ARRAY) {
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    ApiObject item = readObjectBody(p);
                    if (item.pod != null) {
                        pods.add(item.pod);
                    }
                }
            } else if (field.equals("kind")) {
                kind = p.getValueAsString("");
            } else {
                p.skipChildren();
            }
        }
        if (kind.equals("Status")) {
            throw new JsonParseException(p, "expected a PodList, got a Status");
        }
        return new PodList(resourceVersion, pods);
    }

    /**
     * The next watch event of a stream (the API writes one JSON object per line), or null at the end
     * of the stream.
     */
    static WatchEvent readWatchEvent(JsonParser p) throws IOException {
        JsonToken first = p.nextToken();
        if (first == null) {
            return null;
        }
        expect(first, JsonToken.START_OBJECT, p);
        String type = "";
        ApiObject object = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals("type")) {
                type = p.getValueAsString("");
            } else if (field.equals("object") && value == JsonToken.START_OBJECT) {
                object = readObjectBody(p);
            } else {
                p.skipChildren();
            }
        }
        if (object == null) {
            throw new JsonParseException(p, "watch event without an object");
        }
        return new WatchEvent(type, object);
    }

    /** Reads a Pod or Status; {@code p} is at the object's START_OBJECT and ends at its END_OBJECT. */
    static ApiObject readObjectBody(JsonParser p) throws IOException {
        ApiObject object = new ApiObject();
        Pod pod = new Pod();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "kind":
                    object.kind = p.getValueAsString("");
                    break;
                case "metadata":
                    if (value == JsonToken.START_OBJECT) {
                        readMetadata(p, pod, object);
                    } else {
                        p.skipChildren();
                    }
                    break;
                case "spec":
                    if (value == JsonToken.START_OBJECT) {
                        readSpec(p, pod);
                    } else {
                        p.skipChildren();
                    }
                    break;
                case "status":
                    if (value == JsonToken.START_OBJECT) {
                        readStatus(p, pod);
                    } else {
                        // A Status object's "status" is the string "Failure".
                        p.skipChildren();
                    }
                    break;
                case "code":
                    object.code = p.getValueAsInt(0);
                    break;
                case "reason":
                    object.reason = p.getValueAsString("");
                    break;
                case "message":
                    object.message = p.getValueAsString("");
                    break;
                default:
                    p.skipChildren();
            }
        }
        if (!object.kind.equals("Status") && !pod.uid.isEmpty()) {
            object.pod = pod.build();
        }
        return object;
    }

    /** A pod's fields while it is being read. */
    private static final class Pod {
        String uid = "";
        String namespace = "";
        String name = "";
        String nodeName = "";
        String podIp = "";
        boolean hostNetwork;
        final Map<String, String> labels = new HashMap<>();
        String serviceAnnotation = "";
        String ownerKind = "";
        String ownerName = "";
        final Map<String, String> containers = new HashMap<>();

        PodMetadata build() {
            Map<String, String> attributes = new LinkedHashMap<>();
            attributes.put(KubernetesAttributes.NAMESPACE_NAME, namespace);
            attributes.put(KubernetesAttributes.POD_NAME, name);
            attributes.put(KubernetesAttributes.POD_UID, uid);
            putIfSet(attributes, KubernetesAttributes.NODE_NAME, nodeName);
            if (!hostNetwork) {
                putIfSet(attributes, KubernetesAttributes.POD_IP, podIp);
            }
            String workload = workload(attributes);
            String service = firstSet(serviceAnnotation, labels.get(NAME_LABEL), labels.get(APP_LABEL), workload);
            return new PodMetadata(uid, namespace, name, nodeName, hostNetwork ? "" : podIp, hostNetwork, service,
                    containers, attributes);
        }

        /** Adds the owner workload's attributes; returns the workload's name (null for a bare pod). */
        private String workload(Map<String, String> attributes) {
            if (ownerName.isEmpty()) {
                return null;
            }
            switch (ownerKind) {
                case "ReplicaSet": {
                    attributes.put(KubernetesAttributes.REPLICASET_NAME, ownerName);
                    String hash = labels.get(TEMPLATE_HASH_LABEL);
                    if (hash != null && !hash.isEmpty() && ownerName.endsWith("-" + hash)) {
                        String deployment = ownerName.substring(0, ownerName.length() - hash.length() - 1);
                        attributes.put(KubernetesAttributes.DEPLOYMENT_NAME, deployment);
                        return deployment;
                    }
                    return ownerName;
                }
                case "StatefulSet":
                    attributes.put(KubernetesAttributes.STATEFULSET_NAME, ownerName);
                    return ownerName;
                case "DaemonSet":
                    attributes.put(KubernetesAttributes.DAEMONSET_NAME, ownerName);
                    return ownerName;
                case "Job": {
                    attributes.put(KubernetesAttributes.JOB_NAME, ownerName);
                    var cron = CRONJOB_JOB.matcher(ownerName);
                    if (cron.matches()) {
                        attributes.put(KubernetesAttributes.CRONJOB_NAME, cron.group(1));
                        return cron.group(1);
                    }
                    return ownerName;
                }
                default:
                    return null;
            }
        }
    }

    private static void readMetadata(JsonParser p, Pod pod, ApiObject object) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "name":
                    pod.name = p.getValueAsString("");
                    break;
                case "namespace":
                    pod.namespace = p.getValueAsString("");
                    break;
                case "uid":
                    pod.uid = p.getValueAsString("");
                    break;
                case "resourceVersion":
                    object.resourceVersion = p.getValueAsString("");
                    break;
                case "labels":
                    readSelected(p, value, pod.labels, NAME_LABEL, APP_LABEL, TEMPLATE_HASH_LABEL);
                    break;
                case "annotations": {
                    Map<String, String> annotations = new HashMap<>();
                    readSelected(p, value, annotations, SERVICE_NAME_ANNOTATION);
                    pod.serviceAnnotation = annotations.getOrDefault(SERVICE_NAME_ANNOTATION, "");
                    break;
                }
                case "ownerReferences":
                    readOwners(p, value, pod);
                    break;
                default:
                    p.skipChildren();
            }
        }
    }

    /** The controlling owner (controller: true), else the first one listed. */
    private static void readOwners(JsonParser p, JsonToken value, Pod pod) throws IOException {
        if (value != JsonToken.START_ARRAY) {
            p.skipChildren();
            return;
        }
        boolean haveController = false;
        while (p.nextToken() == JsonToken.START_OBJECT) {
            String kind = "";
            String name = "";
            boolean controller = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("kind")) {
                    kind = p.getValueAsString("");
                } else if (field.equals("name")) {
                    name = p.getValueAsString("");
                } else if (field.equals("controller")) {
                    controller = p.getValueAsBoolean(false);
                } else {
                    p.skipChildren();
                }
            }
            if (!haveController && (controller || pod.ownerName.isEmpty())) {
                pod.ownerKind = kind;
                pod.ownerName = name;
                haveController = controller;
            }
        }
    }

    private static void readSpec(JsonParser p, Pod pod) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            if (field.equals("nodeName")) {
                pod.nodeName = p.getValueAsString("");
            } else if (field.equals("hostNetwork")) {
                pod.hostNetwork = p.getValueAsBoolean(false);
            } else {
                p.skipChildren();
            }
        }
    }

    private static void readStatus(JsonParser p, Pod pod) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "podIP":
                    pod.podIp = p.getValueAsString("");
                    break;
                case "containerStatuses":
                case "initContainerStatuses":
                case "ephemeralContainerStatuses":
                    readContainerStatuses(p, value, pod);
                    break;
                default:
                    p.skipChildren();
            }
        }
    }

    private static void readContainerStatuses(JsonParser p, JsonToken value, Pod pod) throws IOException {
        if (value != JsonToken.START_ARRAY) {
            p.skipChildren();
            return;
        }
        while (p.nextToken() == JsonToken.START_OBJECT) {
            String name = "";
            String containerId = "";
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("name")) {
                    name = p.getValueAsString("");
                } else if (field.equals("containerID")) {
                    containerId = p.getValueAsString("");
                } else {
                    // lastState also holds a containerID (the previous, dead instance): skipped whole.
                    p.skipChildren();
                }
            }
            String id = runtimeId(containerId);
            if (!id.isEmpty()) {
                pod.containers.put(id, name);
            }
        }
    }

    /** "containerd://abc..." → "abc..." (the id the cgroup path carries); "" for a container not started. */
    static String runtimeId(String containerId) {
        int scheme = containerId.indexOf("://");
        return scheme < 0 ? containerId : containerId.substring(scheme + 3);
    }

    private static void readSelected(JsonParser p, JsonToken value, Map<String, String> into, String... keys)
            throws IOException {
        if (value != JsonToken.START_OBJECT) {
            p.skipChildren();
            return;
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            for (String wanted : keys) {
                if (wanted.equals(key)) {
                    into.put(key, p.getValueAsString(""));
                }
            }
            p.skipChildren();
        }
    }

    private static void expect(JsonToken actual, JsonToken expected, JsonParser p) throws IOException {
        if (actual != expected) {
            throw new JsonParseException(p, "expected " + expected + ", got " + actual);
        }
    }

    private static void putIfSet(Map<String, String> into, String key, String value) {
        if (value != null && !value.isEmpty()) {
            into.put(key, value);
        }
    }

    private static String firstSet(String... candidates) {
        for (String candidate : candidates) {
            if (candidate != null && !candidate.isEmpty()) {
                return candidate;
            }
        }
        return null;
    }
}
