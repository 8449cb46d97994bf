package io.periscope.protocols.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server, client or capture process started by a real-traffic test, with its output in a file,
 * stopped (and waited for) on close. Failures say what ran and what it printed.
 */
public final class LocalProcess implements AutoCloseable {
    private static final long STOP_WAIT_SECONDS = 10;
    private static final long POLL_MILLIS = 50;
    private static final long CAPTURE_SETTLE_MAX_MILLIS = 20_000;
    private static final long CAPTURE_POLL_MILLIS = 300;
    private static final int PCAP_HEADER_BYTES = 24;

    private final List<String> command;
    private final Process process;
    private final Path log;

    private LocalProcess(List<String> command, Process process, Path log) {
        this.command = command;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code command} with stdout and stderr to {@code log}. */
    public static LocalProcess start(Path log, String... command) throws IOException {
        List<String> cmd = List.of(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new LocalProcess(cmd, p, log);
    }

    /** Runs a client to completion; fails with its output when it exits non-zero (unless allowed). */
    public static String run(Path dir, boolean allowFailure, String... command) throws IOException,
            InterruptedException {
        Path out = Files.createTempFile(dir, "run", ".out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out after 60 s: " + String.join(" ", command));
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0 && !allowFailure) {
            throw new IOException("exit " + p.exitValue() + " from " + String.join(" ", command) + ":\n" + text);
        }
        return text;
    }

    /** Waits until something accepts TCP connections on 127.0.0.1:{@code port}. */
    public LocalProcess awaitPort(int port, long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(String.join(" ", command) + " exited with " + process.exitValue()
                        + " before listening on " + port + ":\n" + output());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return this;
            } catch (IOException notYet) {
                Thread.sleep(POLL_MILLIS);
            }
        }
        throw new IOException(String.join(" ", command) + " did not listen on " + port + " within " + timeoutMillis
                + " ms:\n" + output());
    }

    /** Waits until the output contains {@code text} (e.g. tcpdump's "listening on"). */
    public LocalProcess awaitOutput(String text, long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            if (output().contains(text)) {
                return this;
            }
            if (!process.isAlive()) {
                break;
            }
            Thread.sleep(POLL_MILLIS);
        }
        throw new IOException(String.join(" ", command) + " did not print '" + text + "':\n" + output());
    }

    public String output() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    /** SIGTERM, then waits (SIGKILL after a grace period). */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Starts tcpdump on lo for {@code filter}, writing every packet at once (-U) to {@code pcap}; as
     * root (-Z root), since the tcpdump user may not write into a test's private temp dir.
     */
    public static LocalProcess capture(Path pcap, String filter) throws IOException, InterruptedException {
        Path log = pcap.resolveSibling(pcap.getFileName() + ".log");
        LocalProcess p = start(log, "tcpdump", "-i", "lo", "-n", "-U", "-s", "0", "-Z", "root", "-w", pcap.toString(),
                filter);
        return p.awaitOutput("listening on", 10_000);
    }

    /**
     * Stops a capture once tcpdump has written what the kernel handed it: on a busy machine it may
     * lag seconds behind, and a SIGTERM drops what it has not read yet. So wait until the file
     * has stopped growing (bounded).
     */
    public void stopCapture(Path pcap) throws InterruptedException, IOException {
        long deadline = System.currentTimeMillis() + CAPTURE_SETTLE_MAX_MILLIS;
        long last = -1;
        int stable = 0;
        while (System.currentTimeMillis() < deadline && stable < 3) {
            Thread.sleep(CAPTURE_POLL_MILLIS);
            long size = Files.exists(pcap) ? Files.size(pcap) : 0;
            stable = size == last && size > PCAP_HEADER_BYTES ? stable + 1 : 0;
            last = size;
        }
        close();
    }
}
