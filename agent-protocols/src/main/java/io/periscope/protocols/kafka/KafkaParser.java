package io.periscope.protocols.kafka;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.Connection;
import io.periscope.protocols.FrameSkip;
import io.periscope.protocols.FramedParser;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.TextField;
import io.periscope.protocols.http1.TraceContext;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * Kafka wire protocol, every API key: a request is {@code length, api_key, api_version,
 * correlation_id, client_id} (plus tagged fields in flexible versions); the response echoes the
 * correlation id, which is what pairs them. Method is the API name, version the API version,
 * resource the topic of Produce and Fetch, and the consumer group of group APIs goes to an
 * attribute. Fetch v13+ and Produce v13+ (Kafka 4.1) name topics by id only: the name comes from
 * the ids that Metadata v10+ and DescribeTopicPartitions responses paired with names, kept in a
 * {@link KafkaTopicIds} table shared by every parser of the process (the Metadata connection is
 * often not the Fetch one); an id not learnt yet leaves the topic empty. The response's error
 * code (top-level, the first partition's for Produce and Fetch before v7, the first topic's for
 * Metadata and DescribeTopicPartitions) becomes the status.
 *
 * <p>Only the head of each message is read (at most {@link #HEAD_BYTES}); record batches are
 * skipped by counting, across messages.
 */
public final class KafkaParser extends FramedParser<KafkaParser.State> {
    /** Attribute: the client.id of the request header. */
    public static final String CLIENT_ID = "messaging.client.id";
    /** Attribute: the consumer group of JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit/Fetch. */
    public static final String CONSUMER_GROUP = "messaging.consumer.group.name";
    /** Attribute: SkyWalking trace id from an sw8 record header. */
    public static final String SW8_TRACE_ID = "periscope.sw8.trace_id";

    /** Bytes of a message head waited for before parsing it (the topic of a Produce lies within). */
    static final int HEAD_BYTES = 512;
    private static final int MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
    private static final int MAX_API_VERSION = 20;
    /** Remembered in-flight requests per connection (api key and version, by correlation id). */
    static final int SLOTS = 128;
    private static final int MAX_TAGGED_FIELDS = 64;
    private static final int RECORD_BATCH_HEADER_BYTES = 61;
    private static final byte[] TRACEPARENT = "traceparent".getBytes();
    private static final byte[] SW8 = "sw8".getBytes();

    private static final int PRODUCE = 0;
    private static final int FETCH = 1;
    private static final int METADATA = 3;
    private static final int DESCRIBE_TOPIC_PARTITIONS = 75;
    /** First Fetch version that names topics by id instead of by name. */
    private static final int FETCH_TOPIC_ID_FROM = 13;
    /** First Produce version that names topics by id instead of by name (Kafka 4.1, KIP-516). */
    private static final int PRODUCE_TOPIC_ID_FROM = 13;
    /** First Metadata version whose topics carry their id. */
    private static final int METADATA_TOPIC_ID_FROM = 10;
    private static final int UUID_BYTES = 16;
    private static final int OFFSET_FETCH = 9;
    private static final int FIND_COORDINATOR = 10;
    private static final int API_VERSIONS = 18;

    private static final String[] API_NAMES = {
        "Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica", "UpdateMetadata",
        "ControlledShutdown", "OffsetCommit", "OffsetFetch", "FindCoordinator", "JoinGroup", "Heartbeat",
        "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake", "ApiVersions",
        "CreateTopics", "DeleteTopics", "DeleteRecords", "InitProducerId", "OffsetForLeaderEpoch",
        "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "WriteTxnMarkers", "TxnOffsetCommit",
        "DescribeAcls", "CreateAcls", "DeleteAcls", "DescribeConfigs", "AlterConfigs", "AlterReplicaLogDirs",
        "DescribeLogDirs", "SaslAuthenticate", "CreatePartitions", "CreateDelegationToken",
        "RenewDelegationToken", "ExpireDelegationToken", "DescribeDelegationToken", "DeleteGroups",
        "ElectLeaders", "IncrementalAlterConfigs", "AlterPartitionReassignments", "ListPartitionReassignments",
        "OffsetDelete", "DescribeClientQuotas", "AlterClientQuotas", "DescribeUserScramCredentials",
        "AlterUserScramCredentials", "Vote", "BeginQuorumEpoch", "EndQuorumEpoch", "DescribeQuorum",
        "AlterPartition", "UpdateFeatures", "Envelope", "FetchSnapshot", "DescribeCluster", "DescribeProducers",
        "BrokerRegistration", "BrokerHeartbeat", "UnregisterBroker", "DescribeTransactions", "ListTransactions",
        "AllocateProducerIds", "ConsumerGroupHeartbeat", "ConsumerGroupDescribe", "ControllerRegistration",
        "GetTelemetrySubscriptions", "PushTelemetry", "AssignReplicasToDirs", "ListClientMetricsResources",
        "DescribeTopicPartitions", "ShareGroupHeartbeat", "ShareGroupDescribe", "ShareFetch", "ShareAcknowledge",
        "AddRaftVoter", "RemoveRaftVoter", "UpdateRaftVoter", "InitializeShareGroupState",
        "ReadShareGroupState", "WriteShareGroupState", "DeleteShareGroupState", "ReadShareGroupStateSummary",
    };
    /** First flexible (tagged-field) version per API key, from the Kafka message specs; -1 never. */
    private static final int[] FIRST_FLEXIBLE = {
        9, 12, 6, 9, 4, 2, 6, 3, 8, 6, 3, 6, 4, 4, 4, 5, 3, -1, 3, 5, 4, 2, 2, 4, 3, 3, 3, 1, 3, 2, 2, 2, 4, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 0, 0, -1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    /**
     * APIs whose response starts with the error code, preceded by a 4-byte throttle time from
     * version {@code THROTTLE_FROM[apiKey]} on.
     */
    private static final int[] THROTTLE_FROM = new int[API_NAMES.length];
    private static final boolean[] TOP_LEVEL_ERROR = new boolean[API_NAMES.length];
    /** Error codes that say the broker side failed (retriable, unavailable, storage) rather than the request. */
    private static final boolean[] SERVER_ERRORS = new boolean[128];
    /** Error codes Kafka defines go up to about 130; anything above is not the client's doing. */
    private static final int MAX_DEFINED_ERROR = 200;

    static {
        java.util.Arrays.fill(THROTTLE_FROM, Integer.MAX_VALUE);
        // api key, first version with throttle_time_ms before error_code
        int[][] topLevel = {
            {10, 1}, {11, 2}, {12, 1}, {13, 1}, {14, 1}, {16, 1}, {17, Integer.MAX_VALUE}, {18, Integer.MAX_VALUE},
            {22, 0}, {25, 0}, {26, 0}, {36, Integer.MAX_VALUE}, {60, 0}, {68, 0}, {69, 0},
        };
        for (int[] e : topLevel) {
            TOP_LEVEL_ERROR[e[0]] = true;
            THROTTLE_FROM[e[0]] = e[1];
        }
        int[] server = {5, 6, 7, 8, 9, 13, 14, 15, 16, 19, 20, 51, 56, 57};
        for (int c : server) {
            SERVER_ERRORS[c] = true;
        }
    }

    private final KafkaTopicIds topicIds;

    /** A parser that learns and reads topic ids in the process-wide {@link KafkaTopicIds#shared()}. */
    public KafkaParser() {
        this(KafkaTopicIds.shared());
    }

    /** A parser that learns and reads topic ids in {@code topicIds} (tests give each their own). */
    public KafkaParser(KafkaTopicIds topicIds) {
        this.topicIds = topicIds;
    }

    @Override
    public L7Protocol protocol() {
        return L7Protocol.KAFKA;
    }

    static String apiName(int apiKey) {
        return apiKey >= 0 && apiKey < API_NAMES.length ? API_NAMES[apiKey] : null;
    }

    static boolean flexibleRequest(int apiKey, int version) {
        int first = apiKey < FIRST_FLEXIBLE.length ? FIRST_FLEXIBLE[apiKey] : 0;
        return first >= 0 && version >= first;
    }

    @Override
    public Inference infer(DirectBuffer buf, int offset, int length, boolean portHint, boolean udp) {
        if (udp || length < 14) {
            return Inference.NO;
        }
        int len = buf.getInt(offset, ByteOrder.BIG_ENDIAN);
        int apiKey = buf.getShort(offset + 4, ByteOrder.BIG_ENDIAN);
        int version = buf.getShort(offset + 6, ByteOrder.BIG_ENDIAN);
        int corr = buf.getInt(offset + 8, ByteOrder.BIG_ENDIAN);
        int idLen = buf.getShort(offset + 12, ByteOrder.BIG_ENDIAN);
        if (len < 10 || len > MAX_MESSAGE_BYTES || apiName(apiKey) == null || version < 0
                || version > MAX_API_VERSION || corr < 0 || idLen < -1 || 10 + Math.max(idLen, 0) > len) {
            return Inference.NO;
        }
        // the header up to the end of a printable client id must be there: little else starts like this
        int idEnd = offset + 14 + Math.max(idLen, 0);
        if (idEnd > offset + length) {
            return Inference.NO;
        }
        for (int i = offset + 14; i < idEnd; i++) {
            byte b = buf.getByte(i);
            if (b < 0x20 || b > 0x7e) {
                return Inference.NO;
            }
        }
        return Inference.REQUEST;
    }

    /** Per-connection state: bytes left of the message in flight per direction, requests in flight. */
    static final class State extends FrameSkip {
        final int[] slotCorrelation = new int[SLOTS];
        final short[] slotApiKey = new short[SLOTS];
        final short[] slotVersion = new short[SLOTS];
        final boolean[] slotUsed = new boolean[SLOTS];
        /**
         * Per direction (request, response): the length of a message whose 4-byte length prefix
         * was taken on its own, its head still to come; 0 when none.
         */
        final int[] prefixLength = new int[2];
        /** When that prefix came: the message's start (request) or end (response) time. */
        final long[] prefixNanos = new long[2];
        /** Where the response being parsed has its first topic id; -1 when none. */
        int topicIdAt;
        /** Read cursor of the message being parsed. */
        int cur;
        int lim;
        boolean overrun;
    }

    @Override
    public Object newState() {
        return new State();
    }

    @Override
    public void reset(Object state, boolean requestSide) {
        super.reset(state, requestSide);
        ((State) state).prefixLength[requestSide ? 0 : 1] = 0;
    }

    @Override
    public void skip(Connection conn, boolean requestSide, long missingBytes) {
        State s = (State) conn.state();
        int d = requestSide ? 0 : 1;
        if (s.prefixLength[d] > 0) {
            // the head of the message whose length was taken is among the lost bytes: pass it over
            s.add(requestSide, s.prefixLength[d]);
            s.prefixLength[d] = 0;
        }
        super.skip(conn, requestSide, missingBytes);
    }

    @Override
    protected int frame(Connection conn, State s, boolean requestSide, DirectBuffer buf, int pos, int end) {
        int d = requestSide ? 0 : 1;
        int len;
        int start;
        if (s.prefixLength[d] > 0) {
            // the length prefix came before these bytes: the message starts 4 bytes back (the
            // head readers never look at those, offsets stay those of the whole message)
            len = s.prefixLength[d];
            start = pos - 4;
        } else {
            if (end - pos < 4) {
                return WAIT;
            }
            len = buf.getInt(pos, ByteOrder.BIG_ENDIAN);
            if (len < (requestSide ? 10 : 4) || len > MAX_MESSAGE_BYTES) {
                return MALFORMED;
            }
            start = pos;
        }
        long total = 4L + len;
        int head = head(total, start, end, HEAD_BYTES);
        if (head < 0) {
            if (start == pos) {
                // Take the length now and wait for the head without it: Java clients and the
                // broker read the 4-byte prefix alone, then the whole body in one read, which
                // the engine could not carry behind the prefix when larger than its carry.
                // (Called again on the bytes after the prefix, this waits: the engine carries them.)
                s.prefixLength[d] = len;
                s.prefixNanos[d] = conn.nowNanos();
                return 4;
            }
            // wait for the head: the engine carries it over to the next bytes
            return WAIT;
        }
        long prefixNanos = start == pos ? 0 : s.prefixNanos[d];
        s.prefixLength[d] = 0;
        boolean ok = requestSide ? request(conn, s, buf, start, head, total, prefixNanos)
                : response(conn, s, buf, start, head, total, prefixNanos, topicIds);
        if (!ok) {
            return MALFORMED;
        }
        // The head is read; the rest of the message is passed over.
        s.add(requestSide, total - head);
        return start + head - pos;
    }

    private boolean request(Connection conn, State s, DirectBuffer buf, int pos, int head, long total,
            long prefixNanos) {
        int apiKey = buf.getShort(pos + 4, ByteOrder.BIG_ENDIAN);
        int version = buf.getShort(pos + 6, ByteOrder.BIG_ENDIAN);
        int corr = buf.getInt(pos + 8, ByteOrder.BIG_ENDIAN);
        String name = apiName(apiKey);
        if (name == null || version < 0 || version > MAX_API_VERSION) {
            return false;
        }
        int slot = corr & (SLOTS - 1);
        s.slotCorrelation[slot] = corr;
        s.slotApiKey[slot] = (short) apiKey;
        s.slotVersion[slot] = (short) version;
        s.slotUsed[slot] = true;
        RequestLog log = conn.openRequest(corr & 0xFFFF_FFFFL, pos);
        if (prefixNanos != 0) {
            log.startNanos(prefixNanos);
        }
        log.method().setAscii(name);
        log.version().clear().appendDecimal(version);
        log.requestBytes(total);
        s.cur = pos + 12;
        s.lim = pos + head;
        s.overrun = false;
        int idLen = int16(s, buf);
        if (idLen > 0) {
            TextField id = log.addAttribute(CLIENT_ID);
            if (id != null) {
                id.set(buf, s.cur, Math.min(idLen, s.lim - s.cur));
            }
            s.cur += idLen;
        }
        boolean flexible = flexibleRequest(apiKey, version);
        if (flexible) {
            skipTaggedFields(s, buf);
        }
        if (conn.shallow() || s.overrun) {
            return true;
        }
        switch (apiKey) {
            case PRODUCE:
                if (version >= 3) {
                    skipString(s, buf, flexible);
                }
                s.cur += 6; // acks, timeout_ms
                if (arrayLength(s, buf, flexible) > 0) {
                    if (version >= PRODUCE_TOPIC_ID_FROM) {
                        topicById(s, buf, log, topicIds);
                    } else {
                        topic(s, buf, log, flexible);
                    }
                    if (version >= 3) {
                        recordHeaders(s, buf, log, flexible);
                    }
                }
                break;
            case FETCH:
                if (version <= 14) {
                    s.cur += 4; // replica_id
                }
                s.cur += 8; // max_wait_ms, min_bytes
                if (version >= 3) {
                    s.cur += 4;
                }
                if (version >= 4) {
                    s.cur += 1;
                }
                if (version >= 7) {
                    s.cur += 8;
                }
                if (arrayLength(s, buf, flexible) > 0) {
                    if (version >= FETCH_TOPIC_ID_FROM) {
                        topicById(s, buf, log, topicIds);
                    } else {
                        topic(s, buf, log, flexible);
                    }
                }
                break;
            case 8: case 9: case 11: case 12: case 13: case 14: {
                if (apiKey == OFFSET_FETCH && version >= 8 && arrayLength(s, buf, flexible) <= 0) {
                    break; // v8+ asks for a batch of groups[group_id ...]: the first one is reported
                }
                int n = stringLength(s, buf, flexible);
                if (n > 0 && s.cur + n <= s.lim) {
                    TextField g = log.addAttribute(CONSUMER_GROUP);
                    if (g != null) {
                        g.set(buf, s.cur, n);
                    }
                }
                break;
            }
            default:
                break;
        }
        return true;
    }

    /**
     * Trace context from the headers of the first record of the first partition's batch (magic 2,
     * uncompressed): where producers instrumented by OpenTelemetry or SkyWalking put it.
     */
    private static void recordHeaders(State s, DirectBuffer buf, RequestLog log, boolean flexible) {
        if (arrayLength(s, buf, flexible) <= 0) {
            return;
        }
        s.cur += 4; // partition index
        int size = flexible ? uvarint(s, buf) - 1 : int32(s, buf);
        // base offset 8, batch length 4, leader epoch 4, magic 1, crc 4, attributes 2, last offset
        // delta 4, timestamps 16, producer id 8, epoch 2, base sequence 4, record count 4
        int batch = s.cur;
        if (s.overrun || size < RECORD_BATCH_HEADER_BYTES || batch + RECORD_BATCH_HEADER_BYTES > s.lim
                || buf.getByte(batch + 16) != 2 || (buf.getShort(batch + 21, ByteOrder.BIG_ENDIAN) & 7) != 0) {
            return;
        }
        s.cur = batch + RECORD_BATCH_HEADER_BYTES;
        varint(s, buf); // record length
        s.cur += 1; // attributes
        varint(s, buf); // timestamp delta
        varint(s, buf); // offset delta
        skipBytes(s, varint(s, buf)); // key
        skipBytes(s, varint(s, buf)); // value
        int headers = varint(s, buf);
        for (int i = 0; i < headers && i < MAX_TAGGED_FIELDS && !s.overrun; i++) {
            int keyLen = varint(s, buf);
            int key = s.cur;
            skipBytes(s, keyLen);
            int valueLen = varint(s, buf);
            int value = s.cur;
            skipBytes(s, valueLen);
            if (s.overrun || keyLen <= 0 || valueLen <= 0) {
                return;
            }
            if (AsciiBytes.equalsIgnoreCase(buf, key, keyLen, TRACEPARENT)) {
                TraceContext.traceparent(log, buf, value, valueLen);
            } else if (AsciiBytes.equalsIgnoreCase(buf, key, keyLen, SW8)) {
                TraceContext.sw8(log, buf, value, valueLen, SW8_TRACE_ID);
            }
        }
    }

    /** A zigzag varint (record fields); sets overrun when cut. */
    private static int varint(State s, DirectBuffer buf) {
        int v = uvarint(s, buf);
        return (v >>> 1) ^ -(v & 1);
    }

    private static void skipBytes(State s, int n) {
        if (n > 0) {
            s.cur += n;
        }
        if (s.cur > s.lim) {
            s.overrun = true;
        }
    }

    private static void topic(State s, DirectBuffer buf, RequestLog log, boolean flexible) {
        int n = stringLength(s, buf, flexible);
        if (n > 0 && !s.overrun) {
            int have = Math.min(n, s.lim - s.cur);
            if (have > 0) {
                log.resource().set(buf, s.cur, have);
                log.endpoint().set(buf, s.cur, have);
            }
            s.cur += n;
        }
    }

    /** The topic named by the 16-byte id at the cursor, if the table knows it; counted if not. */
    private static void topicById(State s, DirectBuffer buf, RequestLog log, KafkaTopicIds ids) {
        if (s.cur + UUID_BYTES > s.lim) {
            s.overrun = true;
            return;
        }
        nameById(buf, s.cur, log, ids);
        s.cur += UUID_BYTES;
    }

    private static void nameById(DirectBuffer buf, int at, RequestLog log, KafkaTopicIds ids) {
        long high = buf.getLong(at, ByteOrder.BIG_ENDIAN);
        long low = buf.getLong(at + 8, ByteOrder.BIG_ENDIAN);
        KafkaTopicIds.Entry e = ids.find(high, low);
        if (e == null) {
            ids.countUnknown();
            return;
        }
        log.resource().set(e.name, 0, e.name.length);
        log.endpoint().set(e.name, 0, e.name.length);
    }

    private static boolean response(Connection conn, State s, DirectBuffer buf, int pos, int head, long total,
            long prefixNanos, KafkaTopicIds ids) {
        if (head < 8) {
            return false;
        }
        int corr = buf.getInt(pos + 4, ByteOrder.BIG_ENDIAN);
        int slot = corr & (SLOTS - 1);
        RequestLog log = conn.respondTo(corr & 0xFFFF_FFFFL, pos);
        if (log == null) {
            return true;
        }
        if (prefixNanos != 0) {
            log.endNanos(prefixNanos);
        }
        log.responseBytes(total);
        if (!s.slotUsed[slot] || s.slotCorrelation[slot] != corr) {
            // more than SLOTS requests in flight: the api key needed to read the body is gone
            log.statusClass(StatusClass.UNKNOWN);
            conn.complete(log);
            return true;
        }
        s.slotUsed[slot] = false;
        int apiKey = s.slotApiKey[slot];
        int version = s.slotVersion[slot];
        s.cur = pos + 8;
        s.lim = pos + head;
        s.overrun = false;
        boolean flexible = flexibleRequest(apiKey, version);
        if (flexible && apiKey != API_VERSIONS) {
            // ApiVersions answers with header v0 so that old clients can read it
            skipTaggedFields(s, buf);
        }
        s.topicIdAt = -1;
        int code = conn.shallow() && !TOP_LEVEL_ERROR[apiKey] ? 0
                : errorCode(s, buf, apiKey, version, flexible, ids);
        if (s.topicIdAt >= 0 && s.topicIdAt + UUID_BYTES <= s.lim && log.resource().isEmpty()) {
            // the request named no topic (an incremental fetch session) or an id not known then
            nameById(buf, s.topicIdAt, log, ids);
        }
        if (s.overrun) {
            log.statusClass(StatusClass.UNKNOWN);
        } else {
            log.statusCode(code);
            log.statusClass(statusOf(code));
        }
        conn.complete(log);
        return true;
    }

    private static int errorCode(State s, DirectBuffer buf, int apiKey, int version, boolean flexible,
            KafkaTopicIds ids) {
        if (apiKey == FIND_COORDINATOR && version >= 4) {
            // v4+ answers a batch: throttle_time_ms, coordinators[key, node_id, host, port, error_code ...]
            s.cur += 4;
            if (arrayLength(s, buf, flexible) <= 0) {
                return 0;
            }
            skipString(s, buf, flexible);
            s.cur += 4;
            skipString(s, buf, flexible);
            s.cur += 4;
            return int16(s, buf);
        }
        if (apiKey < TOP_LEVEL_ERROR.length && TOP_LEVEL_ERROR[apiKey]) {
            if (version >= THROTTLE_FROM[apiKey]) {
                s.cur += 4;
            }
            return int16(s, buf);
        }
        if (apiKey == FETCH) {
            if (version >= 1) {
                s.cur += 4;
            }
            if (version < 7) {
                return firstPartitionError(s, buf, flexible);
            }
            int code = int16(s, buf);
            if (version >= FETCH_TOPIC_ID_FROM && !s.overrun) {
                s.cur += 4; // session_id
                if (arrayLength(s, buf, flexible) > 0) {
                    s.topicIdAt = s.cur;
                }
                s.overrun = false; // the status is read already
            }
            return code;
        }
        if (apiKey == PRODUCE) {
            if (version < PRODUCE_TOPIC_ID_FROM) {
                return firstPartitionError(s, buf, flexible);
            }
            // responses[topic_id, partition_responses[index, error_code ...]]
            if (arrayLength(s, buf, flexible) <= 0) {
                return 0;
            }
            s.topicIdAt = s.cur;
            s.cur += UUID_BYTES;
            if (arrayLength(s, buf, flexible) <= 0) {
                return 0;
            }
            s.cur += 4;
            return int16(s, buf);
        }
        if (apiKey == METADATA) {
            return metadata(s, buf, version, flexible, ids);
        }
        if (apiKey == DESCRIBE_TOPIC_PARTITIONS) {
            s.cur += 4; // throttle_time_ms
            return topics(s, buf, true, true, true, 14, 5, true, ids);
        }
        return 0;
    }

    /**
     * Metadata response: the first topic error (a missing topic answers 3 with a top-level 0), or
     * v13's top-level error; ids of v10+ are learnt on the way.
     */
    private static int metadata(State s, DirectBuffer buf, int version, boolean flexible, KafkaTopicIds ids) {
        if (version >= 3) {
            s.cur += 4; // throttle_time_ms
        }
        int brokers = arrayLength(s, buf, flexible);
        for (int i = 0; i < brokers && !s.overrun; i++) {
            s.cur += 4; // node_id
            skipString(s, buf, flexible); // host
            s.cur += 4; // port
            if (version >= 1) {
                skipString(s, buf, flexible); // rack
            }
            if (flexible) {
                skipTaggedFields(s, buf);
            }
            checkBounds(s);
        }
        if (version >= 2) {
            skipString(s, buf, flexible); // cluster_id
        }
        if (version >= 1) {
            s.cur += 4; // controller_id
        }
        checkBounds(s);
        if (s.overrun) {
            return 0;
        }
        int arrays = version >= 5 ? 3 : 2;
        int code = topics(s, buf, flexible, version >= METADATA_TOPIC_ID_FROM, version >= 1,
                version >= 7 ? 14 : 10, arrays, version >= 8, ids);
        if (version >= 13 && !s.overrun) {
            int top = int16(s, buf);
            if (top != 0 && !s.overrun) {
                return top;
            }
            s.overrun = false;
        }
        return code;
    }

    /**
     * topics[error_code, name, topic_id?, is_internal?, partitions[fixed bytes, int32 arrays...],
     * authorized_operations?] of Metadata and DescribeTopicPartitions: learns each id with its
     * name and answers the first non-zero topic error. Topics past the bytes in view are not read;
     * the answer stands (overrun cleared) once the first topic's error was read.
     */
    private static int topics(State s, DirectBuffer buf, boolean flexible, boolean topicId, boolean isInternal,
            int partitionFixedBytes, int int32Arrays, boolean authorizedOps, KafkaTopicIds ids) {
        int n = arrayLength(s, buf, flexible);
        if (s.overrun) {
            return 0;
        }
        int first = 0;
        boolean read = n <= 0;
        for (int i = 0; i < n && !s.overrun; i++) {
            int err = int16(s, buf);
            if (s.overrun) {
                break;
            }
            read = true;
            if (first == 0) {
                first = err;
            }
            int len = stringLength(s, buf, flexible);
            int name = s.cur;
            if (len > 0) {
                s.cur += len;
            }
            if (topicId) {
                if (s.cur + UUID_BYTES > s.lim) {
                    s.overrun = true;
                    break;
                }
                if (len > 0) {
                    // a topic that exists has its id even when it answers an error (leader moving...)
                    ids.learn(buf.getLong(s.cur, ByteOrder.BIG_ENDIAN), buf.getLong(s.cur + 8, ByteOrder.BIG_ENDIAN),
                            buf, name, len);
                }
                s.cur += UUID_BYTES;
            }
            if (isInternal) {
                s.cur += 1;
            }
            int partitions = arrayLength(s, buf, flexible);
            for (int p = 0; p < partitions && !s.overrun; p++) {
                s.cur += partitionFixedBytes;
                for (int a = 0; a < int32Arrays; a++) {
                    skipInt32Array(s, buf, flexible);
                }
                if (flexible) {
                    skipTaggedFields(s, buf);
                }
                checkBounds(s);
            }
            if (authorizedOps) {
                s.cur += 4;
            }
            if (flexible) {
                skipTaggedFields(s, buf);
            }
            checkBounds(s);
        }
        if (read) {
            // what was in view is answered; the bytes not in view are not this message's status
            boolean cut = s.overrun;
            s.overrun = false;
            if (cut) {
                s.cur = s.lim;
            }
        }
        return first;
    }

    private static void skipInt32Array(State s, DirectBuffer buf, boolean flexible) {
        int n = arrayLength(s, buf, flexible);
        if (n > 0) {
            if (n > (s.lim - s.cur) / 4) {
                s.overrun = true;
                s.cur = s.lim;
                return;
            }
            s.cur += 4 * n;
        }
    }

    private static void checkBounds(State s) {
        if (s.cur > s.lim) {
            s.overrun = true;
        }
    }

    /** topics[name, partitions[index int32, error_code int16 ...]]: the first partition's error. */
    private static int firstPartitionError(State s, DirectBuffer buf, boolean flexible) {
        if (arrayLength(s, buf, flexible) <= 0) {
            return 0;
        }
        skipString(s, buf, flexible);
        if (arrayLength(s, buf, flexible) <= 0) {
            return 0;
        }
        s.cur += 4;
        return int16(s, buf);
    }

    static StatusClass statusOf(int code) {
        if (code == 0) {
            return StatusClass.OK;
        }
        if (code == -1 || code > MAX_DEFINED_ERROR
                || (code > 0 && code < SERVER_ERRORS.length && SERVER_ERRORS[code])) {
            return StatusClass.SERVER_ERROR;
        }
        return StatusClass.CLIENT_ERROR;
    }

    // ---- primitive readers: bounded by s.lim, set s.overrun instead of reading past it ----

    private static int int16(State s, DirectBuffer buf) {
        if (s.cur + 2 > s.lim) {
            s.overrun = true;
            s.cur = s.lim;
            return 0;
        }
        int v = buf.getShort(s.cur, ByteOrder.BIG_ENDIAN);
        s.cur += 2;
        return v;
    }

    private static int int32(State s, DirectBuffer buf) {
        if (s.cur + 4 > s.lim) {
            s.overrun = true;
            s.cur = s.lim;
            return 0;
        }
        int v = buf.getInt(s.cur, ByteOrder.BIG_ENDIAN);
        s.cur += 4;
        return v;
    }

    /** An unsigned varint of at most 5 bytes; -1 when cut or too long. */
    private static int uvarint(State s, DirectBuffer buf) {
        int v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (s.cur >= s.lim) {
                s.overrun = true;
                return -1;
            }
            int b = buf.getByte(s.cur++);
            v |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        s.overrun = true;
        return -1;
    }

    /** Length of a (compact) string or -1 for null; the cursor ends at its first byte. */
    private static int stringLength(State s, DirectBuffer buf, boolean flexible) {
        if (flexible) {
            int n = uvarint(s, buf);
            return n <= 0 ? -1 : n - 1;
        }
        return int16(s, buf);
    }

    private static void skipString(State s, DirectBuffer buf, boolean flexible) {
        int n = stringLength(s, buf, flexible);
        if (n > 0) {
            s.cur += n;
        }
    }

    private static int arrayLength(State s, DirectBuffer buf, boolean flexible) {
        if (flexible) {
            int n = uvarint(s, buf);
            return n <= 0 ? -1 : n - 1;
        }
        return int32(s, buf);
    }

    private static void skipTaggedFields(State s, DirectBuffer buf) {
        int n = uvarint(s, buf);
        if (n > MAX_TAGGED_FIELDS) {
            s.overrun = true;
            return;
        }
        for (int i = 0; i < n && !s.overrun; i++) {
            uvarint(s, buf);
            int size = uvarint(s, buf);
            if (size > 0) {
                s.cur += size;
            }
        }
        if (s.cur > s.lim) {
            s.overrun = true;
        }
    }
}
