package io.periscope.sender;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.periscope.sender.internal.ProtoWriter;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Who produced a piece of telemetry: the OTel resource of one process (or of the node, for
 * flows). agent-core builds one per observed pid and passes the same instance with every record
 * of that pid; the exporter groups spans by instance identity and encodes each resource once.
 */
public final class ProcessResource {
    private final String hostName;
    private final String serviceName;
    private final int pid;
    private final String executableName;
    private final String containerId;
    private final Map<String, String> extraAttributes;
    private final byte[] encoded;
    private final Resource proto;

    private ProcessResource(Builder b) {
        this.hostName = b.hostName;
        this.serviceName = Objects.requireNonNull(b.serviceName, "serviceName");
        this.pid = b.pid;
        this.executableName = b.executableName;
        this.containerId = b.containerId;
        this.extraAttributes = Collections.unmodifiableMap(new LinkedHashMap<>(b.extra));
        Resource.Builder rb = Resource.newBuilder();
        add(rb, "service.name", serviceName);
        add(rb, "host.name", hostName);
        if (pid > 0) {
            rb.addAttributes(KeyValue.newBuilder().setKey("process.pid")
                    .setValue(AnyValue.newBuilder().setIntValue(pid)));
        }
        add(rb, "process.executable.name", executableName);
        add(rb, "container.id", containerId);
        extraAttributes.forEach((k, v) -> add(rb, k, v));
        this.proto = rb.build();
        // The Resource message body, ready to be copied into every ResourceSpans of this process.
        ProtoWriter w = new ProtoWriter(256);
        for (KeyValue kv : proto.getAttributesList()) {
            byte[] body = kv.toByteArray();
            w.writeBytes(1, body, 0, body.length);
        }
        this.encoded = w.toByteArray();
    }

    private static void add(Resource.Builder rb, String key, String value) {
        if (value != null && !value.isEmpty()) {
            rb.addAttributes(KeyValue.newBuilder().setKey(key)
                    .setValue(AnyValue.newBuilder().setStringValue(value)));
        }
    }

    public static Builder builder(String serviceName) {
        return new Builder(serviceName);
    }

    public String hostName() {
        return hostName;
    }

    public String serviceName() {
        return serviceName;
    }

    public int pid() {
        return pid;
    }

    public String executableName() {
        return executableName;
    }

    public String containerId() {
        return containerId;
    }

    public Map<String, String> extraAttributes() {
        return extraAttributes;
    }

    /** The resource as an OTLP message (for metrics and logs). */
    public Resource toProto() {
        return proto;
    }

    /** The encoded body of the OTLP Resource message; do not modify. */
    byte[] encodedBody() {
        return encoded;
    }

    @Override
    public String toString() {
        return "ProcessResource{" + serviceName + ", pid=" + pid + ", host=" + hostName + "}";
    }

    /** Builder of {@link ProcessResource}. */
    public static final class Builder {
        private String hostName = "";
        private String serviceName;
        private int pid;
        private String executableName = "";
        private String containerId = "";
        private final Map<String, String> extra = new LinkedHashMap<>();

        private Builder(String serviceName) {
            this.serviceName = serviceName;
        }

        public Builder hostName(String value) {
            hostName = Objects.requireNonNull(value);
            return this;
        }

        public Builder pid(int value) {
            pid = value;
            return this;
        }

        public Builder executableName(String value) {
            executableName = Objects.requireNonNull(value);
            return this;
        }

        public Builder containerId(String value) {
            containerId = Objects.requireNonNull(value);
            return this;
        }

        /** Any other resource attribute (k8s.pod.name, service.namespace...). */
        public Builder attribute(String key, String value) {
            extra.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
            return this;
        }

        public ProcessResource build() {
            return new ProcessResource(this);
        }
    }
}
