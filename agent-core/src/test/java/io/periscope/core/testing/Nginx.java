package io.periscope.core.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Debian's nginx on a loopback port, with its own config and files in a temp dir. */
public final class Nginx implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/sbin/nginx");
    private static final long START_TIMEOUT_MILLIS = 15_000;

    private final Process master;
    private final Path dir;
    private final int port;

    private Nginx(Process master, Path dir, int port) {
        this.master = master;
        this.dir = dir;
        this.port = port;
    }

    /** Starts one master and one worker serving 200 with a fixed body on every path except /missing. */
    public static Nginx start(Path dir, int port) throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " missing: install nginx-light (./periscope test does it)");
        }
        Files.createDirectories(dir.resolve("tmp"));
        String d = dir.toString();
        String conf = "worker_processes 1;\ndaemon off;\npid " + d + "/nginx.pid;\n"
                + "error_log " + d + "/error.log warn;\n"
                + "events { worker_connections 256; }\n"
                + "http {\n  access_log off;\n"
                + "  client_body_temp_path " + d + "/tmp/body;\n  proxy_temp_path " + d + "/tmp/proxy;\n"
                + "  fastcgi_temp_path " + d + "/tmp/fastcgi;\n  uwsgi_temp_path " + d + "/tmp/uwsgi;\n"
                + "  scgi_temp_path " + d + "/tmp/scgi;\n"
                + "  server {\n    listen 127.0.0.1:" + port + ";\n"
                + "    location /missing { return 404; }\n"
                + "    location / { default_type text/plain; return 200 \"hello from periscope\\n\"; }\n"
                + "  }\n}\n";
        Path confFile = dir.resolve("nginx.conf");
        Files.writeString(confFile, conf);
        Process p = new ProcessBuilder(BINARY.toString(), "-p", d, "-c", confFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        Nginx nginx = new Nginx(p, dir, port);
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("nginx exited: " + Files.readString(dir.resolve("stdout.log")));
            }
            if (nginx.workerPid() > 0 && accepts(port)) {
                return nginx;
            }
            Thread.sleep(50);
        }
        nginx.close();
        throw new IllegalStateException("nginx did not start on port " + port + " within " + START_TIMEOUT_MILLIS
                + " ms");
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public int port() {
        return port;
    }

    public long masterPid() {
        return master.pid();
    }

    /** The worker's pid, or -1 while it has not started. */
    public long workerPid() {
        return master.children().findFirst().map(ProcessHandle::pid).orElse(-1L);
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() {
        master.destroy();
        try {
            if (!master.waitFor(5, TimeUnit.SECONDS)) {
                master.destroyForcibly();
            }
        } catch (InterruptedException e) {
            master.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
