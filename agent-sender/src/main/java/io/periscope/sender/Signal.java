package io.periscope.sender;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;

/** The three OTLP signals periscope exports, with what differs between them on the wire. */
public enum Signal {
    TRACES(TraceServiceGrpc.getExportMethod().getFullMethodName(), "spans"),
    METRICS(MetricsServiceGrpc.getExportMethod().getFullMethodName(), "data points"),
    LOGS(LogsServiceGrpc.getExportMethod().getFullMethodName(), "log records");

    private final String fullMethodName;
    private final String unit;

    Signal(String fullMethodName, String unit) {
        this.fullMethodName = fullMethodName;
        this.unit = unit;
    }

    /** The gRPC method, e.g. {@code opentelemetry.proto.collector.trace.v1.TraceService/Export}. */
    public String fullMethodName() {
        return fullMethodName;
    }

    /** What one item of this signal is, for messages ("spans", "data points", "log records"). */
    public String unit() {
        return unit;
    }

    /** Lower-case name used in metric attributes and file names. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Reads the partial-success part of an export response: the number of items the receiver
     * rejected, and its message.
     */
    PartialSuccess partialSuccess(byte[] response) throws InvalidProtocolBufferException {
        switch (this) {
            case TRACES: {
                var p = ExportTraceServiceResponse.parseFrom(response).getPartialSuccess();
                return new PartialSuccess(p.getRejectedSpans(), p.getErrorMessage());
            }
            case METRICS: {
                var p = ExportMetricsServiceResponse.parseFrom(response).getPartialSuccess();
                return new PartialSuccess(p.getRejectedDataPoints(), p.getErrorMessage());
            }
            default: {
                var p = ExportLogsServiceResponse.parseFrom(response).getPartialSuccess();
                return new PartialSuccess(p.getRejectedLogRecords(), p.getErrorMessage());
            }
        }
    }

    /** The receiver's partial-success answer. */
    record PartialSuccess(long rejected, String message) {
    }
}
