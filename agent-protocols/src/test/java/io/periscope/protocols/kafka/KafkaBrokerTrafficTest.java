package io.periscope.protocols.kafka;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.LocalProcess;
import io.periscope.protocols.testing.PcapReplay;
import io.periscope.protocols.testing.Tshark;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A real Kafka broker (kafka_2.13 from Maven Central, KRaft mode: one node that is broker and
 * controller, storage formatted with a random cluster id) in a child JVM, driven by kafka-clients:
 * a topic created, records produced (one with a traceparent header, one too large for the topic:
 * MESSAGE_TOO_LARGE) and consumed in a consumer group (whose first JoinGroup is answered
 * MEMBER_ID_REQUIRED). Captured with tcpdump on lo. Every request is matched by client port and
 * correlation id with tshark's Kafka dissection (API, version, client id, the frames of request and
 * response) and with the broker's own request log (topic, consumer group, error code): tshark 4.0
 * knows the headers of every version but not the bodies of the versions kafka-clients 3.9 sends.
 */
@Tag("kernel")
class KafkaBrokerTrafficTest {
    private static final int PORT = 18540;
    private static final int CONTROLLER_PORT = 18541;
    private static final String TOPIC = "orders";
    private static final String GROUP = "periscope-group";
    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String TRACEPARENT = "00-" + TRACE_ID + "-00f067aa0ba902b7-01";
    /** The topic's max.message.bytes: a bigger record is refused by the broker, not the producer. */
    private static final int TOPIC_MAX_MESSAGE_BYTES = 1024;
    private static final long FORMAT_TIMEOUT_SECONDS = 60;
    private static final long START_TIMEOUT_MILLIS = 60_000;
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int MESSAGE_TOO_LARGE = 10;
    private static final int MEMBER_ID_REQUIRED = 79;
    private static final int UNKNOWN_TOPIC_OR_PARTITION = 3;
    private static final int METADATA = 3;
    private static final int DESCRIBE_TOPIC_PARTITIONS = 75;
    /**
     * APIs whose error code we read: the first one in the response, as the broker logs it (for
     * Metadata and DescribeTopicPartitions the first topic's: 3 for the missing topic).
     */
    private static final List<Integer> ERROR_COMPARED = List.of(0, 1, 3, 10, 11, 12, 13, 14, 16, 18, 22, 25, 26,
            60, 75);
    /** OffsetCommit, OffsetFetch, JoinGroup, Heartbeat, LeaveGroup, SyncGroup: the group is an attribute. */
    private static final List<Integer> GROUP_APIS = List.of(8, 9, 11, 12, 13, 14);
    private static final Pattern HEADER = Pattern.compile("\"requestApiKey\":(\\d+),\"requestApiVersion\":(\\d+),"
            + "\"correlationId\":(-?\\d+),\"clientId\":(?:\"([^\"]*)\"|null)");
    private static final Pattern CONNECTION = Pattern.compile("\"connection\":\"127\\.0\\.0\\.1:" + PORT
            + "-127\\.0\\.0\\.1:(\\d+)-");
    private static final Pattern NAME = Pattern.compile("\"name\":\"([^\"]*)\"");
    private static final Pattern GROUP_ID = Pattern.compile("\"groupId\":\"([^\"]*)\"");
    private static final Pattern ERROR_CODE = Pattern.compile("\"errorCode\":(-?\\d+)");
    private static final Pattern TOPIC_ID = Pattern.compile("\"topicId\":\"([^\"]*)\"");

    /** The id the broker gave {@link #TOPIC} (Kafka's base64 form, as its request log writes ids). */
    private String topicId;

    @TempDir
    Path dir;

