package io.periscope.core.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's PostgreSQL 15 on a loopback port with a throwaway cluster, run as the postgres user
 * (initdb refuses root). The cluster lives under /tmp, not a JUnit temp dir, because the postgres
 * user must be able to reach it.
 */
public final class PostgresServer implements AutoCloseable {
    private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    private static final long START_TIMEOUT_MILLIS = 30_000;

    private final Process process;
    private final Path dir;
    private final int port;

    private PostgresServer(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    public static PostgresServer start(int port) throws IOException, InterruptedException {
        if (!Files.isExecutable(BIN.resolve("postgres"))) {
            throw new IllegalStateException(BIN + "/postgres missing: install postgresql (./periscope test does it)");
        }
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "periscope-pg");
        Path data = dir.resolve("data");
        Commands.run("chown", "postgres:postgres", dir.toString());
        Commands.run("runuser", "-u", "postgres", "--", BIN.resolve("initdb").toString(), "-D", data.toString(),
                "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
        Process p = new ProcessBuilder("runuser", "-u", "postgres", "--", BIN.resolve("postgres").toString(),
                "-D", data.toString(), "-p", Integer.toString(port), "-k", dir.toString(),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
                .redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile()).start();
        PostgresServer server = new PostgresServer(p, dir, port);
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            if (!p.isAlive()) {
                String log = Files.readString(dir.resolve("postgres.log"));
                server.close();
                throw new IllegalStateException("postgres exited: " + log);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return server;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        server.close();
        throw new IllegalStateException("postgres did not listen on " + port + " within " + START_TIMEOUT_MILLIS
                + " ms");
    }

    public int port() {
        return port;
    }

    /** Runs {@code sql} with psql over TCP; returns psql's output. */
    public String psql(String sql) throws IOException, InterruptedException {
        return Commands.run("psql", "-X", "-q", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres",
                "-d", "postgres", "-c", sql);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // A leftover directory under /tmp is harmless; the test result is what matters.
        }
    }
}
