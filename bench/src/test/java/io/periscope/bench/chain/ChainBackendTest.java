package io.periscope.bench.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Runs the chain's backend against Debian's real redis-server and postgres (as the postgres user: root). */
@Tag("kernel")
class ChainBackendTest {
    private static final int REDIS_PORT = 18663;
    private static final int PG_PORT = 18664;
    private static final int HTTP_PORT = 18665;
    private static final Path PG_BIN = Path.of("/usr/lib/postgresql/15/bin");
    private static final long START_TIMEOUT_MILLIS = 30_000;

    private final List<Process> processes = new ArrayList<>();
    private Path dir;

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    void everyRequestReadsRedisAndPostgresqlAndSurvivesAReset() throws Exception {
        assertThat(Path.of("/usr/bin/redis-server")).as("redis-server (./periscope test installs it)").isExecutable();
        assertThat(PG_BIN.resolve("postgres")).as("postgresql 15 (./periscope test installs it)").isExecutable();
        dir = Files.createTempDirectory(Path.of("/tmp"), "psb-chain-test");
        run("chown", "postgres:postgres", dir.toString());
        start(new ProcessBuilder("/usr/bin/redis-server", "--port", Integer.toString(REDIS_PORT), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString()), "redis.log");
        run("runuser", "-u", "postgres", "--", PG_BIN.resolve("initdb").toString(), "-D",
                dir.resolve("data").toString(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
        start(new ProcessBuilder("runuser", "-u", "postgres", "--", PG_BIN.resolve("postgres").toString(), "-D",
                dir.resolve("data").toString(), "-p", Integer.toString(PG_PORT), "-k", dir.toString(), "-c",
                "listen_addresses=127.0.0.1", "-c", "fsync=off"), "postgres.log");
        awaitPort(REDIS_PORT);
        awaitPort(PG_PORT);

        ChainBackend backend = ChainBackend.start(HTTP_PORT, REDIS_PORT, PG_PORT, 2);
        try {
            HttpClient client = HttpClient.newHttpClient();
            for (int i = 0; i < 5; i++) {
                assertThat(get(client, "/")).isEqualTo("200 value-from-redis value-from-postgresql\n");
            }
            assertThat(get(client, "/reset")).isEqualTo("200 reset\n");
            assertThat(get(client, "/")).isEqualTo("200 value-from-redis value-from-postgresql\n");
            assertThat(get(client, "/stats")).isEqualTo("200 {\"served\":6,\"failed\":0}\n");
            assertThat(get(client, "/nothing")).startsWith("404 ");
        } finally {
            backend.close();
        }
    }

    private static String get(HttpClient client, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + HTTP_PORT + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    private void start(ProcessBuilder pb, String log) throws IOException {
        processes.add(pb.redirectErrorStream(true).redirectOutput(dir.resolve(log).toFile()).start());
    }

    private void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }

    private void awaitPort(int port) throws InterruptedException, IOException {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("nothing listened on " + port + " within " + START_TIMEOUT_MILLIS
                + " ms; logs in " + dir);
    }
}
