package io.periscope.ebpf.tracer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's nginx on a loopback port with its own config in a temp dir: one master, one worker. */
final class NginxServer implements AutoCloseable {
    private static final Path NGINX = Path.of("/usr/sbin/nginx");
    private static final long START_TIMEOUT_MILLIS = 10_000;

    private final Process master;
    final int port;

    private NginxServer(Process master, int port) {
        this.master = master;
        this.port = port;
    }

    static NginxServer start(Path dir, int port) throws IOException, InterruptedException {
        if (!Files.isExecutable(NGINX)) {
            throw new IllegalStateException(NGINX + " missing: install nginx-light (./periscope test does it)");
        }
        Files.createDirectories(dir.resolve("tmp"));
        String d = dir.toString();
        String conf = "worker_processes 1;\n"
                + "daemon off;\n"
                + "pid " + d + "/nginx.pid;\n"
                + "error_log " + d + "/error.log warn;\n"
                + "events { worker_connections 64; }\n"
                + "http {\n"
                + "  access_log off;\n"
                + "  client_body_temp_path " + d + "/tmp/body;\n"
                + "  proxy_temp_path " + d + "/tmp/proxy;\n"
                + "  fastcgi_temp_path " + d + "/tmp/fastcgi;\n"
                + "  uwsgi_temp_path " + d + "/tmp/uwsgi;\n"
                + "  scgi_temp_path " + d + "/tmp/scgi;\n"
                + "  server {\n"
                + "    listen 127.0.0.1:" + port + ";\n"
                + "    location / { default_type text/plain; return 200 \"hello from periscope test\\n\"; }\n"
                + "  }\n"
                + "}\n";
        Path confFile = dir.resolve("nginx.conf");
        Files.writeString(confFile, conf);
        Process p = new ProcessBuilder(NGINX.toString(), "-p", d, "-c", confFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        NginxServer server = new NginxServer(p, port);
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("nginx exited: " + Files.readString(dir.resolve("stdout.log"))
                        + readIfExists(dir.resolve("error.log")));
            }
            if (server.workerPid() > 0 && accepts(port)) {
                return server;
            }
            Thread.sleep(50);
        }
        server.close();
        throw new IllegalStateException("nginx did not start listening on " + port + " within "
                + START_TIMEOUT_MILLIS + " ms: " + readIfExists(dir.resolve("error.log")));
    }

    private static String readIfExists(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    long masterPid() {
        return master.pid();
    }

    /** The single worker's pid, or 0 before it is forked. */
    long workerPid() {
        List<ProcessHandle> children = master.toHandle().children().toList();
        return children.isEmpty() ? 0 : children.get(0).pid();
    }

    @Override
    public void close() {
        master.destroy();
        try {
            if (!master.waitFor(5, TimeUnit.SECONDS)) {
                master.destroyForcibly();
                master.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            master.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