    @Test
    void realKafkaShouldReadAsTsharkAndTheBrokerReadIt() throws Exception {
        Path props = writeServerProperties();
        format(props);
        Path pcap = dir.resolve("kafka.pcap");
        try (LocalProcess broker = LocalProcess.start(dir.resolve("kafka.out"), javaCommand("kafka.Kafka",
                props.toString()))) {
            broker.awaitPort(PORT, START_TIMEOUT_MILLIS);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + PORT);
            drive();
            capture.stopCapture(pcap);
            Path kept = Files.createDirectories(Path.of("target", "real-traffic"));
            Files.copy(pcap, kept.resolve(pcap.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }

        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.defaults());
        Map<String, BrokerEntry> broker = brokerRequestLog(dir.resolve("kafka.out"));
        assertThat(logs).isNotEmpty().allSatisfy(l -> assertThat(l.protocol()).isEqualTo(L7Protocol.KAFKA));
        Map<Integer, List<RequestLog>> ours = new TreeMap<>();
        for (RequestLog l : logs) {
            ours.computeIfAbsent(l.localPort() == PORT ? l.remotePort() : l.localPort(), k -> new ArrayList<>()).add(l);
        }

        // tshark: requests per client connection in order, responses by (client port, correlation id)
        List<String[]> rows = Tshark.fields(pcap, List.of("tcp.port==" + PORT + ",kafka"), "frame.time_epoch",
                "tcp.srcport", "tcp.dstport", "kafka.correlation_id", "kafka.api_key", "kafka.api_version",
                "kafka.client_id", "frame.number", "tcp.segment");
        // tshark shows a message at the frame that completes it; we at the frame where it starts
        Map<String, Long> frameNanos = new HashMap<>();
        for (String[] r : rows) {
            frameNanos.put(r[7], epochNanos(r[0]));
        }
        Map<Integer, List<TsharkRequest>> theirs = new TreeMap<>();
        Map<String, TsharkResponse> responses = new HashMap<>();
        for (String[] r : rows) {
            if (r[3].isEmpty()) {
                continue;
            }
            long frameTime = epochNanos(r[0]);
            long firstSegment = r[8].isEmpty() ? frameTime : frameNanos.get(r[8].split(",")[0]);
            String[] corr = r[3].split(",");
            if (r[2].equals(String.valueOf(PORT))) {
                String[] keys = r[4].split(",");
                String[] versions = r[5].split(",");
                String[] ids = r[6].split(",", -1);
                for (int i = 0; i < corr.length; i++) {
                    theirs.computeIfAbsent(Integer.parseInt(r[1]), k -> new ArrayList<>()).add(new TsharkRequest(
                            i == 0 ? firstSegment : frameTime, Integer.parseInt(corr[i]), Integer.parseInt(keys[i]),
                            Integer.parseInt(versions[i]), i < ids.length ? ids[i] : ""));
                }
            } else {
                for (int i = 0; i < corr.length; i++) {
                    responses.put(r[2] + "/" + corr[i], new TsharkResponse(i == 0 ? firstSegment : frameTime));
                }
            }
        }
        assertThat(ours.keySet()).as("client connections").isEqualTo(theirs.keySet());
        int produceErrors = 0;
        int joinErrors = 0;
        int metadataTopicErrors = 0;
        int fetchesNamed = 0;
        for (Map.Entry<Integer, List<TsharkRequest>> conn : theirs.entrySet()) {
            List<RequestLog> mine = ours.get(conn.getKey());
            List<TsharkRequest> want = conn.getValue();
            assertThat(mine).as("requests on client port %d", conn.getKey()).hasSameSizeAs(want);
            for (int i = 0; i < want.size(); i++) {
                TsharkRequest t = want.get(i);
                RequestLog l = mine.get(i);
                String what = "request " + i + " (correlation id " + t.correlationId + ") on port " + conn.getKey()
                        + ": " + l;
                assertThat(l.method().toString()).as(what).isEqualTo(KafkaParser.apiName(t.apiKey));
                assertThat(l.version().toString()).as(what).isEqualTo(String.valueOf(t.version));
                assertThat(l.startNanos()).as(what).isEqualTo(t.nanos);
                assertThat(String.valueOf(l.attribute(KafkaParser.CLIENT_ID))).as(what).isEqualTo(t.clientId);
                TsharkResponse resp = responses.get(conn.getKey() + "/" + t.correlationId);
                BrokerEntry b = broker.get(conn.getKey() + "/" + t.correlationId);
                assertThat(b != null || resp == null).as("the broker logged %s", what).isTrue();
                if (b != null) {
                    assertThat(b.apiKey).as(what).isEqualTo(t.apiKey);
                    assertThat(b.version).as(what).isEqualTo(t.version);
                    assertThat(b.clientId).as(what).isEqualTo(t.clientId);
                    if (t.apiKey == 0 || t.apiKey == 1 && t.version <= 12) {
                        assertThat(l.resource().toString()).as(what).isEqualTo(b.topic);
                    } else if (t.apiKey == 1) {
                        // Fetch v13+ names topics by id only: the id of the request, else of the
                        // response; named after the Metadata answer that paired it with a name
                        assertThat(b.topicId).as(what).isIn("", topicId);
                        assertThat(l.resource().toString()).as(what).isEqualTo(b.topicId.isEmpty() ? "" : TOPIC);
                        fetchesNamed += b.topicId.isEmpty() ? 0 : 1;
                    }
                    if (GROUP_APIS.contains(t.apiKey)) {
                        assertThat(String.valueOf(l.attribute(KafkaParser.CONSUMER_GROUP))).as(what).isEqualTo(b.group);
                    }
                    if (ERROR_COMPARED.contains(t.apiKey)) {
                        assertThat(l.statusCode()).as(what).isEqualTo(b.error);
                        assertThat(l.statusClass()).as(what).isEqualTo(KafkaParser.statusOf(b.error));
                    }
                    if (t.apiKey == METADATA || t.apiKey == DESCRIBE_TOPIC_PARTITIONS) {
                        metadataTopicErrors += l.statusCode() == UNKNOWN_TOPIC_OR_PARTITION ? 1 : 0;
                    }
                }
                if (resp == null) {
                    assertThat(l.statusClass()).as(what).isEqualTo(StatusClass.TIMEOUT);
                    continue;
                }
                // paired by correlation id: the record ends at the frame of the response with the same id
                assertThat(l.endNanos()).as(what).isEqualTo(resp.nanos);
                produceErrors += t.apiKey == 0 && l.statusCode() == MESSAGE_TOO_LARGE ? 1 : 0;
                joinErrors += t.apiKey == 11 && l.statusCode() == MEMBER_ID_REQUIRED ? 1 : 0;
            }
        }
        assertThat(produceErrors).as("the refused Produce").isEqualTo(1);
        assertThat(joinErrors).as("the first JoinGroup").isEqualTo(1);
        assertThat(metadataTopicErrors).as("Metadata/DescribeTopicPartitions for the missing topic").isPositive();
        assertThat(fetchesNamed).as("Fetch v13+ named by topic id").isPositive();
        List<RequestLog> produces = logs.stream().filter(l -> l.method().contentEquals("Produce")).toList();
        assertThat(produces).hasSize(4).allSatisfy(l -> assertThat(l.resource().toString()).isEqualTo(TOPIC));
        assertThat(produces).filteredOn(RequestLog::hasTraceContext).singleElement()
                .satisfies(l -> assertThat(HexFormat.of().formatHex(l.traceId())).isEqualTo(TRACE_ID));
        assertThat(produces).filteredOn(l -> l.statusClass() == StatusClass.CLIENT_ERROR).hasSize(1);
        assertThat(logs).filteredOn(l -> l.method().contentEquals("Fetch")).isNotEmpty();
        assertThat(logs).filteredOn(l -> l.method().toString().matches("JoinGroup|SyncGroup|OffsetFetch|OffsetCommit"))
                .hasSizeGreaterThanOrEqualTo(4)
                .allSatisfy(l -> assertThat(l.attribute(KafkaParser.CONSUMER_GROUP).toString()).isEqualTo(GROUP));
        assertThat(logs).filteredOn(l -> l.method().contentEquals("FindCoordinator")).isNotEmpty();
        assertThat(logs).filteredOn(l -> l.method().contentEquals("CreateTopics")).singleElement()
                .satisfies(l -> assertThat(l.attribute(KafkaParser.CLIENT_ID).toString()).isEqualTo("periscope-admin"));
    }

