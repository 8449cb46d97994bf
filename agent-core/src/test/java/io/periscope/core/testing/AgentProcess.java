package io.periscope.core.testing;

import io.periscope.core.Main;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real agent in its own JVM ({@code periscope run}), with its log captured. */
public final class AgentProcess implements AutoCloseable {
    private static final long START_TIMEOUT_SECONDS = 60;

    private final Process process;
    private final StringBuffer log = new StringBuffer();
    private final Thread reader;

    private AgentProcess(Process process) {
        this.process = process;
        this.reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    log.append(line).append('\n');
                }
            } catch (IOException e) {
                log.append("reader: ").append(e).append('\n');
            }
        }, "agent-log-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code periscope run --config config [args...]}; does not wait for it to be ready. */
    public static AgentProcess start(Path config, String... args) throws IOException {
        List<String> runArgs = new ArrayList<>(List.of("--config", config.toString()));
        runArgs.addAll(List.of(args));
        return run(runArgs);
    }

    /**
     * Starts {@code periscope run [args...]} with no kernel sources and its file export in a temp
     * file, for lifecycle tests that must run anywhere (not only as root).
     */
    public static AgentProcess startWithoutKernel(String... args) throws IOException {
        Path exportFile = Files.createTempFile("periscope-agent", ".jsonl");
        exportFile.toFile().deleteOnExit();
        List<String> runArgs = new ArrayList<>(List.of(args));
        runArgs.addAll(List.of("--set", "ebpf.enabled=false", "--set", "packet.enabled=false",
                "--set", "exporters.file.path=" + exportFile));
        return run(runArgs);
    }

    private static AgentProcess run(List<String> runArgs) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m",
                "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run"));
        command.addAll(runArgs);
        return new AgentProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Waits (bounded) until the log contains {@code text}; returns whether it did. */
    public boolean awaitLog(String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
        while (log.indexOf(text) < 0 && System.nanoTime() < deadline && process.isAlive()) {
            Thread.sleep(20);
        }
        return log.indexOf(text) >= 0;
    }

    /** Sends a real signal ({@code TERM}, {@code HUP}...), as systemd and kubelet do. */
    public void signal(String name) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
    }

    /** Waits until the agent logs that it is running; fails with its log if it exits first. */
    public AgentProcess awaitRunning() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
        while (System.nanoTime() < deadline) {
            if (log.indexOf("running; stop with") >= 0) {
                return this;
            }
            if (!process.isAlive()) {
                reader.join(2_000);
                throw new AssertionError("agent exited " + process.exitValue() + " before running:\n" + log);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("agent not running after " + START_TIMEOUT_SECONDS + " s:\n" + log);
    }

    /** Sends SIGTERM and returns the exit code. */
    public int terminate() throws IOException, InterruptedException {
        signal("TERM");
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("agent did not exit within 30 s of SIGTERM:\n" + log);
        }
        reader.join(5_000);
        return process.exitValue();
    }

    /** Waits for the process to exit by itself; returns the exit code. */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("agent did not exit within 60 s:\n" + log);
        }
        reader.join(5_000);
        return process.exitValue();
    }

    public String log() {
        return log.toString();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
