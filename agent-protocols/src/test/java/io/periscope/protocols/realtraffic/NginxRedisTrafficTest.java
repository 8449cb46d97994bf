package io.periscope.protocols.realtraffic;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.LocalProcess;
import io.periscope.protocols.testing.PcapReplay;
import io.periscope.protocols.testing.Tshark;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real servers (nginx with HTTP/1.1 and h2c, redis-server) driven by real clients (curl,
 * redis-cli), captured with tcpdump on lo, parsed by us and by tshark: both must read the same.
 */
@Tag("kernel")
class NginxRedisTrafficTest {
    private static final int HTTP1_PORT = 18201;
    private static final int H2C_PORT = 18202;
    private static final int REDIS_PORT = 18203;

    @TempDir
    Path dir;

    /** Keeps the capture in target/ for a human to look at when a comparison fails. */
    static void keep(Path pcap) throws java.io.IOException {
        Path out = Path.of("target", "real-traffic");
        Files.createDirectories(out);
        Files.copy(pcap, out.resolve(pcap.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void nginxHttp1AndH2cShouldReadAsTsharkReadsThem() throws Exception {
        Files.createDirectories(dir.resolve("logs"));
        Files.writeString(dir.resolve("nginx.conf"), String.join("\n",
                "worker_processes 1;", "master_process off;", "pid " + dir.resolve("nginx.pid") + ";",
                "error_log " + dir.resolve("error.log") + ";", "events { worker_connections 64; }",
                "http {", "  access_log off;", "  client_body_temp_path " + dir.resolve("body") + ";",
                "  proxy_temp_path " + dir.resolve("proxy") + ";",
                "  fastcgi_temp_path " + dir.resolve("fcgi") + ";",
                "  uwsgi_temp_path " + dir.resolve("uwsgi") + ";", "  scgi_temp_path " + dir.resolve("scgi") + ";",
                "  server {", "    listen 127.0.0.1:" + HTTP1_PORT + ";",
                "    listen 127.0.0.1:" + H2C_PORT + " http2;",
                "    location / { return 200 \"hello\\n\"; }", "    location /missing { return 404; }",
                "    location /broken { return 503; }", "    location /users/ { return 200 \"user\\n\"; }",
                "  }", "}", ""));
        Path pcap = dir.resolve("http.pcap");
        try (LocalProcess nginx = LocalProcess.start(dir.resolve("nginx.out"), "nginx", "-p", dir.toString(), "-c",
                dir.resolve("nginx.conf").toString(), "-g", "daemon off;")) {
            nginx.awaitPort(HTTP1_PORT, 10_000).awaitPort(H2C_PORT, 10_000);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + HTTP1_PORT + " or tcp port " + H2C_PORT);
            String base = "http://127.0.0.1:" + HTTP1_PORT;
            // one curl, several URLs: one keep-alive connection
            LocalProcess.run(dir, false, "curl", "-s", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                    base + "/", base + "/missing", base + "/users/12345?x=1");
            LocalProcess.run(dir, false, "curl", "-s", "-o", "/dev/null", "-H", "traceparent: "
                    + "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "-d", "a=b", base + "/broken");
            String h2 = "http://127.0.0.1:" + H2C_PORT;
            // nghttp: h2c prior knowledge, both requests multiplexed on one connection (streams 13, 15)
            LocalProcess.run(dir, false, "nghttp", "-n", h2 + "/", h2 + "/missing");
            LocalProcess.run(dir, false, "curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null",
                    h2 + "/users/7");
            capture.stopCapture(pcap);
        }

        keep(pcap);
        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.defaults());
        List<String[]> rows = Tshark.fields(pcap, List.of("tcp.port==" + HTTP1_PORT + ",http",
                "tcp.port==" + H2C_PORT + ",http2"), "http.request.method", "http.request.uri", "http.response.code",
                "http2.headers.method", "http2.headers.path", "http2.headers.status");
        List<String> tsharkH1 = new ArrayList<>();
        List<String> tsharkH1Status = new ArrayList<>();
        List<String> tsharkH2 = new ArrayList<>();
        List<String> tsharkH2Status = new ArrayList<>();
        for (String[] r : rows) {
            if (!r[0].isEmpty()) {
                tsharkH1.add(r[0] + " " + r[1]);
            }
            if (!r[2].isEmpty()) {
                tsharkH1Status.add(r[2]);
            }
            String[] methods = r[3].isEmpty() ? new String[0] : r[3].split(",");
            String[] paths = r[4].isEmpty() ? new String[0] : r[4].split(",");
            for (int i = 0; i < methods.length; i++) {
                tsharkH2.add(methods[i] + " " + paths[i]);
            }
            if (!r[5].isEmpty()) {
                tsharkH2Status.addAll(Arrays.asList(r[5].split(",")));
            }
        }
        List<RequestLog> h1 = logs.stream().filter(l -> l.protocol() == L7Protocol.HTTP1).toList();
        List<RequestLog> h2 = logs.stream().filter(l -> l.protocol() == L7Protocol.HTTP2).toList();
        assertThat(tsharkH1).hasSize(4);
        assertThat(h1).extracting(l -> l.method() + " " + l.resource()).containsExactlyElementsOf(tsharkH1);
        assertThat(h1).extracting(l -> String.valueOf(l.statusCode())).containsExactlyElementsOf(tsharkH1Status);
        assertThat(tsharkH2).hasSize(3);
        assertThat(h2).extracting(l -> l.method() + " " + l.resource()).containsExactlyElementsOf(tsharkH2);
        assertThat(h2).extracting(l -> String.valueOf(l.statusCode())).containsExactlyElementsOf(tsharkH2Status);

        assertThat(h1.get(2).endpoint().toString()).isEqualTo("/users/{id}");
        assertThat(h1.get(3).statusClass()).isEqualTo(StatusClass.SERVER_ERROR);
        assertThat(h1.get(3).hasTraceContext()).isTrue();
        assertThat(h1).allMatch(l -> l.host().toString().equals("127.0.0.1:" + HTTP1_PORT));
        assertThat(h1).allMatch(l -> l.userAgent().toString().startsWith("curl/"));
        assertThat(h2).allMatch(l -> l.host().toString().equals("127.0.0.1:" + H2C_PORT));
        assertThat(logs).allMatch(l -> l.durationNanos() >= 0 && l.responseBytes() > 0);
    }

    @Test
    void redisShouldReadAsTsharkReadsIt() throws Exception {
        Path pcap = dir.resolve("redis.pcap");
        try (LocalProcess redis = LocalProcess.start(dir.resolve("redis.out"), "redis-server", "--port",
                String.valueOf(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                dir.toString())) {
            redis.awaitPort(REDIS_PORT, 10_000);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + REDIS_PORT);
            String port = String.valueOf(REDIS_PORT);
            LocalProcess.run(dir, false, "redis-cli", "-p", port, "SET", "user:1", "secret-value");
            LocalProcess.run(dir, false, "redis-cli", "-p", port, "GET", "user:1");
            LocalProcess.run(dir, false, "redis-cli", "-p", port, "INCR", "user:1");
            LocalProcess.run(dir, false, "redis-cli", "-p", port, "HSET", "h", "f", "v");
            LocalProcess.run(dir, false, "redis-cli", "-p", port, "HGETALL", "h");
            // --pipe sends everything at once: pipelined commands, replies in order
            Path pipe = dir.resolve("pipe.txt");
            Files.writeString(pipe, "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nh\r\n"
                    + "*2\r\n$4\r\nLLEN\r\n$2\r\nnl\r\n");
            // GET on a hash is an error reply, so redis-cli --pipe exits 1: expected
            LocalProcess.run(dir, true, "sh", "-c", "redis-cli -p " + port + " --pipe < " + pipe);
            capture.stopCapture(pcap);
        }

        keep(pcap);
        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.builder().obfuscate(false).build())
                .stream().filter(l -> l.protocol() == L7Protocol.REDIS).toList();
        List<String[]> rows = Tshark.fields(pcap, List.of("tcp.port==" + REDIS_PORT + ",resp"), "tcp.dstport",
                "resp.bulk_string.value", "resp.error");
        List<String> tsharkWords = new ArrayList<>();
        List<String> tsharkErrors = new ArrayList<>();
        for (String[] r : rows) {
            if (r[0].equals(String.valueOf(REDIS_PORT)) && !r[1].isEmpty()) {
                // bulk strings are bytes to tshark: it prints them in hex
                for (String hex : r[1].split(",")) {
                    tsharkWords.add(new String(HexFormat.of().parseHex(hex), StandardCharsets.UTF_8));
                }
            }
            if (!r[2].isEmpty()) {
                tsharkErrors.addAll(Arrays.asList(r[2].split(",")));
            }
        }
        // redis-cli opens each connection with COMMAND DOCS (or similar): keep only what we sent
        // redis-cli --pipe ends with ECHO <20 random bytes> to know it is done; the bytes may hold
        // a space, which our space-joined argument text cannot tell from two arguments: leave it out
        int echo = tsharkWords.indexOf("ECHO");
        if (echo >= 0) {
            tsharkWords.subList(echo, echo + 2).clear();
        }
        List<String> ours = new ArrayList<>();
        for (RequestLog l : logs.stream().filter(l -> !l.method().contentEquals("ECHO")).toList()) {
            ours.add(l.method().toString());
            if (!l.resource().isEmpty()) {
                ours.addAll(Arrays.asList(l.resource().toString().split(" ")));
            }
        }
        assertThat(ours.stream().map(String::toUpperCase).toList())
                .containsExactlyElementsOf(tsharkWords.stream().map(String::toUpperCase).toList());
        assertThat(logs).extracting(l -> l.method().toString()).contains("SET", "GET", "INCR", "HSET", "HGETALL",
                "PING", "LLEN");
        assertThat(logs.stream().filter(l -> !l.errorMessage().isEmpty()).map(l -> l.errorMessage().toString())
                .toList()).containsExactlyElementsOf(tsharkErrors);
        assertThat(logs.stream().filter(l -> l.method().contentEquals("INCR")).findFirst().orElseThrow()
                .statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(logs).allMatch(l -> l.statusClass() != StatusClass.TIMEOUT);
    }
}
