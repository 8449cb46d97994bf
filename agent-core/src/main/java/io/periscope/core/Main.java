package io.periscope.core;

import io.periscope.core.config.ConfigLoader;
import io.periscope.core.config.ConfigPrinter;
import io.periscope.core.config.ConfigWatcher;
import io.periscope.core.guard.GuardLevel;
import io.periscope.core.guard.ResourceGuard;
import io.periscope.core.metadata.ProcessMetadataCache;
import io.periscope.core.metadata.kubernetes.KubernetesEndpoint;
import io.periscope.core.metadata.kubernetes.KubernetesMetadata;
import io.periscope.core.replay.Replay;
import io.periscope.core.telemetry.Health;
import io.periscope.core.telemetry.LogSetup;
import io.periscope.core.telemetry.MetricsRegistry;
import io.periscope.core.telemetry.ProcessMetrics;
import io.periscope.core.telemetry.ProcessStats;
import io.periscope.core.telemetry.SelfMetricsServer;
import io.periscope.ebpf.KernelFeatures;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The periscope command line: {@code run}, {@code check}, {@code version}, {@code config-get}.
 *
 * <p>Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad configuration.
 */
public final class Main {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private static final String USAGE = String.join("\n",
            "usage: periscope <command> [options]",
            "  run [--config FILE] [--set key.path=value]... [--dry-run]",
            "                        start the agent (needs root or the BPF capabilities);",
            "                        --dry-run validates and prints the effective config",
            "  config-get KEY [--config FILE] [--set key.path=value]...",
            "                        print one effective value or section (e.g. limits.max_memory_mb)",
            "  replay FILE [--config FILE] [--set key.path=value]...",
            "                        run the packet pipeline over a pcap/pcapng file and print",
            "                        request logs and flow logs as JSON lines (no kernel needed)",
            "  check                 print what this kernel and process can do",
            "  version               print the version");

    private Main() {
    }

    public static void main(String[] args) {
        int code = execute(args, System.out, System.err);
        // run's normal end (SIGTERM/SIGINT) also comes back here, so one exit path serves all.
        System.exit(code);
    }

    static int execute(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println(USAGE);
            return EXIT_USAGE;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        switch (args[0]) {
            case "version":
            case "--version":
                out.println("periscope " + Version.current());
                return EXIT_OK;
            case "check":
                out.print(KernelFeatures.probe().report());
                return EXIT_OK;
            case "run":
                return run(rest, out, err);
            case "replay":
                return replay(rest, out, err);
            case "config-get":
                return configGet(rest, out, err);
            case "help":
            case "--help":
            case "-h":
                out.println(USAGE);
                return EXIT_OK;
            default:
                err.println("periscope: unknown command '" + args[0] + "'");
                err.println(USAGE);
                return EXIT_USAGE;
        }
    }

    /** What {@code --config}, {@code --set} and {@code --dry-run} asked for. */
    private static final class ConfigOptions {
        Path file;
        final List<String> overrides = new ArrayList<>();
        boolean dryRun;
        final List<String> positional = new ArrayList<>();
    }

    /** Parses the config options; returns null (after printing why) on a usage error. */
    private static ConfigOptions parseOptions(String command, List<String> options, PrintStream err) {
        ConfigOptions parsed = new ConfigOptions();
        for (int i = 0; i < options.size(); i++) {
            String option = options.get(i);
            if (option.equals("--config") && i + 1 < options.size()) {
                parsed.file = Path.of(options.get(++i));
            } else if (option.startsWith("--config=")) {
                parsed.file = Path.of(option.substring("--config=".length()));
            } else if (option.equals("--set") && i + 1 < options.size()) {
                parsed.overrides.add(options.get(++i));
            } else if (option.startsWith("--set=")) {
                parsed.overrides.add(option.substring("--set=".length()));
            } else if (option.equals("--dry-run")) {
                parsed.dryRun = true;
            } else if (!option.startsWith("-")) {
                parsed.positional.add(option);
            } else {
                err.println("periscope " + command + ": unknown option '" + option + "'");
                err.println(USAGE);
                return null;
            }
        }
        return parsed;
    }

    private static int run(List<String> options, PrintStream out, PrintStream err) {
        ConfigOptions parsed = parseOptions("run", options, err);
        if (parsed == null) {
            return EXIT_USAGE;
        }
        if (!parsed.positional.isEmpty()) {
            err.println("periscope run: unexpected argument '" + parsed.positional.get(0) + "'");
            err.println(USAGE);
            return EXIT_USAGE;
        }
        AgentConfig config;
        try {
            config = ConfigLoader.load(parsed.file, parsed.overrides);
        } catch (ConfigException e) {
            err.println("periscope: " + e.getMessage());
            return EXIT_USAGE;
        }
        try {
            // enabled: true with a missing token, CA, server or node name is a config error like any other.
            KubernetesEndpoint.resolve(config.metadata().kubernetes(), System::getenv, why -> { });
        } catch (ConfigException e) {
            err.println("periscope: " + e.getMessage());
            return EXIT_USAGE;
        }
        if (parsed.dryRun) {
            out.println("# effective configuration" + (parsed.file == null ? " (built-in defaults)"
                    : " from " + parsed.file) + "; valid");
            out.print(ConfigPrinter.toYaml(config));
            return EXIT_OK;
        }
        return runAgent(config, parsed.overrides, err);
    }

