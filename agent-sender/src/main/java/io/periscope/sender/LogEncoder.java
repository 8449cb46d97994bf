package io.periscope.sender;

import io.periscope.sender.internal.ProtoWriter;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Writes OTLP logs straight to the wire format, the way {@link SpanEncoder} writes spans: a flow
 * record becomes the bytes of one {@code LogRecord} message ({@link #encodeFlowLog}, the same
 * message {@link LogRecordMapper#flowLog} builds, byte for byte), and a batch of encoded records
 * becomes {@code ExportLogsServiceRequest}s grouped by resource and split at the maximum message
 * size ({@link #encodeEncoded}). The exporter queues a flow's facts, not its encoding
 * ({@link FlowLogQueue}), and its logs worker encodes them straight into the request
 * ({@link #encodeFlows}). No generated builders, no per-record objects: a stream of flow
 * records allocates nothing once the buffer has grown to the largest request.
 *
 * <p>One instance per thread.
 */
public final class LogEncoder {
    // ---- field numbers of opentelemetry/proto/logs/v1/logs.proto and common.proto ----
    private static final int REQUEST_RESOURCE_LOGS = 1;
    private static final int RESOURCE_LOGS_RESOURCE = 1;
    private static final int RESOURCE_LOGS_SCOPE_LOGS = 2;
    private static final int SCOPE_LOGS_SCOPE = 1;
    private static final int SCOPE_LOGS_LOG_RECORDS = 2;
    private static final int SCOPE_NAME = 1;
    private static final int LOG_TIME = 1;
    private static final int LOG_SEVERITY_NUMBER = 2;
    private static final int LOG_SEVERITY_TEXT = 3;
    private static final int LOG_BODY = 5;
    private static final int LOG_ATTRIBUTES = 6;
    private static final int LOG_OBSERVED_TIME = 11;
    private static final int ANY_STRING = 1;
    /** SEVERITY_NUMBER_INFO. */
    private static final int SEVERITY_INFO = 9;
    private static final int KEY_VALUE_TAG = KeyValues.tag(LOG_ATTRIBUTES);
    /** A flow record is ~700-900 bytes: the producer's buffer starts there. */
    private static final int RECORD_BUFFER_INITIAL_BYTES = 1024;

    private static final byte[] K_EVENT_NAME = KeyValues.key("event.name");
    private static final byte[] K_CLIENT_ADDRESS = KeyValues.key("client.address");
    private static final byte[] K_CLIENT_PORT = KeyValues.key("client.port");
    private static final byte[] K_SERVER_ADDRESS = KeyValues.key("server.address");
    private static final byte[] K_SERVER_PORT = KeyValues.key("server.port");
    private static final byte[] K_NETWORK_TRANSPORT = KeyValues.key("network.transport");
    private static final byte[] K_NETWORK_TYPE = KeyValues.key("network.type");
    private static final byte[] K_BYTES_C2S = KeyValues.key("periscope.flow.bytes.client_to_server");
    private static final byte[] K_BYTES_S2C = KeyValues.key("periscope.flow.bytes.server_to_client");
    private static final byte[] K_PACKETS_C2S = KeyValues.key("periscope.flow.packets.client_to_server");
    private static final byte[] K_PACKETS_S2C = KeyValues.key("periscope.flow.packets.server_to_client");
    private static final byte[] K_RETRANS_C2S = KeyValues.key("periscope.flow.retransmissions.client_to_server");
    private static final byte[] K_RETRANS_S2C = KeyValues.key("periscope.flow.retransmissions.server_to_client");
    private static final byte[] K_RTT = KeyValues.key("periscope.flow.rtt_ns");
    private static final byte[] K_CLOSE_TYPE = KeyValues.key("periscope.flow.close_type");
    private static final byte[] K_START = KeyValues.key("periscope.flow.start_time_unix_nano");
    private static final byte[] K_DURATION = KeyValues.key("periscope.flow.duration_ns");
    private static final byte[] K_INTERFACE_INDEX = KeyValues.key("periscope.interface_index");

    private static final byte[] FLOW_EVENT = ascii(LogRecordMapper.FLOW_EVENT);
    private static final byte[] INFO = ascii("INFO");
    private static final byte[] TCP = ascii("tcp");
    private static final byte[] UDP = ascii("udp");
    private static final byte[] IPV4 = ascii("ipv4");
    private static final byte[] IPV6 = ascii("ipv6");
    private static final byte[][] CLOSE_TYPES = new byte[FlowRecord.CloseType.values().length][];

    static {
        for (FlowRecord.CloseType t : FlowRecord.CloseType.values()) {
            CLOSE_TYPES[t.ordinal()] = ascii(t.name().toLowerCase(Locale.ROOT));
        }
    }

    private final ProtoWriter out;
    private final long packetClockOffsetNanos;
    private final int maxMessageBytes;
    /** Address text (RFC 5952 IPv6 at most 45 bytes) and decimal protocol numbers. */
    private final byte[] text = new byte[64];
    private final ResourceGroups grouping = new ResourceGroups();

    /**
     * An encoder of single flow records ({@link #encodeFlowLog}) on a producer thread: its buffer
     * grows to the largest record it has seen.
     *
     * @param packetClockOffsetNanos added to packet timestamps (usually 0: capture time is epoch)
     */
    public static LogEncoder forRecords(long packetClockOffsetNanos) {
        return new LogEncoder(packetClockOffsetNanos, Integer.MAX_VALUE, RECORD_BUFFER_INITIAL_BYTES);
    }

    /**
     * An encoder of requests ({@link #encodeEncoded}, and flow records queued as facts) on an
     * export worker.
     *
     * @param maxMessageBytes requests are split so that none is larger (at least 4 KiB)
     * @param packetClockOffsetNanos added to packet timestamps of flow records it encodes
     */
    public static LogEncoder forRequests(int maxMessageBytes, long packetClockOffsetNanos) {
        if (maxMessageBytes < 4 * ResourceGroups.HEADER_ALLOWANCE_BYTES) {
            throw new IllegalArgumentException("maxMessageBytes too small: " + maxMessageBytes);
        }
        // Grows to the largest request made: a worker that never sends logs keeps 64 KiB, not 1 MiB.
        return new LogEncoder(packetClockOffsetNanos, maxMessageBytes, Math.min(maxMessageBytes, 64 * 1024));
    }

    private LogEncoder(long packetClockOffsetNanos, int maxMessageBytes, int initialBufferBytes) {
        this.packetClockOffsetNanos = packetClockOffsetNanos;
        this.maxMessageBytes = maxMessageBytes;
        this.out = new ProtoWriter(initialBufferBytes);
    }

    /**
     * Encodes the flow log of {@code f} as a standalone {@code LogRecord} message into this
     * encoder's buffer and returns its length; the bytes are {@link #recordBytes()}{@code [0,
     * length)}, valid until the next call. Same fields, attributes and order as
     * {@link LogRecordMapper#flowLog} (so the same bytes for the same observed time).
     *
     * @param observedTimeUnixNanos the record's {@code observed_time_unix_nano} (now)
     */
    public int encodeFlowLog(FlowRecord f, long observedTimeUnixNanos) {
        out.reset();
        writeFlowLog(f, observedTimeUnixNanos);
        return out.position();
    }

    /** Appends the fields of the flow log of {@code f} (a {@code LogRecord} body) to {@link #out}. */
    private void writeFlowLog(FlowRecord f, long observedTimeUnixNanos) {
        ProtoWriter w = out;
        long time = f.endNanos() + packetClockOffsetNanos;
        // proto3: a field at its default value is not written (as the generated code does).
        if (time != 0) {
            w.writeFixed64(LOG_TIME, time);
        }
        w.writeEnum(LOG_SEVERITY_NUMBER, SEVERITY_INFO);
        w.writeBytes(LOG_SEVERITY_TEXT, INFO, 0, INFO.length);
        w.rawVarint32((LOG_BODY << 3) | 2);
        w.rawVarint32(1 + ProtoWriter.varint32Size(FLOW_EVENT.length) + FLOW_EVENT.length);
        w.writeBytes(ANY_STRING, FLOW_EVENT, 0, FLOW_EVENT.length);
        attrBytes(K_EVENT_NAME, FLOW_EVENT, FLOW_EVENT.length);
        int ipVersion = f.ipVersion();
        attrBytes(K_CLIENT_ADDRESS, text, IpFormat.format(ipVersion, f.clientAddress(), text, 0));
        attrInt(K_CLIENT_PORT, f.clientPort());
        attrBytes(K_SERVER_ADDRESS, text, IpFormat.format(ipVersion, f.serverAddress(), text, 0));
        attrInt(K_SERVER_PORT, f.serverPort());
        int protocol = f.l4Protocol();
        if (protocol == 6) {
            attrBytes(K_NETWORK_TRANSPORT, TCP, TCP.length);
        } else if (protocol == 17) {
            attrBytes(K_NETWORK_TRANSPORT, UDP, UDP.length);
        } else {
            attrBytes(K_NETWORK_TRANSPORT, text, decimal(protocol, text));
        }
        byte[] type = ipVersion == 6 ? IPV6 : IPV4;
        attrBytes(K_NETWORK_TYPE, type, type.length);
        attrInt(K_BYTES_C2S, f.bytesClientToServer());
        attrInt(K_BYTES_S2C, f.bytesServerToClient());
        attrInt(K_PACKETS_C2S, f.packetsClientToServer());
        attrInt(K_PACKETS_S2C, f.packetsServerToClient());
        attrInt(K_RETRANS_C2S, f.retransmissionsClientToServer());
        attrInt(K_RETRANS_S2C, f.retransmissionsServerToClient());
        long rtt = f.rttNanos();
        if (rtt >= 0) {
            attrInt(K_RTT, rtt);
        }
        byte[] close = CLOSE_TYPES[f.closeType().ordinal()];
        attrBytes(K_CLOSE_TYPE, close, close.length);
        attrInt(K_START, f.startNanos() + packetClockOffsetNanos);
        attrInt(K_DURATION, Math.max(0, f.endNanos() - f.startNanos()));
        if (f.interfaceIndex() > 0) {
            attrInt(K_INTERFACE_INDEX, f.interfaceIndex());
        }
        if (observedTimeUnixNanos != 0) {
            w.writeFixed64(LOG_OBSERVED_TIME, observedTimeUnixNanos);
        }
    }

    /** The buffer {@link #encodeFlowLog} wrote into. */
    public byte[] recordBytes() {
        return out.array();
    }

    /**
     * Groups {@code count} encoded {@code LogRecord}s (record {@code i} is {@code records[i][0,
     * lengths[i])}, of resource {@code resources[i]}) by resource, in order of first appearance,
     * and length-prefixes them into {@code ExportLogsServiceRequest}s of at most the maximum
     * message size (a single record larger than that goes alone); each request goes to
     * {@code sink}, with its record count, and is valid only during the call. Returns the number
     * of requests.
     */
    public int encodeEncoded(byte[][] records, int[] lengths, ProcessResource[] resources, int count,
                             SpanEncoder.RequestSink sink) {
        this.encodedRecords = records;
        this.encodedLengths = lengths;
        try {
            return grouping.encode(out, resources, count, maxMessageBytes, opener, encodedWriter, sink);
        } finally {
            this.encodedRecords = null;
            this.encodedLengths = null;
        }
    }

    /** Bytes of one flow record as the exporter queues it ({@link #writeFlowFacts}). */
    public static final int FLOW_FACT_BYTES = FlowLogQueue.RECORD_BYTES;

    /**
     * Writes the facts of {@code f} as the exporter's flow log queue holds them, at
     * {@code dst[offset]} ({@value #FLOW_FACT_BYTES} bytes): for benchmarks and tools that
     * want {@link #encodeFlows} without the queue.
     */
    public static void writeFlowFacts(FlowRecord f, long observedTimeUnixNanos, byte[] dst, int offset) {
        FlowLogQueue.write(f, observedTimeUnixNanos, dst, offset);
    }

    /**
     * Like {@link #encodeEncoded} for flow records queued as facts (record {@code i} at
     * {@code records[i * FLOW_FACT_BYTES]}, see {@link #writeFlowFacts}): each is encoded as its
     * flow log, with the observed time it was queued with, straight into the request.
     */
    public int encodeFlows(byte[] records, ProcessResource[] resources, int count, SpanEncoder.RequestSink sink) {
        this.flowRecords = records;
        try {
            return grouping.encode(out, resources, count, maxMessageBytes, opener, flowWriter, sink);
        } finally {
            this.flowRecords = null;
        }
    }

    // The two record sources, held in fields so that a batch allocates nothing.
    private byte[][] encodedRecords;
    private int[] encodedLengths;
    private byte[] flowRecords;
    private final FlowLogQueue.View flowView = new FlowLogQueue.View();
    private final ResourceGroups.RecordWriter encodedWriter = this::writeEncodedRecord;
    private final ResourceGroups.RecordWriter flowWriter = this::writeFlowRecord;
    private final ResourceGroups.GroupOpener opener = this::openGroup;

    private void writeEncodedRecord(int i) {
        out.writeBytes(SCOPE_LOGS_LOG_RECORDS, encodedRecords[i], 0, encodedLengths[i]);
    }

    private void writeFlowRecord(int i) {
        FlowLogQueue.View f = flowView.at(flowRecords, i * FlowLogQueue.RECORD_BYTES);
        int mark = out.beginMessage(SCOPE_LOGS_LOG_RECORDS);
        writeFlowLog(f, f.observedTimeUnixNanos());
        out.endMessage(mark);
    }

    private long openGroup(ProcessResource resource) {
        int group = beginGroup(resource);
        return ResourceGroups.marks(group, beginScope());
    }

    private int beginGroup(ProcessResource resource) {
        int mark = out.beginMessage(REQUEST_RESOURCE_LOGS);
        byte[] body = resource.encodedBody();
        out.writeBytes(RESOURCE_LOGS_RESOURCE, body, 0, body.length);
        return mark;
    }

    /** Opens the ScopeLogs of a group with the same scope the exporter's other logs carry. */
    private int beginScope() {
        int mark = out.beginMessage(RESOURCE_LOGS_SCOPE_LOGS);
        int scope = out.beginMessage(SCOPE_LOGS_SCOPE);
        out.writeAscii(SCOPE_NAME, SpanEncoder.SCOPE_NAME_VALUE);
        out.endMessage(scope);
        return mark;
    }

    /** A string attribute; an empty value is left out (as {@link LogRecordMapper} does). */
    private void attrBytes(byte[] key, byte[] value, int length) {
        if (length == 0) {
            return;
        }
        KeyValues.string(out, KEY_VALUE_TAG, key, value, 0, length);
    }

    private void attrInt(byte[] key, long value) {
        KeyValues.integer(out, KEY_VALUE_TAG, key, value);
    }

    /** Writes {@code value} in decimal at the start of {@code dst}; returns the length. */
    private static int decimal(int value, byte[] dst) {
        long v = Math.abs((long) value);
        int digits = 1;
        for (long x = v; x >= 10; x /= 10) {
            digits++;
        }
        int n = value < 0 ? 1 : 0;
        if (value < 0) {
            dst[0] = '-';
        }
        for (int i = n + digits - 1; i >= n; i--) {
            dst[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return n + digits;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
