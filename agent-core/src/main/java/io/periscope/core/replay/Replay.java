package io.periscope.core.replay;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.trace.v1.Span;
import io.periscope.core.pipeline.FlowLogView;
import io.periscope.core.pipeline.PacketStreams;
import io.periscope.flowmap.DecodedPacket;
import io.periscope.flowmap.FlowTable;
import io.periscope.flowmap.FlowTableConfig;
import io.periscope.flowmap.PacketDecoder;
import io.periscope.flowmap.pcap.PcapReader;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLog;
import io.periscope.sender.LogRecordMapper;
import io.periscope.sender.SpanEncoder;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code periscope replay FILE}: the packet pipeline (decode, TCP reassembly, inference, parsing,
 * pairing, flows) over a pcap/pcapng capture, with no kernel involved. Prints one JSON object per
 * line: request logs ({@code "periscope.record": "request"}, keyed by the same OTel attribute
 * names the spans carry) and flow logs ({@code "periscope.record": "flow"}, the flow log
 * record's attributes), in the order they complete.
 */
public final class Replay {
    private static final long TICK_INTERVAL_NANOS = 100_000_000L;
    /** At the end of the capture, requests still waiting are ended as timeouts this much later. */
    private static final long END_OF_CAPTURE_WAIT_NANOS = 3_600_000_000_000L;
    private static final int MAX_STREAMS = 1 << 20;
    private static final int LINKTYPE_LINUX_SLL = 113;
    private static final int LINKTYPE_LINUX_SLL2 = 276;
    private static final int LINKTYPE_RAW_ALT = 12;
    private static final int SLL_HEADER_BYTES = 16;
    private static final int SLL2_HEADER_BYTES = 20;

    private final PrintStream out;
    private final JsonLine json = new JsonLine();
    private final SpanEncoder spans = new SpanEncoder(0, 0, 4 << 20, 1);
    private final LogRecordMapper flowLogs = new LogRecordMapper(0, 0);
    private final PacketDecoder decoder = new PacketDecoder();
    private final DecodedPacket packet = new DecodedPacket();
    private final ProtocolEngine engine;
    private final PacketStreams streams;
    private final FlowTable flows;
    private long packets;
    private long undecodable;
    private long requestLogs;
    private long flowLogCount;
    private long lastTimestampNanos;
    private long lastTickNanos;

    public Replay(ProtocolConfig protocols, FlowTableConfig flowTable, PrintStream out) {
        this.out = out;
        this.engine = new ProtocolEngine(protocols);
        this.streams = new PacketStreams(engine, this::printRequest, MAX_STREAMS);
        FlowLogView view = new FlowLogView();
        this.flows = new FlowTable(flowTable, log -> printFlow(flowLogs.flowLog(view.wrap(log))), record -> { });
    }

    /** Replays {@code file}; returns the number of packets read. */
    public long run(Path file) throws IOException {
        PcapReader.read(file, this::onPacket);
        streams.closeAll(lastTimestampNanos);
        engine.onTimerTick(lastTimestampNanos + END_OF_CAPTURE_WAIT_NANOS, this::printRequest);
        flows.flush(lastTimestampNanos);
        flows.close();
        out.flush();
        return packets;
    }

    private void onPacket(UnsafeBuffer buffer, int offset, int captured, int wire, long timestampNanos, int linkType) {
        packets++;
        lastTimestampNanos = Math.max(lastTimestampNanos, timestampNanos);
        int result;
        switch (linkType) {
            case PcapReader.LINKTYPE_ETHERNET:
                result = decoder.decodeEthernet(buffer, offset, captured, packet);
                break;
            case LINKTYPE_LINUX_SLL:
                result = decoder.decodeIp(buffer, offset + SLL_HEADER_BYTES, captured - SLL_HEADER_BYTES, packet);
                break;
            case LINKTYPE_LINUX_SLL2:
                result = decoder.decodeIp(buffer, offset + SLL2_HEADER_BYTES, captured - SLL2_HEADER_BYTES, packet);
                break;
            case PcapReader.LINKTYPE_RAW:
            case LINKTYPE_RAW_ALT:
                result = decoder.decodeIp(buffer, offset, captured, packet);
                break;
            default:
                undecodable++;
                return;
        }
        if (result != PacketDecoder.OK) {
            undecodable++;
            return;
        }
        flows.onPacket(packet, 0, timestampNanos);
        streams.onPacket(packet, buffer, offset + captured, timestampNanos, 0);
        if (timestampNanos - lastTickNanos >= TICK_INTERVAL_NANOS) {
            lastTickNanos = timestampNanos;
            engine.onTimerTick(timestampNanos, this::printRequest);
            flows.tick(timestampNanos);
        }
    }

    private void printRequest(RequestLog log) {
        requestLogs++;
        Span span;
        try {
            span = Span.parseFrom(spans.encodeSpanMessage(log));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("the span encoder wrote an unreadable span", e);
        }
        JsonLine line = json.begin().field("periscope.record", "request")
                .field("periscope.protocol", log.protocol().name().toLowerCase(Locale.ROOT))
                .field("periscope.span_name", span.getName())
                .field("periscope.span_kind", span.getKind().name().substring("SPAN_KIND_".length())
                        .toLowerCase(Locale.ROOT))
                .field("periscope.status_class", log.statusClass().name().toLowerCase(Locale.ROOT))
                .field("periscope.start_ns", log.startNanos())
                .field("periscope.end_ns", log.endNanos())
                .field("periscope.duration_ns", log.durationNanos());
        attributes(line, span.getAttributesList());
        out.println(line.end());
    }

    private void printFlow(LogRecord record) {
        flowLogCount++;
        JsonLine line = json.begin().field("periscope.record", "flow");
        attributes(line, record.getAttributesList());
        out.println(line.end());
    }

    private static void attributes(JsonLine line, List<KeyValue> attributes) {
        for (KeyValue kv : attributes) {
            AnyValue v = kv.getValue();
            switch (v.getValueCase()) {
                case STRING_VALUE:
                    line.field(kv.getKey(), v.getStringValue());
                    break;
                case INT_VALUE:
                    line.field(kv.getKey(), v.getIntValue());
                    break;
                case DOUBLE_VALUE:
                    line.field(kv.getKey(), v.getDoubleValue());
                    break;
                case BOOL_VALUE:
                    line.field(kv.getKey(), v.getBoolValue());
                    break;
                default:
                    // Arrays and maps do not occur in our attributes; keep their text rather than drop them.
                    line.field(kv.getKey(), v.toString().trim());
            }
        }
    }

    public long packets() {
        return packets;
    }

    public long requestLogs() {
        return requestLogs;
    }

    public long flowLogs() {
        return flowLogCount;
    }

    /** Packets that were not IP over a link type we read (counted, not fatal). */
    public long undecodable() {
        return undecodable;
    }

    public PacketStreams streams() {
        return streams;
    }
}
