package io.periscope.core.deploy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The essentials of deploy/: what the agent needs from Kubernetes, systemd and the image. */
@SuppressWarnings("unchecked")
class DeployFilesTest {
    private static Path deploy;
    private static final Map<String, Map<String, Object>> KUBERNETES = new HashMap<>();

    @BeforeAll
    static void loadKubernetesObjects() throws IOException {
        String root = System.getProperty("periscope.projectRoot");
        assertThat(root).as("system property periscope.projectRoot (set by the parent pom)").isNotNull();
        deploy = Path.of(root, "deploy");
        try (Stream<Path> files = Files.list(deploy.resolve("kubernetes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
                for (Object document : new Yaml().loadAll(Files.readString(file))) {
                    Map<String, Object> object = (Map<String, Object>) document;
                    if (!object.containsKey("metadata")) {
                        // kustomization.yaml: checked on its own below.
                        continue;
                    }
                    String name = (String) ((Map<String, Object>) object.get("metadata")).get("name");
                    KUBERNETES.put(object.get("kind") + "/" + name, object);
                }
            }
        }
    }

    private static Object at(Object node, String... path) {
        Object current = node;
        for (String key : path) {
            assertThat(current).as("parent of " + key).isInstanceOf(Map.class);
            current = ((Map<String, Object>) current).get(key);
        }
        return current;
    }

    @Test
    void shouldRunTheDaemonSetInTheHostNamespacesWithCapabilitiesNotPrivileged() {
        Map<String, Object> daemonSet = KUBERNETES.get("DaemonSet/periscope");
        assertThat(daemonSet).as("DaemonSet periscope").isNotNull();
        Map<String, Object> pod = (Map<String, Object>) at(daemonSet, "spec", "template", "spec");
        assertThat(pod).containsEntry("hostPID", true).containsEntry("hostNetwork", true)
                .containsEntry("serviceAccountName", "periscope");
        List<Map<String, Object>> containers = (List<Map<String, Object>>) at(pod, "containers");
        Map<String, Object> agent = containers.get(0);
        assertThat(at(agent, "securityContext", "privileged")).isEqualTo(false);
        List<String> added = (List<String>) at(agent, "securityContext", "capabilities", "add");
        assertThat(added).containsExactlyInAnyOrder("BPF", "PERFMON", "NET_RAW", "NET_ADMIN", "SYS_PTRACE",
                "SYS_ADMIN");
        assertThat(at(agent, "resources", "limits")).isEqualTo(Map.of("cpu", "1", "memory", "768Mi"));
        assertThat((List<String>) at(agent, "args")).containsExactly("--config", "/etc/periscope/agent.yaml");
    }

    @Test
    void shouldGiveKubernetesMetadataItsNodeNameTokenAndReadOnlyPodAccess() {
        Map<String, Object> pod
                = (Map<String, Object>) at(KUBERNETES.get("DaemonSet/periscope"), "spec", "template", "spec");
        assertThat(pod.get("automountServiceAccountToken")).as("the token metadata.kubernetes reads")
                .isNotEqualTo(false);
        Map<String, Object> agent = ((List<Map<String, Object>>) at(pod, "containers")).get(0);
        assertThat((List<Map<String, Object>>) agent.get("env")).anySatisfy(variable -> {
            assertThat(variable.get("name")).isEqualTo("NODE_NAME");
            assertThat(at(variable, "valueFrom", "fieldRef", "fieldPath")).isEqualTo("spec.nodeName");
        });
        List<Map<String, Object>> rules = (List<Map<String, Object>>) at(KUBERNETES.get("ClusterRole/periscope-read"),
                "rules");
        assertThat(rules).anySatisfy(rule -> {
            assertThat((List<String>) rule.get("resources")).contains("pods");
            assertThat((List<String>) rule.get("verbs")).contains("list", "watch");
        });
        for (Map<String, Object> rule : rules) {
            assertThat((List<String>) rule.get("verbs")).as("read-only").isSubsetOf("get", "list", "watch");
        }
        Map<String, Object> binding = KUBERNETES.get("ClusterRoleBinding/periscope-read");
        assertThat(((List<Map<String, Object>>) binding.get("subjects")).get(0))
                .containsEntry("kind", "ServiceAccount").containsEntry("name", "periscope");
    }

    @Test
    void shouldMountTheHostFacilitiesReadOnlyWherePossible() {
        Map<String, Object> pod
                = (Map<String, Object>) at(KUBERNETES.get("DaemonSet/periscope"), "spec", "template", "spec");
        Map<String, String> hostPathByVolume = new HashMap<>();
        for (Map<String, Object> volume : (List<Map<String, Object>>) at(pod, "volumes")) {
            if (volume.containsKey("hostPath")) {
                hostPathByVolume.put((String) volume.get("name"), (String) at(volume, "hostPath", "path"));
            }
        }
        Map<String, Boolean> readOnlyByHostPath = new HashMap<>();
        List<Map<String, Object>> containers = (List<Map<String, Object>>) at(pod, "containers");
        for (Map<String, Object> mount : (List<Map<String, Object>>) at(containers.get(0), "volumeMounts")) {
            String hostPath = hostPathByVolume.get((String) mount.get("name"));
            if (hostPath != null) {
                readOnlyByHostPath.put(hostPath, Boolean.TRUE.equals(mount.get("readOnly")));
            }
        }
        assertThat(readOnlyByHostPath).containsEntry("/sys/kernel/tracing", true).containsEntry("/proc", true)
                .containsEntry("/sys/fs/cgroup", true).containsEntry("/sys/fs/bpf", false)
                .containsEntry("/var/log/periscope", false);
    }

    @Test
    void shouldShipDeployAgentYamlVerbatimInTheConfigMap() throws IOException {
        Map<String, Object> configMap = KUBERNETES.get("ConfigMap/periscope-config");
        assertThat(configMap).as("ConfigMap periscope-config").isNotNull();
        assertThat((String) at(configMap, "data", "agent.yaml"))
                .isEqualTo(Files.readString(deploy.resolve("agent.yaml")));
        Map<String, Object> pod
                = (Map<String, Object>) at(KUBERNETES.get("DaemonSet/periscope"), "spec", "template", "spec");
        assertThat((List<Map<String, Object>>) at(pod, "volumes"))
                .anySatisfy(volume -> assertThat(at(volume, "configMap", "name"))
                        .isEqualTo("periscope-config"));
    }

    @Test
    void shouldGrantOnlyReadAccessToPodsAndNodes() {
        Map<String, Object> role = KUBERNETES.get("ClusterRole/periscope-read");
        List<String> verbs = new ArrayList<>();
        List<String> resources = new ArrayList<>();
        for (Map<String, Object> rule : (List<Map<String, Object>>) at(role, "rules")) {
            verbs.addAll((List<String>) at(rule, "verbs"));
            resources.addAll((List<String>) at(rule, "resources"));
        }
        assertThat(verbs).containsOnly("get", "list", "watch");
        assertThat(resources).contains("pods", "nodes");
        Map<String, Object> binding = KUBERNETES.get("ClusterRoleBinding/periscope-read");
        assertThat(at(binding, "roleRef", "name")).isEqualTo("periscope-read");
        List<Map<String, Object>> subjects = (List<Map<String, Object>>) at(binding, "subjects");
        assertThat(subjects.get(0)).containsEntry("kind", "ServiceAccount").containsEntry("name", "periscope")
                .containsEntry("namespace", "periscope");
        assertThat(KUBERNETES).containsKey("ServiceAccount/periscope");
    }

    @Test
    void shouldApplyEveryManifestWithKustomize() throws IOException {
        Map<String, Object> kustomization = new Yaml().load(
                Files.readString(deploy.resolve("kubernetes/kustomization.yaml")));
        try (Stream<Path> files = Files.list(deploy.resolve("kubernetes"))) {
            List<String> manifests = files.map(f -> f.getFileName().toString())
                    .filter(name -> name.endsWith(".yaml") && !name.equals("kustomization.yaml")).toList();
            assertThat((List<String>) kustomization.get("resources")).containsExactlyInAnyOrderElementsOf(manifests);
        }
    }

    @Test
    void shouldSandboxTheSystemdUnitWithTheSameCapabilities() throws IOException {
        Map<String, List<String>> unit = new HashMap<>();
        for (String line : Files.readAllLines(deploy.resolve("systemd/periscope.service"))) {
            int equals = line.indexOf('=');
            if (!line.startsWith("#") && equals > 0) {
                unit.computeIfAbsent(line.substring(0, equals), k -> new ArrayList<>()).add(line.substring(equals + 1));
            }
        }
        assertThat(unit.get("CapabilityBoundingSet").get(0).split(" ")).contains("CAP_BPF", "CAP_PERFMON",
                "CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_ADMIN");
        assertThat(unit.get("ProtectSystem")).containsExactly("strict");
        assertThat(unit.get("NoNewPrivileges")).containsExactly("yes");
        assertThat(unit.get("LogsDirectory")).containsExactly("periscope");
        assertThat(unit.get("RestartPreventExitStatus")).as("a bad config (exit 2) must not restart-loop")
                .containsExactly("2");
        assertThat(unit.get("ExecStart").get(0)).startsWith("/opt/periscope/bin/periscope-agent ");
        assertThat(deploy.resolve("bin/periscope-agent")).isExecutable();
    }

    /** Runs deploy/bin/periscope-agent with a stand-in java that answers config-get and echoes the rest. */
    private static String startScript(Path dir, String budget, String javaOpts, String... args)
            throws IOException, InterruptedException {
        return startScript(dir, budget, javaOpts, false, args);
    }

    private static String startScript(Path dir, String budget, String javaOpts, boolean oldJdk, String... args)
            throws IOException, InterruptedException {
        return startScript(dir, budget, javaOpts, oldJdk, Map.of(), args);
    }

    private static String startScript(Path dir, String budget, String javaOpts, boolean oldJdk,
            Map<String, String> env, String... args) throws IOException, InterruptedException {
        Path fakeJava = dir.resolve("java");
        Files.writeString(fakeJava, String.join("\n",
                "#!/bin/sh",
                "for a in \"$@\"; do",
                // A runtime before JDK 17.0.9 does not know the trimming flag.
                "  case \"$a\" in -XX:TrimNativeHeapInterval=*) [ \"$OLD_JDK\" = 1 ] && exit 1;; esac",
                "  if [ \"$a\" = config-get ]; then",
                "    [ \"$BUDGET\" = bad ] && { echo 'agent.yaml:1: bad' >&2; exit 2; }",
                "    echo \"$BUDGET\"; exit 0",
                "  fi",
                "done",
                // The scheduling policy the agent runs under (util-linux chrt), when asked.
                "[ -n \"$POLICY_FILE\" ] && chrt -p $$ > \"$POLICY_FILE\" 2>&1",
                // The environment the agent gets, then its arguments.
                "echo \"MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX $@\"", ""));
        assertThat(fakeJava.toFile().setExecutable(true)).isTrue();
        List<String> command = new ArrayList<>(List.of(deploy.resolve("bin/periscope-agent").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA", fakeJava.toString());
        builder.environment().put("PERISCOPE_HOME", "/opt/periscope");
        builder.environment().put("BUDGET", budget);
        builder.environment().put("PERISCOPE_JAVA_OPTS", javaOpts);
        builder.environment().remove("MALLOC_ARENA_MAX");
        builder.environment().put("OLD_JDK", oldJdk ? "1" : "0");
        builder.environment().remove("PERISCOPE_SCHED");
        builder.environment().putAll(env);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(process.waitFor()).as(output).isZero();
        return output;
    }

    @Test
    void shouldSizeTheJvmFromTheMemoryBudget(@TempDir Path dir) throws IOException, InterruptedException {
        assertThat(startScript(dir, "1024", "", "--config", "/etc/periscope/agent.yaml"))
                .startsWith("MALLOC_ARENA_MAX=2 --add-opens java.base/java.nio=ALL-UNNAMED")
                .contains(" -Xms16m -Xmx256m -XX:MaxDirectMemorySize=128m ")
                .contains(" -XX:+UseSerialGC -Xmn10m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 ")
                .contains(" -Dio.netty.leakDetection.level=disabled ")
                .contains(" -Dio.netty.allocator.numDirectArenas=1 ")
                .contains(" -XX:TrimNativeHeapInterval=5000 ")
                .endsWith("-jar /opt/periscope/periscope-agent.jar run --config /etc/periscope/agent.yaml");
        assertThat(startScript(dir, "256", "")).as("a heap of at least 128 MB").contains(" -Xmx128m ");
        assertThat(startScript(dir, "1024", "", true)).as("a runtime without heap trimming still gets sized")
                .contains(" -Xms16m -Xmx256m ").doesNotContain("TrimNativeHeapInterval");
        assertThat(startScript(dir, "4096", "")).as("G1 for a big heap, its young generation sized by G1")
                .contains(" -Xmx1024m ").doesNotContain("UseSerialGC").doesNotContain("-Xmn");
        assertThat(startScript(dir, "1024", "-XX:+UseG1GC")).as("an explicit collector wins")
                .contains(" -Xmx256m ").contains("-XX:+UseG1GC").doesNotContain("UseSerialGC").doesNotContain("-Xmn");
        assertThat(startScript(dir, "1024", "-Xmx2g", "--dry-run")).as("an explicit -Xmx wins")
                .contains(" -Xmx2g ").doesNotContain("-Xmx256m").doesNotContain("MaxDirectMemorySize");
        assertThat(startScript(dir, "bad", "", "--config", "x.yaml")).as("a rejected config is the agent's to report")
                .doesNotContain("-Xmx").endsWith("run --config x.yaml");
    }

    @Test
    void shouldStartTheAgentUnderSchedBatchUnlessToldOtherwise(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("policy");
        startScript(dir, "1024", "", false, Map.of("POLICY_FILE", policy.toString()));
        assertThat(Files.readString(policy)).as("no wake-up preemption of the traced applications")
                .contains("SCHED_BATCH");
        startScript(dir, "1024", "", false, Map.of("POLICY_FILE", policy.toString(), "PERISCOPE_SCHED", "other"));
        assertThat(Files.readString(policy)).contains("SCHED_OTHER");
    }

    @Test
    void shouldBuildASlimImageWithAJlinkedRuntime() throws IOException {
        String dockerfile = Files.readString(deploy.resolve("docker/Dockerfile"));
        assertThat(dockerfile).contains("AS build").contains("jlink ").contains("FROM debian:12-slim")
                .contains("libbpf1").contains("libpcap0.8").contains("jdk.httpserver").contains("jdk.unsupported")
                .contains("COPY deploy/bin/periscope-agent /opt/periscope/bin/periscope-agent");
    }
}
