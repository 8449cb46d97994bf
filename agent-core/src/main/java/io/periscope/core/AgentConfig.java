package io.periscope.core;

import io.periscope.core.config.ConfigLoader;
import io.periscope.core.config.EbpfConfig;
import io.periscope.core.config.EndpointRuleConfig;
import io.periscope.core.config.ExportersConfig;
import io.periscope.core.config.FlowMapConfig;
import io.periscope.core.config.LimitsConfig;
import io.periscope.core.config.LoggingConfig;
import io.periscope.core.config.MetadataConfig;
import io.periscope.core.config.NotAKey;
import io.periscope.core.config.ObfuscationConfig;
import io.periscope.core.config.PacketConfig;
import io.periscope.core.config.PipelineConfig;
import io.periscope.core.config.ProtocolConfig;
import io.periscope.core.config.SelfMetricsConfig;
import io.periscope.protocols.L7Protocol;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's configuration, read from one YAML file ({@code deploy/agent.yaml} documents every key
 * with its default). Immutable; each YAML section is one record, keys are the snake_case of the
 * record components. Load with {@link ConfigLoader}.
 */
public record AgentConfig(ExportersConfig exporters, EbpfConfig ebpf, PacketConfig packet,
                          Map<String, ProtocolConfig> protocols, EndpointRuleConfig endpointRule,
                          ObfuscationConfig obfuscation, FlowMapConfig flowMap, PipelineConfig pipeline,
                          LimitsConfig limits, MetadataConfig metadata, SelfMetricsConfig selfMetrics,
                          LoggingConfig logging, @NotAKey Path source) {

    public AgentConfig {
        // Keep the protocols in the order the defaults list them, so printed configs read the same.
        protocols = Collections.unmodifiableMap(new LinkedHashMap<>(protocols));
    }

    /** The configuration used when no file is given. */
    public static AgentConfig defaults() {
        return new AgentConfig(ExportersConfig.defaults(), EbpfConfig.defaults(), PacketConfig.defaults(),
                defaultProtocols(), EndpointRuleConfig.defaults(), ObfuscationConfig.defaults(),
                FlowMapConfig.defaults(), PipelineConfig.defaults(), LimitsConfig.defaults(),
                MetadataConfig.defaults(), SelfMetricsConfig.defaults(), LoggingConfig.defaults(), null);
    }

    /** Reads and checks {@code path}; every failure is a {@link ConfigException} a user can act on. */
    public static AgentConfig load(Path path) throws ConfigException {
        return ConfigLoader.load(path, List.of());
    }

    /** The key of {@code protocol} under {@code protocols:} (its enum name in lower case). */
    public static String protocolKey(L7Protocol protocol) {
        return protocol.name().toLowerCase(Locale.ROOT);
    }

    /** The settings of one protocol; {@link L7Protocol#UNKNOWN} has none and gets null. */
    public ProtocolConfig protocol(L7Protocol protocol) {
        return protocols.get(protocolKey(protocol));
    }

    /** This configuration as read from {@code file} (null: built-in defaults). */
    public AgentConfig withSource(Path file) {
        return new AgentConfig(exporters, ebpf, packet, protocols, endpointRule, obfuscation, flowMap, pipeline,
                limits, metadata, selfMetrics, logging, file);
    }

    private static Map<String, ProtocolConfig> defaultProtocols() {
        Map<String, ProtocolConfig> byName = new LinkedHashMap<>();
        for (L7Protocol protocol : L7Protocol.values()) {
            if (protocol != L7Protocol.UNKNOWN) {
                byName.put(protocolKey(protocol), ProtocolConfig.withPorts(defaultPorts(protocol)));
            }
        }
        return byName;
    }

    /** Well-known ports that hint at a protocol before payload inference confirms it. */
    private static int[] defaultPorts(L7Protocol protocol) {
        switch (protocol) {
            case HTTP1: return new int[] {80, 8000, 8080};
            case HTTP2: return new int[] {50051};
            case DNS: return new int[] {53};
            case REDIS: return new int[] {6379};
            case MYSQL: return new int[] {3306};
            case POSTGRESQL: return new int[] {5432};
            case KAFKA: return new int[] {9092};
            case MQTT: return new int[] {1883};
            case MEMCACHED: return new int[] {11211};
            case MONGODB: return new int[] {27017};
            case AMQP: return new int[] {5672};
            case NATS: return new int[] {4222};
            case DUBBO: return new int[] {20880};
            case TLS: return new int[] {443};
            default: return new int[0];
        }
    }
}
