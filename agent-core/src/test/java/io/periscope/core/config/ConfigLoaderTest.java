package io.periscope.core.config;

import io.periscope.core.AgentConfig;
import io.periscope.core.ConfigException;
import io.periscope.protocols.L7Protocol;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    private static AgentConfig parse(String yaml, String... overrides) throws ConfigException {
        return ConfigLoader.parse(yaml, "agent.yaml", List.of(overrides), null);
    }

    private static String errorOf(String yaml, String... overrides) {
        try {
            parse(yaml, overrides);
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("expected a ConfigException for:\n" + yaml);
    }

    @Test
    void shouldTreatEmptyFileAsDefaults() throws ConfigException {
        assertThat(parse("")).isEqualTo(AgentConfig.defaults());
        assertThat(parse("# only a comment\n")).isEqualTo(AgentConfig.defaults());
    }

    @Test
    void shouldBindNestedKeysAndKeepDefaultsForAbsentOnes() throws ConfigException {
        AgentConfig config = parse(String.join("\n",
                "exporters:",
                "  otlp:",
                "    endpoint: collector.example:4318",
                "    headers: {x-tenant: team-a}",
                "    timeout: 1500ms",
                "    compression: GZIP",
                "ebpf:",
                "  payload_bytes: 4096",
                "  ports: {allow: [80, 8000-8100], deny: [22]}",
                "protocols:",
                "  redis: {shallow: true}",
                "pipeline: {wait_strategy: busy-spin}",
                "limits: {max_cpu_cores: 0.5}",
                ""));
        assertThat(config.exporters().otlp().host()).isEqualTo("collector.example");
        assertThat(config.exporters().otlp().port()).isEqualTo(4318);
        assertThat(config.exporters().otlp().headers()).isEqualTo(Map.of("x-tenant", "team-a"));
        assertThat(config.exporters().otlp().timeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.exporters().otlp().compression()).isEqualTo(Compression.GZIP);
        assertThat(config.ebpf().payloadBytes()).isEqualTo(4096);
        assertThat(config.ebpf().ports().allow()).containsExactly(PortRange.of(80), new PortRange(8000, 8100));
        assertThat(config.ebpf().ports().admits(8050)).isTrue();
        assertThat(config.ebpf().ports().admits(22)).isFalse();
        assertThat(config.ebpf().ports().admits(443)).isFalse();
        assertThat(config.protocol(L7Protocol.REDIS).shallow()).isTrue();
        assertThat(config.protocol(L7Protocol.REDIS).ports()).containsExactly(PortRange.of(6379));
        assertThat(config.protocol(L7Protocol.HTTP1)).isEqualTo(AgentConfig.defaults().protocol(L7Protocol.HTTP1));
        assertThat(config.pipeline().waitStrategy()).isEqualTo(WaitStrategy.BUSY_SPIN);
        assertThat(config.limits().maxCpuCores()).isEqualTo(0.5);
        assertThat(config.limits().maxMemoryMb()).isEqualTo(768);
        assertThat(config.flowMap()).isEqualTo(AgentConfig.defaults().flowMap());
    }

    @Test
    void shouldChooseFileExporterOnlyWhenNoCollectorIsConfigured() throws ConfigException {
        assertThat(AgentConfig.defaults().exporters().fileEnabled()).isTrue();
        assertThat(AgentConfig.defaults().exporters().otlp().enabled()).isFalse();
        AgentConfig withCollector = parse("exporters: {otlp: {endpoint: localhost}}");
        assertThat(withCollector.exporters().fileEnabled()).isFalse();
        assertThat(withCollector.exporters().otlp().port()).isEqualTo(OtlpExporterConfig.DEFAULT_PORT);
        AgentConfig both = parse("exporters: {otlp: {endpoint: '[::1]:4317'}, file: {always: true}}");
        assertThat(both.exporters().fileEnabled()).isTrue();
        assertThat(both.exporters().otlp().host()).isEqualTo("::1");
    }

    @Test
    void shouldRejectUnknownKeyNamingPathLineAndSuggestion() {
        String message = errorOf("exporters:\n  otlp:\n    endpoint: a:1\n    timout: 5s\n");
        assertThat(message).startsWith("agent.yaml:4: exporters.otlp.timout: unknown key; did you mean 'timeout'?");
    }

    @Test
    void shouldRejectUnknownTopLevelSectionWithSuggestion() {
        assertThat(errorOf("flowmap:\n  capacity: 5\n"))
                .startsWith("agent.yaml:1: flowmap: unknown key; did you mean 'flow_map'?");
    }

    @Test
    void shouldRejectUnknownProtocolWithSuggestion() {
        assertThat(errorOf("protocols:\n  reddis: {enabled: false}\n"))
                .startsWith("agent.yaml:2: protocols.reddis: unknown key; did you mean 'redis'?");
    }

    @Test
    void shouldRejectWrongTypesNamingTheKey() {
        assertThat(errorOf("ebpf:\n  payload_bytes: lots\n"))
                .isEqualTo("agent.yaml:2: ebpf.payload_bytes: expected an integer, got 'lots'");
        assertThat(errorOf("ebpf:\n  enabled: maybe\n"))
                .isEqualTo("agent.yaml:2: ebpf.enabled: expected true or false, got 'maybe'");
        assertThat(errorOf("ebpf:\n  ports: {allow: 80}\n"))
                .startsWith("agent.yaml:2: ebpf.ports.allow: expected a list");
        assertThat(errorOf("exporters: 5\n")).startsWith("agent.yaml:1: exporters: expected a mapping");
        assertThat(errorOf("flow_map:\n  export_interval: 10\n"))
                .contains("flow_map.export_interval: expected a duration with a unit");
    }

    @Test
    void shouldRejectOutOfRangeValues() {
        assertThat(errorOf("ebpf:\n  payload_bytes: 20000\n"))
                .isEqualTo("agent.yaml:2: ebpf.payload_bytes: must be between 1 and 16384, got 20000");
        assertThat(errorOf("ebpf:\n  ports:\n    deny: [70000]\n"))
                .startsWith("agent.yaml:3: ebpf.ports.deny[0]: a port is 1-65535");
        assertThat(errorOf("pipeline:\n  event_ring_size: 1000\n"))
                .startsWith("agent.yaml:2: pipeline.event_ring_size: must be a power of two");
        assertThat(errorOf("limits:\n  max_cpu_cores: 0\n"))
                .startsWith("agent.yaml:2: limits.max_cpu_cores: must be a positive number");
        assertThat(errorOf("pipeline:\n  cpu_slice_us: 50\n"))
                .startsWith("agent.yaml:2: pipeline.cpu_slice_us: must be 0 (the kernel's default slice) or 100-");
        assertThat(errorOf("pipeline:\n  cpus: 3-1\n"))
                .startsWith("agent.yaml:2: pipeline.cpus: bad CPU range '3-1'");
        assertThat(errorOf("pipeline:\n  cpus: two\n"))
                .startsWith("agent.yaml:2: pipeline.cpus: bad CPU list 'two'");
    }

    @Test
    void shouldRejectBadEnumValueWithSuggestion() {
        assertThat(errorOf("pipeline:\n  wait_strategy: sleepin\n"))
                .isEqualTo("agent.yaml:2: pipeline.wait_strategy: 'sleepin' is not one of "
                        + "[blocking, sleeping, yielding, busy_spin]; did you mean 'sleeping'?");
    }

    @Test
    void shouldNameTheKeyARecordRejects() {
        assertThat(errorOf("exporters:\n  otlp:\n    tls:\n      enabled: true\n      cert_file: /c.pem\n"))
                .startsWith("agent.yaml:4: exporters.otlp.tls.key_file: cert_file and key_file go together");
        assertThat(errorOf("exporters:\n  otlp:\n    endpoint: http://collector:4317\n"))
                .startsWith("agent.yaml:3: exporters.otlp.endpoint: expected host:port");
        assertThat(errorOf("ebpf:\n  processes:\n    allow: [a-very-long-process-name]\n"))
                .startsWith("agent.yaml:3: ebpf.processes.allow: 'a-very-long-process-name' cannot match");
    }

    @Test
    void shouldExpandAnchorsAndMergeKeys() throws ConfigException {
        AgentConfig config = parse(String.join("\n",
                "protocols:",
                "  http1: &quiet {shallow: true, timeout: 5s}",
                "  redis: {<<: *quiet}",
                "  mysql: {<<: *quiet, timeout: 9s}",
                ""));
        assertThat(config.protocol(L7Protocol.REDIS).shallow()).isTrue();
        assertThat(config.protocol(L7Protocol.REDIS).timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.protocol(L7Protocol.REDIS).ports()).containsExactly(PortRange.of(6379));
        assertThat(config.protocol(L7Protocol.MYSQL).shallow()).isTrue();
        assertThat(config.protocol(L7Protocol.MYSQL).timeout()).isEqualTo(Duration.ofSeconds(9));
        assertThat(errorOf("protocols:\n  redis: {<<: 5}\n")).startsWith("agent.yaml:2: protocols.redis: a merge key");
    }

    @Test
    void shouldExpandEnvironmentReferences() throws ConfigException {
        Map<String, String> environment = Map.of("OTLP_TOKEN", "Bearer s3cr3t", "COLLECTOR", "otel.example");
        AgentConfig config = ConfigLoader.parse(String.join("\n",
                "exporters:",
                "  otlp:",
                "    endpoint: ${env:COLLECTOR}:4317",
                "    headers: {authorization: '${env:OTLP_TOKEN}'}",
                "ebpf: {payload_bytes: '${env:PAYLOAD_BYTES:-2048}'}",
                ""), "agent.yaml", List.of(), null, environment::get);
        assertThat(config.exporters().otlp().endpoint()).isEqualTo("otel.example:4317");
        assertThat(config.exporters().otlp().headers()).containsEntry("authorization", "Bearer s3cr3t");
        assertThat(config.ebpf().payloadBytes()).isEqualTo(2048);

        assertThatThrownBy(() -> ConfigLoader.parse("exporters: {otlp: {endpoint: '${env:NOPE}'}}\n", "agent.yaml",
                List.of(), null, environment::get))
                .hasMessage("agent.yaml:1: exporters.otlp.endpoint: environment variable NOPE is not set "
                        + "(write ${env:NOPE:-fallback} for a default)");
    }

    @Test
    void shouldRejectDuplicateKeys() {
        assertThat(errorOf("logging:\n  level: info\n  level: debug\n"))
                .startsWith("agent.yaml:3: logging.level: duplicate key");
    }

    @Test
    void shouldRejectNonMappingDocument() {
        assertThat(errorOf("- a\n- b\n")).isEqualTo("agent.yaml: the top level must be a mapping of keys, not a list");
    }

    @Test
    void shouldApplySetOverridesOverTheFile() throws ConfigException {
        AgentConfig config = parse("exporters:\n  otlp:\n    endpoint: a:1\n",
                "exporters.otlp.endpoint=collector:4317",
                "ebpf.ports.allow=[80, 8000-8100]",
                "limits.max_memory_mb=1024",
                "exporters.otlp.headers.x-tenant=team-b",
                "protocols.http1.shallow=true");
        assertThat(config.exporters().otlp().endpoint()).isEqualTo("collector:4317");
        assertThat(config.ebpf().ports().allow()).containsExactly(PortRange.of(80), new PortRange(8000, 8100));
        assertThat(config.limits().maxMemoryMb()).isEqualTo(1024);
        assertThat(config.exporters().otlp().headers()).containsEntry("x-tenant", "team-b");
        assertThat(config.protocol(L7Protocol.HTTP1).shallow()).isTrue();
        assertThat(config.protocol(L7Protocol.HTTP1).ports())
                .containsExactly(PortRange.of(80), PortRange.of(8000), PortRange.of(8080));
    }

    @Test
    void shouldNameTheSetOptionInErrors() {
        assertThat(errorOf("", "ebpf.payload_byte=5"))
                .startsWith("--set ebpf.payload_byte=5: ebpf.payload_byte: unknown key; did you mean 'payload_bytes'?");
        assertThat(errorOf("", "limits.max_memory_mb=lots"))
                .isEqualTo("--set limits.max_memory_mb=lots: limits.max_memory_mb: expected an integer, got 'lots'");
        assertThat(errorOf("", "no-equals-sign")).startsWith("--set no-equals-sign: expected key.path=value");
    }

    @Test
    void shouldReadBackWhatItPrints() throws ConfigException {
        AgentConfig custom = parse("exporters: {otlp: {endpoint: 'c:4317', timeout: 90s}}\n",
                "ebpf.ports.deny=[22, 9000-9100]", "flow_map.timeouts.established=2h",
                "metadata.service_names={nginx: frontend}", "logging.json=true");
        String printed = ConfigPrinter.toYaml(custom);
        assertThat(parse(printed)).isEqualTo(custom);
        assertThat(printed).contains("established: 2h").contains("timeout: 90s");
    }

    @Test
    void shouldSuggestOnlyNearbyNames() {
        assertThat(Suggestions.didYouMean("timout", List.of("timeout", "tls"))).isEqualTo("; did you mean 'timeout'?");
        assertThat(Suggestions.didYouMean("qwerty", List.of("timeout", "tls"))).isEmpty();
        assertThat(Suggestions.distance("shard", "shadr")).isEqualTo(1);
    }
}