    /** One line of the broker's request log: header, the first topic and group named, the first error code. */
    private record BrokerEntry(int apiKey, int version, String clientId, String topic, String group, int error,
            String topicId) {
    }

    /**
     * The broker's {@code kafka.request.logger} at debug: "Completed request:{json}" with the
     * request header, request, response and connection of every request it answered, keyed by
     * client port and correlation id (client listener only).
     */
    private static Map<String, BrokerEntry> brokerRequestLog(Path out) throws IOException {
        Map<String, BrokerEntry> entries = new HashMap<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            int at = line.indexOf("Completed request:{");
            Matcher conn = CONNECTION.matcher(line);
            Matcher h = HEADER.matcher(line);
            if (at < 0 || !conn.find() || !h.find()) {
                continue;
            }
            int req = line.indexOf("\"request\":", at);
            int resp = line.indexOf("\"response\":", at);
            String request = req < 0 || resp < req ? "" : line.substring(req, resp);
            String response = resp < 0 ? "" : line.substring(resp, conn.start());
            Matcher name = NAME.matcher(request);
            Matcher group = GROUP_ID.matcher(request);
            Matcher error = ERROR_CODE.matcher(response);
            Matcher requestId = TOPIC_ID.matcher(request);
            Matcher responseId = TOPIC_ID.matcher(response);
            String id = requestId.find() ? requestId.group(1) : responseId.find() ? responseId.group(1) : "";
            entries.put(conn.group(1) + "/" + h.group(3), new BrokerEntry(Integer.parseInt(h.group(1)),
                    Integer.parseInt(h.group(2)), String.valueOf(h.group(4)), name.find() ? name.group(1) : "",
                    group.find() ? group.group(1) : "null", error.find() ? Integer.parseInt(error.group(1)) : 0,
                    id));
        }
        return entries;
    }

    private record TsharkRequest(long nanos, int correlationId, int apiKey, int version, String clientId) {
    }

    private record TsharkResponse(long nanos) {
    }

    /** "1763807000.123456000" to nanoseconds. */
    private static long epochNanos(String epoch) {
        int dot = epoch.indexOf('.');
        String frac = (epoch.substring(dot + 1) + "000000000").substring(0, 9);
        return Long.parseLong(epoch.substring(0, dot)) * 1_000_000_000L + Long.parseLong(frac);
    }

    /** The clients' side: each step checks what the broker answered. */
    private void drive() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + PORT,
                AdminClientConfig.CLIENT_ID_CONFIG, "periscope-admin"))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("max.message.bytes",
                    String.valueOf(TOPIC_MAX_MESSAGE_BYTES))))).all().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            topicId = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(WAIT.toSeconds(), TimeUnit.SECONDS)
                    .get(TOPIC).topicId().toString();
            // auto-creation is off: a topic nobody created stays unknown
            assertThatThrownBy(() -> admin.describeTopics(List.of("no-such-topic")).allTopicNames()
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .hasCauseInstanceOf(UnknownTopicOrPartitionException.class);
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + PORT);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "periscope-producer");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.RETRIES_CONFIG, 0);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) WAIT.toMillis() / 2);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) WAIT.toMillis());
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) WAIT.toMillis());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>(TOPIC, "k1", "order 1")).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            ProducerRecord<String, String> traced = new ProducerRecord<>(TOPIC, null, "k2", "order 2",
                    List.of(new RecordHeader("traceparent", TRACEPARENT.getBytes(StandardCharsets.US_ASCII))));
            producer.send(traced).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            // bigger than the topic allows: the broker refuses the Produce with MESSAGE_TOO_LARGE
            String big = "x".repeat(4 * TOPIC_MAX_MESSAGE_BYTES);
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(TOPIC, "k3", big))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(RecordTooLargeException.class);
            producer.send(new ProducerRecord<>(TOPIC, "k4", "order 3")).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + PORT);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "periscope-consumer");
        c.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (values.size() < 3 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    values.add(r.value());
                }
            }
            assertThat(values).containsExactly("order 1", "order 2", "order 3");
            consumer.commitSync(WAIT);
        }
    }

    private Path writeServerProperties() throws IOException {
        Path props = dir.resolve("server.properties");
        Files.writeString(props, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + CONTROLLER_PORT,
                "listeners=PLAINTEXT://127.0.0.1:" + PORT + ",CONTROLLER://127.0.0.1:" + CONTROLLER_PORT,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + PORT,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + dir.resolve("kraft-logs"),
                "num.partitions=1",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "") + "\n");
        return props;
    }

    /** kafka-storage format: the log dir gets meta.properties with a fresh cluster id. */
    private void format(Path props) throws IOException, InterruptedException {
        Path out = dir.resolve("format.out");
        Process p = new ProcessBuilder(javaCommand("kafka.tools.StorageTool", "format", "-t",
                Uuid.randomUuid().toString(), "-c", props.toString())).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(FORMAT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("kafka storage format did not finish in " + FORMAT_TIMEOUT_SECONDS + " s");
        }
        assertThat(p.exitValue()).as("kafka storage format: %s", Files.readString(out)).isZero();
    }

    /** A child JVM on this test's class path (kafka_2.13 and its dependencies are test dependencies). */
    private String[] javaCommand(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.io.tmpdir=" + dir,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                // the broker's own account of every request: header, request and response as JSON
                "-Dorg.slf4j.simpleLogger.log.kafka.request.logger=debug", "-cp", System.getProperty("java.class.path"),
                mainClass));
        cmd.addAll(List.of(args));
        return cmd.toArray(String[]::new);
    }
}
