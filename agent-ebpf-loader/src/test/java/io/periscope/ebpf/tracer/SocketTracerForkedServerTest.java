package io.periscope.ebpf.tracer;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A forking server (postgres, apache prefork) accepts, forks, and the parent closes its copy of
 * the connection while the child serves it: that close must not end the socket's id and role.
 * It did, so every postgres backend's requests arrived under a fresh id with no role.
 */
@Tag("kernel")
class SocketTracerForkedServerTest {
    private static final int PORT = 18053;
    private static final String SERVER = String.join("\n",
            "import os, socket, sys, time",
            "s = socket.socket()",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "s.bind(('127.0.0.1', " + PORT + "))",
            "s.listen(1)",
            "print('ready', flush=True)",
            "c, _ = s.accept()",
            "pid = os.fork()",
            "if pid == 0:",
            "    s.close()",
            "    time.sleep(0.3)  # the parent closes its copy first",
            "    data = c.recv(64)",
            "    c.sendall(b'pong:' + data)",
            "    time.sleep(0.2)",
            "    c.close()",
            "    os._exit(0)",
            "c.close()",
            "os.waitpid(pid, 0)",
            "");

    @Test
    void parentsCloseOfAForkedConnectionShouldNotEndItsIdOrRole() throws Exception {
        SocketTracerConfig config = SocketTracerConfig.builder().ports(PORT).build();
        try (SocketTracer tracer = SocketTracer.open(config)) {
            Process server = new ProcessBuilder("python3", "-c", SERVER).redirectErrorStream(true).start();
            try {
                BufferedReader out = new BufferedReader(
                        new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
                assertThat(out.readLine()).as("python3 forking server started").isEqualTo("ready");
                try (SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", PORT))) {
                    client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
                    ByteBuffer in = ByteBuffer.allocate(9);
                    while (in.hasRemaining() && client.read(in) >= 0) {
                        // read "pong:ping"
                    }
                    assertThat(new String(in.array(), StandardCharsets.US_ASCII)).isEqualTo("pong:ping");
                }
                assertThat(server.waitFor(10, TimeUnit.SECONDS)).isTrue();
                int parent = (int) server.pid();
                List<CapturedEvent> events = new EventCollector(tracer).until(
                        e -> isServerData(e, parent, SocketEvent.DIRECTION_INGRESS),
                        e -> isServerData(e, parent, SocketEvent.DIRECTION_EGRESS),
                        e -> e.kind() == SocketEvent.KIND_CLOSE && e.pid() != parent
                                && e.pid() != ProcessHandle.current().pid());
                CapturedEvent request = events.stream()
                        .filter(e -> isServerData(e, parent, SocketEvent.DIRECTION_INGRESS)).findFirst().orElseThrow();
                CapturedEvent response = events.stream()
                        .filter(e -> isServerData(e, parent, SocketEvent.DIRECTION_EGRESS)).findFirst().orElseThrow();
                assertThat(request.role()).as("the child's socket is still the accepted one")
                        .isEqualTo(SocketEvent.ROLE_SERVER);
                assertThat(response.socketId()).isEqualTo(request.socketId());
                long id = request.socketId();
                List<CapturedEvent> closes = events.stream()
                        .filter(e -> e.kind() == SocketEvent.KIND_CLOSE && e.socketId() == id).toList();
                assertThat(closes).as("one close for the connection: the child's, the last reference").hasSize(1);
                assertThat(closes.get(0).pid()).isEqualTo(request.pid()).isNotEqualTo(parent);
                assertThat(events.indexOf(closes.get(0))).isGreaterThan(events.indexOf(response));
            } finally {
                server.destroyForcibly();
            }
        }
    }

    /** Data of the forked child (a pid other than the parent's) on the server's port. */
    private static boolean isServerData(CapturedEvent e, int parent, int direction) {
        return e.isData() && e.pid() != parent && e.localPort() == PORT && e.direction() == direction;
    }
}