    /** Sets up the services every pipeline uses, runs the agent, and closes them in reverse order. */
    private static int runAgent(AgentConfig config, List<String> overrides, PrintStream err) {
        LogSetup.apply(config.logging());
        MetricsRegistry metrics = new MetricsRegistry();
        ProcessStats self = ProcessStats.self();
        ProcessMetrics.register(metrics, self, Version.current());
        Health health = new Health();
        ProcessMetadataCache metadata = new ProcessMetadataCache(config.metadata(), metrics);
        KubernetesMetadata kubernetes;
        try {
            kubernetes = KubernetesMetadata.start(config.metadata().kubernetes(), System::getenv, metrics);
        } catch (ConfigException e) {
            err.println("periscope: " + e.getMessage());
            return EXIT_USAGE;
        }
        metadata.kubernetes(kubernetes.directory());
        SelfMetricsServer server = null;
        if (config.selfMetrics().enabled()) {
            try {
                server = SelfMetricsServer.start(config.selfMetrics().host(), config.selfMetrics().port(), metrics,
                        health);
            } catch (IOException | RuntimeException e) {
                kubernetes.close();
                err.println("periscope: cannot serve self-metrics on " + config.selfMetrics().listen() + ": "
                        + e.getMessage() + "; choose another self_metrics.listen or set self_metrics.enabled=false");
                return EXIT_FAILURE;
            }
        }
        try (ResourceGuard guard = new ResourceGuard(config.limits(), self, metrics);
                ConfigWatcher watcher = new ConfigWatcher(config, overrides)) {
            watcher.onChange(reloaded -> {
                LogSetup.apply(reloaded.logging());
                guard.applyLimits(reloaded.limits());
                metadata.updateServiceNames(reloaded.metadata().serviceNames());
            });
            watcher.start();
            boolean hangupHandled = SignalHandlers.onHangup(() -> {
                if (config.source() == null) {
                    LOG.info("SIGHUP: running on built-in defaults, no config file to reload");
                } else if (!watcher.reload()) {
                    LOG.info("SIGHUP: {} unchanged (or invalid, see above); nothing to apply", config.source());
                }
            });
            if (!hangupHandled) {
                LOG.warn("SIGHUP cannot be handled in this JVM; reload by editing the config file");
            }
            guard.start();
            Agent agent = new Agent(new AgentServices(config, watcher, metrics, health, metadata, guard));
            SignalHandlers.onTermination(() -> {
                health.markNotReady("stopping");
                agent.requestStop();
            });
            return agent.runUntilStopped();
        } finally {
            kubernetes.close();
            if (server != null) {
                server.close();
            }
        }
    }

    private static int configGet(List<String> options, PrintStream out, PrintStream err) {
        // --dry-run is accepted (and means nothing here) so the launcher can pass run's options as they are.
        ConfigOptions parsed = parseOptions("config-get", options, err);
        if (parsed == null) {
            return EXIT_USAGE;
        }
        if (parsed.positional.size() != 1) {
            err.println("periscope config-get: expected one key, e.g. limits.max_memory_mb");
            return EXIT_USAGE;
        }
        String key = parsed.positional.get(0);
        AgentConfig config;
        try {
            config = ConfigLoader.load(parsed.file, parsed.overrides);
        } catch (ConfigException e) {
            err.println("periscope: " + e.getMessage());
            return EXIT_USAGE;
        }
        String value = ConfigPrinter.valueAt(config, key);
        if (value == null) {
            err.println("periscope config-get: no key '" + key + "'");
            return EXIT_USAGE;
        }
        out.println(value);
        return EXIT_OK;
    }

    private static int replay(List<String> options, PrintStream out, PrintStream err) {
        ConfigOptions parsed = parseOptions("replay", options, err);
        if (parsed == null) {
            return EXIT_USAGE;
        }
        if (parsed.positional.size() != 1) {
            err.println("periscope replay: expected one capture file, e.g. periscope replay traffic.pcap");
            return EXIT_USAGE;
        }
        Path capture = Path.of(parsed.positional.get(0));
        AgentConfig config;
        try {
            config = ConfigLoader.load(parsed.file, parsed.overrides);
        } catch (ConfigException e) {
            err.println("periscope: " + e.getMessage());
            return EXIT_USAGE;
        }
        Replay replay = new Replay(Agent.protocolConfig(config, GuardLevel.NORMAL),
                Agent.flowTableConfig(config.flowMap(), config.flowMap().capacity()), out);
        try {
            long packets = replay.run(capture);
            err.println("periscope replay: " + capture + ": " + packets + " packets, " + replay.requestLogs()
                    + " request logs, " + replay.flowLogs() + " flow logs, " + replay.undecodable()
                    + " packets not decoded, " + replay.streams().gaps() + " TCP gaps given up, "
                    + replay.streams().streamsDropped() + " streams not tracked");
            return EXIT_OK;
        } catch (NoSuchFileException e) {
            err.println("periscope replay: " + capture + ": no such file");
            return EXIT_USAGE;
        } catch (IOException e) {
            err.println("periscope replay: " + capture + ": " + e.getMessage());
            return EXIT_USAGE;
        }
    }
}
