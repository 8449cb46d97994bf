package io.periscope.flowmap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two network namespaces, psf-a (10.201.0.1) and psf-b (10.201.0.2), each joined by a veth pair
 * to a bridge psfbr0 in the root namespace, which holds no address. Capturing on psfa1 (the root
 * side of psf-a's veth) sees all of psf-a's traffic. Cleans up leftovers first and everything
 * on {@link #close()}.
 */
final class Netns implements AutoCloseable {
    static final String NS_SERVER = "psf-a";
    static final String NS_CLIENT = "psf-b";
    static final String SERVER_IP = "10.201.0.1";
    static final String CLIENT_IP = "10.201.0.2";
    static final String CAPTURE_IFACE = "psfa1";

    private Netns() {
    }

    static Netns create() throws IOException, InterruptedException {
        Netns n = new Netns();
        n.cleanup();
        try {
            run("ip", "link", "add", "psfbr0", "type", "bridge");
            run("ip", "link", "set", "psfbr0", "up");
            for (String[] side : new String[][] {{NS_SERVER, "psfa", SERVER_IP}, {NS_CLIENT, "psfb", CLIENT_IP}}) {
                String ns = side[0];
                String inner = side[1] + "0";
                String outer = side[1] + "1";
                run("ip", "netns", "add", ns);
                run("ip", "link", "add", inner, "type", "veth", "peer", "name", outer);
                run("ip", "link", "set", inner, "netns", ns);
                run("ip", "link", "set", outer, "master", "psfbr0");
                run("ip", "link", "set", outer, "up");
                run("ip", "-n", ns, "addr", "add", side[2] + "/24", "dev", inner);
                run("ip", "-n", ns, "link", "set", inner, "up");
                run("ip", "-n", ns, "link", "set", "lo", "up");
            }
            // The bridge forwards once both ports are in the forwarding state.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!forwarding("psfa1") || !forwarding("psfb1")) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("bridge psfbr0 ports never reached the forwarding state: "
                            + run("bridge", "link", "show"));
                }
                Thread.sleep(50);
            }
            return n;
        } catch (IOException | InterruptedException | RuntimeException e) {
            n.cleanup();
            throw e;
        }
    }

    private static boolean forwarding(String port) throws IOException, InterruptedException {
        return run("bridge", "link", "show", "dev", port).contains("state forwarding");
    }

    /** Removes what a previous run may have left behind. */
    void cleanup() throws IOException, InterruptedException {
        exec(List.of("ip", "netns", "del", NS_SERVER));
        exec(List.of("ip", "netns", "del", NS_CLIENT));
        exec(List.of("ip", "link", "del", "psfa1"));
        exec(List.of("ip", "link", "del", "psfb1"));
        exec(List.of("ip", "link", "del", "psfbr0"));
    }

    @Override
    public void close() throws IOException {
        try {
            cleanup();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while removing namespaces", e);
        }
    }

    /** Result of a command. */
    record Result(int exit, String out, String err) {
    }

    static Result exec(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + command);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                new String(err, StandardCharsets.UTF_8));
    }

    static String run(String... command) throws IOException, InterruptedException {
        Result r = exec(List.of(command));
        if (r.exit != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (" + r.exit + "): " + r.err);
        }
        return r.out;
    }

    /** Runs a command inside a namespace and returns its output; fails on a non-zero exit. */
    static String inNs(String ns, String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        return run(full.toArray(new String[0]));
    }

    /** Starts a long-running process inside a namespace. */
    static Process startInNs(String ns, java.nio.file.Path log, String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        return new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits until a TCP port listens inside a namespace. */
    static void awaitListening(String ns, int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            Result r = exec(List.of("ip", "netns", "exec", ns, "ss", "-ltnH", "sport = :" + port));
            if (r.exit == 0 && !r.out.isBlank()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("nothing listens on port " + port + " in " + ns);
            }
            Thread.sleep(50);
        }
    }
}
