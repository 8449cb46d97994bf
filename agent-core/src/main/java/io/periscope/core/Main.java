package io.periscope.core;

import io.periscope.ebpf.KernelFeatures;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The periscope command line: {@code run}, {@code check}, {@code version}.
 *
 * <p>Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad configuration.
 */
public final class Main {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    private static final String USAGE = String.join("\n",
            "usage: periscope <command> [options]",
            "  run [--config FILE]   start the agent (needs root or the BPF capabilities)",
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
                return run(rest, err);
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

    private static int run(List<String> options, PrintStream err) {
        Path configPath = null;
        for (int i = 0; i < options.size(); i++) {
            String option = options.get(i);
            if (option.equals("--config") && i + 1 < options.size()) {
                configPath = Path.of(options.get(++i));
            } else if (option.startsWith("--config=")) {
                configPath = Path.of(option.substring("--config=".length()));
            } else {
                err.println("periscope run: unknown option '" + option + "'");
                err.println(USAGE);
                return EXIT_USAGE;
            }
        }
        AgentConfig config;
        try {
            config = configPath == null ? AgentConfig.defaults() : AgentConfig.load(configPath);
        } catch (ConfigException e) {
            err.println("periscope: " + e.getMessage());
            return EXIT_USAGE;
        }
        Agent agent = new Agent(config);
        SignalHandlers.onTermination(agent::requestStop);
        return agent.runUntilStopped();
    }
}
