package io.periscope.ebpf.tracer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("kernel")
class SocketTracerNginxTest {
    private static final int PORT = 18001;

    @TempDir
    static Path dir;
    private static NginxServer nginx;

    @BeforeAll
    static void startNginx() throws Exception {
        nginx = NginxServer.start(dir, PORT);
    }

    @AfterAll
    static void stopNginx() throws Exception {
        if (nginx != null) {
            nginx.close();
        }
    }

    @Test
    void shouldSeeNginxWorkerReadRequestAndWriteResponseForCurl() throws Exception {
        int worker = (int) nginx.workerPid();
        try (SocketTracer tracer = SocketTracer.open(SocketTracerConfig.builder().ports(PORT).build())) {
            Process curl = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:" + PORT + "/from-curl").redirectErrorStream(true).start();
            assertThat(curl.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(curl.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("200");
            int curlPid = (int) curl.pid();

            List<CapturedEvent> events = new EventCollector(tracer).until(
                    e -> e.pid() == worker && e.isData() && e.direction() == SocketEvent.DIRECTION_INGRESS,
                    e -> e.pid() == worker && e.isData() && e.direction() == SocketEvent.DIRECTION_EGRESS,
                    e -> e.pid() == curlPid && e.isData() && e.direction() == SocketEvent.DIRECTION_INGRESS);

            CapturedEvent request = first(events, worker, SocketEvent.DIRECTION_INGRESS);
            CapturedEvent response = first(events, worker, SocketEvent.DIRECTION_EGRESS);
            CapturedEvent curlSend = first(events, curlPid, SocketEvent.DIRECTION_EGRESS);
            CapturedEvent curlRecv = first(events, curlPid, SocketEvent.DIRECTION_INGRESS);

            assertThat(request.payload()).startsWith("GET /from-curl HTTP/1.1\r\n");
            assertThat(request.comm()).isEqualTo("nginx");
            assertThat(request.localPort()).isEqualTo(PORT);
            assertThat(request.remotePort()).isEqualTo(curlSend.localPort()).isNotZero();
            assertThat(request.localAddress()).isEqualTo("127.0.0.1");
            assertThat(request.remoteAddress()).isEqualTo("127.0.0.1");
            assertThat(request.role()).isEqualTo(SocketEvent.ROLE_SERVER);
            assertThat(request.l4Protocol()).isEqualTo(SocketEvent.IPPROTO_TCP);
            assertThat(request.family()).isEqualTo(SocketEvent.AF_INET);
            assertThat(request.returnBytes()).isEqualTo(request.payload().length());

            assertThat(response.payload()).startsWith("HTTP/1.1 200");
            assertThat(response.socketId()).isEqualTo(request.socketId());
            assertThat(response.localPort()).isEqualTo(PORT);
            assertThat(response.role()).isEqualTo(SocketEvent.ROLE_SERVER);

            assertThat(curlSend.role()).isEqualTo(SocketEvent.ROLE_CLIENT);
            assertThat(curlSend.remotePort()).isEqualTo(PORT);
            assertThat(curlSend.socketId()).isNotEqualTo(request.socketId());
            // Both ends of one TCP stream number the same bytes: the sender's write_seq and the
            // receiver's copied_seq agree on the first byte.
            assertThat(request.tcpSeq()).isEqualTo(curlSend.tcpSeq());
            assertThat(response.tcpSeq()).isEqualTo(curlRecv.tcpSeq());
            assertThat(curlRecv.payload()).startsWith("HTTP/1.1 200");

            assertThat(request.enterNanos()).isLessThanOrEqualTo(request.exitNanos());
            assertThat(request.exitNanos()).isLessThanOrEqualTo(response.enterNanos());
            assertThat(response.enterNanos()).isLessThanOrEqualTo(response.exitNanos());
            assertThat(curlSend.exitNanos()).isLessThanOrEqualTo(request.exitNanos());

            assertThat(request.traceId()).isNotZero();
            assertThat(response.traceId()).isEqualTo(request.traceId());
            assertThat(tracer.lostEvents()).isZero();
            assertThat(tracer.missedRuns()).isNotNegative();
        }
    }

    @Test
    void shouldSeeRequestFromJavaClientAndNotTraceTheAgentItself() throws Exception {
        int worker = (int) nginx.workerPid();
        int self = (int) ProcessHandle.current().pid();
        try (SocketTracer tracer = SocketTracer.open(SocketTracerConfig.builder().ports(PORT).build())) {
            String response;
            try (Socket s = new Socket("127.0.0.1", PORT)) {
                OutputStream out = s.getOutputStream();
                out.write(("GET /from-java HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                response = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            }
            assertThat(response).startsWith("HTTP/1.1 200");

            List<CapturedEvent> events = new EventCollector(tracer).until(
                    e -> e.pid() == worker && e.isData() && e.direction() == SocketEvent.DIRECTION_EGRESS,
                    e -> e.pid() == worker && e.kind() == SocketEvent.KIND_CLOSE);

            CapturedEvent request = first(events, worker, SocketEvent.DIRECTION_INGRESS);
            CapturedEvent reply = first(events, worker, SocketEvent.DIRECTION_EGRESS);
            assertThat(request.payload()).startsWith("GET /from-java HTTP/1.1\r\n");
            assertThat(reply.payload()).startsWith("HTTP/1.1 200");
            assertThat(reply.payload()).contains("hello from periscope test");
            assertThat(request.role()).isEqualTo(SocketEvent.ROLE_SERVER);
            CapturedEvent close = events.stream().filter(e -> e.pid() == worker && e.kind() == SocketEvent.KIND_CLOSE)
                    .findFirst().orElseThrow();
            assertThat(close.socketId()).isEqualTo(request.socketId());
            assertThat(events).noneMatch(e -> e.pid() == self);
        }
    }

    private static CapturedEvent first(List<CapturedEvent> events, int pid, int direction) {
        return events.stream().filter(e -> e.pid() == pid && e.isData() && e.direction() == direction)
                .findFirst().orElseThrow(() -> new AssertionError("no " + (direction == 0 ? "egress" : "ingress")
                        + " event for pid " + pid + " among " + events));
    }

}
