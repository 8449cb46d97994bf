package io.periscope.sender;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.trace.v1.Span;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process OTLP/gRPC receiver on 127.0.0.1 (a real grpc-netty server) that records what it
 * is sent and answers as the test tells it: OK, partial success, an error status, or late.
 */
final class OtlpReceiver implements AutoCloseable {
    /** Decides the answer to the n-th export call (counting from 1, all signals together). */
    @FunctionalInterface
    interface Behaviour {
        /** Returns null for OK, or the status to fail with. May block to be "slow". */
        Status answer(int call) throws InterruptedException;
    }

    final List<ExportTraceServiceRequest> traces = new CopyOnWriteArrayList<>();
    final List<ExportMetricsServiceRequest> metrics = new CopyOnWriteArrayList<>();
    final List<ExportLogsServiceRequest> logs = new CopyOnWriteArrayList<>();
    final List<Metadata> headers = new CopyOnWriteArrayList<>();
    final AtomicInteger calls = new AtomicInteger();
    volatile Behaviour behaviour = call -> null;
    /** Items to report as rejected (partial success) in every successful answer. */
    volatile int rejectPerRequest;
    /** The largest (decompressed) request the receiver accepts, as a collector's max_recv_msg_size. */
    int maxInboundBytes = 4 * 1024 * 1024;
    private Server server;
    private int port;
    private Path[] tls;

    /** Starts on an ephemeral port. */
    OtlpReceiver start() throws IOException {
        return start(0);
    }

    /** Server certificate, key, and the CA that client certificates must chain to. */
    OtlpReceiver tls(Path certificate, Path key, Path clientCa) {
        tls = new Path[] {certificate, key, clientCa};
        return this;
    }

    OtlpReceiver start(int wantedPort) throws IOException {
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", wantedPort))
                .maxInboundMessageSize(maxInboundBytes)
                .addService(ServerInterceptors.intercept(new Traces(), new HeaderRecorder()))
                .addService(ServerInterceptors.intercept(new Metrics(), new HeaderRecorder()))
                .addService(ServerInterceptors.intercept(new Logs(), new HeaderRecorder()));
        if (tls != null) {
            SslContextBuilder ssl = GrpcSslContexts.configure(
                    SslContextBuilder.forServer(tls[0].toFile(), tls[1].toFile()));
            ssl.trustManager(tls[2].toFile()).clientAuth(ClientAuth.REQUIRE);
            b.sslContext(ssl.build());
        }
        server = b.build().start();
        port = server.getPort();
        return this;
    }

    int port() {
        return port;
    }

    /** Kills the server and its connections at once, like a crashed collector. */
    void stop() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (server != null) {
            server.shutdownNow();
        }
    }

    List<Span> spans() {
        List<Span> out = new ArrayList<>();
        for (ExportTraceServiceRequest r : traces) {
            r.getResourceSpansList().forEach(rs -> rs.getScopeSpansList().forEach(ss -> out.addAll(ss.getSpansList())));
        }
        return out;
    }

    List<LogRecord> logRecords() {
        List<LogRecord> out = new ArrayList<>();
        for (ExportLogsServiceRequest r : logs) {
            r.getResourceLogsList().forEach(rl -> rl.getScopeLogsList()
                    .forEach(sl -> out.addAll(sl.getLogRecordsList())));
        }
        return out;
    }

    private boolean answer(StreamObserver<?> observer) {
        try {
            Status status = behaviour.answer(calls.incrementAndGet());
            if (status != null) {
                observer.onError(status.asRuntimeException());
                return false;
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            observer.onError(Status.UNAVAILABLE.withDescription("receiver interrupted").asRuntimeException());
            return false;
        }
    }

    private final class Traces extends TraceServiceGrpc.TraceServiceImplBase {
        @Override
        public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> observer) {
            if (!answer(observer)) {
                return;
            }
            traces.add(request);
            ExportTraceServiceResponse.Builder resp = ExportTraceServiceResponse.newBuilder();
            if (rejectPerRequest > 0) {
                resp.setPartialSuccess(ExportTracePartialSuccess.newBuilder().setRejectedSpans(rejectPerRequest)
                        .setErrorMessage("too old"));
            }
            observer.onNext(resp.build());
            observer.onCompleted();
        }
    }

    private final class Metrics extends MetricsServiceGrpc.MetricsServiceImplBase {
        @Override
        public void export(ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> observer) {
            if (!answer(observer)) {
                return;
            }
            metrics.add(request);
            observer.onNext(ExportMetricsServiceResponse.getDefaultInstance());
            observer.onCompleted();
        }
    }

    private final class Logs extends LogsServiceGrpc.LogsServiceImplBase {
        @Override
        public void export(ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> observer) {
            if (!answer(observer)) {
                return;
            }
            logs.add(request);
            ExportLogsServiceResponse.Builder resp = ExportLogsServiceResponse.newBuilder();
            if (rejectPerRequest > 0) {
                resp.setPartialSuccess(ExportLogsPartialSuccess.newBuilder().setRejectedLogRecords(rejectPerRequest));
            }
            observer.onNext(resp.build());
            observer.onCompleted();
        }
    }

    private final class HeaderRecorder implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata md,
                                                          ServerCallHandler<Q, R> next) {
            headers.add(md);
            return next.startCall(call, md);
        }
    }
}
