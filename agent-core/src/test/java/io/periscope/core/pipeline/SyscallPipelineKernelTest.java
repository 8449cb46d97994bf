package io.periscope.core.pipeline;

import io.periscope.core.testing.Commands;
import io.periscope.core.testing.Nginx;
import io.periscope.ebpf.tracer.SocketTracer;
import io.periscope.ebpf.tracer.SocketTracerConfig;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("kernel")
class SyscallPipelineKernelTest {
    private static final int NGINX_PORT = 18400;
    private static final int BACKLOG_PORT = 18411;

    @Test
    void shouldTurnCurlToNginxIntoServerAndClientRequestLogs(@TempDir Path dir) throws Exception {
        List<RequestLog> logs = new CopyOnWriteArrayList<>();
        try (Nginx nginx = Nginx.start(dir.resolve("nginx"), NGINX_PORT);
                SocketTracer tracer = SocketTracer.open(SocketTracerConfig.builder().ignoreSelf(true)
                        // The in-kernel port prefilter: only nginx's traffic is traced, so nothing else
                        // on a busy machine can fill the ring and the lost count below must be exact.
                        .ports(NGINX_PORT).build())) {
            SyscallPipeline pipeline = new SyscallPipeline(tracer, SyscallPipeline.Settings.defaults(),
                    () -> new ProtocolEngine(ProtocolConfig.defaults()),
                    () -> log -> logs.add(new RequestLog().copyFrom(log)), pid -> { }, pid -> { });
            pipeline.start();
            try {
                long before = System.nanoTime();
                Commands.run("curl", "-sS", "-o", "/dev/null", "-H", "User-Agent: periscope-test",
                        "http://127.0.0.1:" + NGINX_PORT + "/users/42?q=1");
                Commands.run("curl", "-sS", "-o", "/dev/null", "http://127.0.0.1:" + NGINX_PORT + "/missing");
                long after = System.nanoTime();

                RequestLog server = await(logs, l -> l.role() == Role.SERVER && l.resource().toString()
                        .startsWith("/users/42"));
                assertThat(server.protocol()).isEqualTo(L7Protocol.HTTP1);
                assertThat(server.method().toString()).isEqualTo("GET");
                assertThat(server.statusCode()).isEqualTo(200);
                assertThat(server.statusClass()).isEqualTo(StatusClass.OK);
                assertThat(server.pid()).isEqualTo((int) nginx.workerPid());
                assertThat(server.localPort()).isEqualTo(NGINX_PORT);
                assertThat(server.userAgent().toString()).isEqualTo("periscope-test");
                assertThat(server.startNanos()).isBetween(before, after);
                assertThat(server.endNanos()).isBetween(server.startNanos(), after);
                assertThat(server.requestBytes()).isPositive();
                assertThat(server.responseBytes()).isPositive();

                RequestLog client = await(logs, l -> l.role() == Role.CLIENT && l.resource().toString()
                        .startsWith("/users/42"));
                assertThat(client.comm().toString()).isEqualTo("curl");
                assertThat(client.remotePort()).isEqualTo(NGINX_PORT);
                assertThat(client.statusCode()).isEqualTo(200);
                assertThat(client.durationNanos()).isGreaterThanOrEqualTo(server.durationNanos());

                RequestLog missing = await(logs,
                        l -> l.role() == Role.SERVER && l.resource().contentEquals("/missing"));
                assertThat(missing.statusCode()).isEqualTo(404);
                assertThat(missing.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);

                assertThat(pipeline.eventsIn()).isPositive();
                assertThat(pipeline.droppedRingFull()).isZero();
                assertThat(pipeline.lostInKernel()).isZero();
            } finally {
                assertThat(pipeline.stop(5_000)).isTrue();
            }
        }
    }

    @Test
    void shouldLeaveEventsInTheKernelRingWhileParsingIsBehindAndLoseNone(@TempDir Path dir) throws Exception {
        List<RequestLog> logs = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        int requests = 200;
        try (Nginx nginx = Nginx.start(dir.resolve("nginx"), BACKLOG_PORT);
                SocketTracer tracer = SocketTracer.open(SocketTracerConfig.builder().ignoreSelf(true)
                        .ports(BACKLOG_PORT).build())) {
            // 16 parse slots for ~400 events, and the parse threads (two: the Disruptor path) stuck in their sink.
            SyscallPipeline.Settings settings = new SyscallPipeline.Settings(16, 1024, 2, SyscallPipeline.POLL_BATCH,
                    "blocking", TimeUnit.MILLISECONDS.toNanos(100));
            SyscallPipeline pipeline = new SyscallPipeline(tracer, settings,
                    () -> new ProtocolEngine(ProtocolConfig.defaults()),
                    () -> log -> {
                        awaitQuietly(release);
                        logs.add(new RequestLog().copyFrom(log));
                    }, pid -> { }, pid -> { });
            pipeline.start();
            try {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                for (int i = 0; i < requests; i++) {
                    HttpResponse<Void> response = client.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + nginx.port() + "/backlog/" + i)).build(),
                            HttpResponse.BodyHandlers.discarding());
                    assertThat(response.statusCode()).isEqualTo(200);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (pipeline.parseRingFullWaits() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(pipeline.parseRingFullWaits()).as("the poller waited for parse slots").isPositive();
                release.countDown();
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (serverLogs(logs) < requests && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(serverLogs(logs)).isEqualTo(requests);
                assertThat(pipeline.droppedRingFull()).isZero();
                assertThat(pipeline.lostInKernel()).isZero();
            } finally {
                release.countDown();
                assertThat(pipeline.stop(5_000)).isTrue();
            }
        }
    }

    private static long serverLogs(List<RequestLog> logs) {
        return logs.stream().filter(l -> l.role() == Role.SERVER && l.resource().toString().startsWith("/backlog/"))
                .map(l -> l.resource().toString()).distinct().count();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static RequestLog await(List<RequestLog> logs, Predicate<RequestLog> match) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (RequestLog log : logs) {
                if (match.test(log)) {
                    return log;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no matching request log within 10 s; got: " + logs);
    }
}
