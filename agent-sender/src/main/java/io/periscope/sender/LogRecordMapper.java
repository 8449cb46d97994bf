package io.periscope.sender;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.RequestLog;

import java.util.Locale;

/**
 * Builds OTLP log records for flows and (when enabled) request logs with the generated builders.
 * Request logs as logs are rare and go this way. Flow logs are exported through
 * {@link LogEncoder}, which writes the same bytes without objects (at 100K+ flows the objects were
 * the agent's heap churn); {@link #flowLog} stays as the reference it is tested against and for
 * cold paths (replay's printout).
 */
public final class LogRecordMapper {
    static final String FLOW_EVENT = "periscope.flow";
    static final String REQUEST_EVENT = "periscope.request";

    private final long syscallClockOffsetNanos;
    private final long packetClockOffsetNanos;

    public LogRecordMapper(long syscallClockOffsetNanos, long packetClockOffsetNanos) {
        this.syscallClockOffsetNanos = syscallClockOffsetNanos;
        this.packetClockOffsetNanos = packetClockOffsetNanos;
    }

    /** The OTLP log record of one flow (attribute names as the exporter sends them). */
    public LogRecord flowLog(FlowRecord f) {
        byte[] text = new byte[64];
        LogRecord.Builder b = LogRecord.newBuilder()
                .setTimeUnixNano(f.endNanos() + packetClockOffsetNanos)
                .setObservedTimeUnixNano(System.currentTimeMillis() * 1_000_000L)
                .setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_INFO)
                .setSeverityText("INFO")
                .setBody(AnyValue.newBuilder().setStringValue(FLOW_EVENT));
        str(b, "event.name", FLOW_EVENT);
        str(b, "client.address", address(f.ipVersion(), f.clientAddress(), text));
        num(b, "client.port", f.clientPort());
        str(b, "server.address", address(f.ipVersion(), f.serverAddress(), text));
        num(b, "server.port", f.serverPort());
        str(b, "network.transport", transport(f.l4Protocol()));
        str(b, "network.type", f.ipVersion() == 6 ? "ipv6" : "ipv4");
        num(b, "periscope.flow.bytes.client_to_server", f.bytesClientToServer());
        num(b, "periscope.flow.bytes.server_to_client", f.bytesServerToClient());
        num(b, "periscope.flow.packets.client_to_server", f.packetsClientToServer());
        num(b, "periscope.flow.packets.server_to_client", f.packetsServerToClient());
        num(b, "periscope.flow.retransmissions.client_to_server", f.retransmissionsClientToServer());
        num(b, "periscope.flow.retransmissions.server_to_client", f.retransmissionsServerToClient());
        if (f.rttNanos() >= 0) {
            num(b, "periscope.flow.rtt_ns", f.rttNanos());
        }
        str(b, "periscope.flow.close_type", f.closeType().name().toLowerCase(Locale.ROOT));
        num(b, "periscope.flow.start_time_unix_nano", f.startNanos() + packetClockOffsetNanos);
        num(b, "periscope.flow.duration_ns", Math.max(0, f.endNanos() - f.startNanos()));
        if (f.interfaceIndex() > 0) {
            num(b, "periscope.interface_index", f.interfaceIndex());
        }
        return b.build();
    }

    LogRecord requestLog(RequestLog r) {
        long offset = r.captureSource() == CaptureSource.PACKET ? packetClockOffsetNanos : syscallClockOffsetNanos;
        LogRecord.Builder b = LogRecord.newBuilder()
                .setTimeUnixNano(r.startNanos() + offset)
                .setObservedTimeUnixNano(System.currentTimeMillis() * 1_000_000L)
                .setSeverityNumber(SpanEncoder.isError(r) ? SeverityNumber.SEVERITY_NUMBER_ERROR
                        : SeverityNumber.SEVERITY_NUMBER_INFO)
                .setBody(AnyValue.newBuilder().setStringValue(r.toString()));
        if (r.hasTraceContext()) {
            b.setTraceId(ByteString.copyFrom(r.traceId()));
        }
        str(b, "event.name", REQUEST_EVENT);
        str(b, "periscope.l7_protocol", SpanEncoder.protocolName(r.protocol()));
        str(b, "periscope.method", r.method().toString());
        str(b, "periscope.resource", r.resource().toString());
        str(b, "periscope.endpoint", r.endpoint().toString());
        num(b, "periscope.status_code", r.statusCode());
        str(b, "periscope.status_class", r.statusClass().name().toLowerCase(Locale.ROOT));
        num(b, "periscope.duration_ns", r.durationNanos());
        num(b, "periscope.pid", r.pid());
        str(b, "periscope.comm", r.comm().toString());
        return b.build();
    }

    static String transport(int l4Protocol) {
        return l4Protocol == 6 ? "tcp" : l4Protocol == 17 ? "udp" : Integer.toString(l4Protocol);
    }

    static String address(int ipVersion, byte[] addr, byte[] scratch) {
        int n = IpFormat.format(ipVersion, addr, scratch, 0);
        return new String(scratch, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static void str(LogRecord.Builder b, String key, String value) {
        if (value != null && !value.isEmpty()) {
            b.addAttributes(KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)));
        }
    }

    private static void num(LogRecord.Builder b, String key, long value) {
        b.addAttributes(KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setIntValue(value)));
    }
}
