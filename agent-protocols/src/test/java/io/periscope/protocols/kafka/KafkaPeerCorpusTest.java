package io.periscope.protocols.kafka;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.DeepflowResult;
import io.periscope.protocols.testing.PcapReplay;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** DeepFlow's Kafka captures: API, client id, topic and response error code must match its .result. */
class KafkaPeerCorpusTest {
    static Path corpus(String relative) {
        String root = System.getProperty("periscope.peerCorpus");
        assertThat(root).as("system property periscope.peerCorpus (set by the parent pom)").isNotNull();
        Path p = Path.of(root, "deepflow", relative);
        assertThat(Files.exists(p)).as("peer corpus file %s", p).isTrue();
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"00-produce-v2", "00-produce-v7-sw8", "00-produce-v9", "01-fetch-v12-ok",
        "01-fetch-v12-unknown", "11-join-group-v7", "13-leave-group-v4", "14-sync-group-v5", "18-api-versions-v3",
        "mixed-with-unsupported"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        List<RequestLog> logs = PcapReplay.replay(corpus("kafka/" + name + ".pcap"), ProtocolConfig.defaults());
        List<Map<String, String>> lines = DeepflowResult.read(corpus("kafka/" + name + ".result")).stream()
                .filter(m -> m.containsKey("msg_type")).toList();
        List<Map<String, String>> requests = lines.stream().filter(m -> "Request".equals(m.get("msg_type"))).toList();
        assertThat(logs).hasSize(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            Map<String, String> req = requests.get(i);
            RequestLog log = logs.get(i);
            String corr = req.get("correlation_id");
            Map<String, String> resp = lines.stream()
                    .filter(m -> "Response".equals(m.get("msg_type")) && corr.equals(m.get("correlation_id")))
                    .findFirst().orElseThrow();
            assertThat(log.protocol()).isEqualTo(L7Protocol.KAFKA);
            assertThat(log.method().toString()).isEqualTo(req.get("command"));
            assertThat(log.version().toString()).isEqualTo(req.get("api_version"));
            assertThat(log.attribute(KafkaParser.CLIENT_ID).toString()).isEqualTo(req.get("client_id"));
            assertThat(log.resource().toString()).isEqualTo(req.get("topic_name"));
            if (!req.get("group_id").isEmpty()) {
                assertThat(log.attribute(KafkaParser.CONSUMER_GROUP).toString()).isEqualTo(req.get("group_id"));
            }
            if (name.equals("00-produce-v7-sw8")) {
                // DeepFlow's trace id comes from the sw8 header of the produced record
                assertThat(log.attribute(KafkaParser.SW8_TRACE_ID).toString())
                        .isEqualTo("bb79fa34-d03f-4bc2-8fa9-979af7877426");
            }
            // DeepFlow counts the 4-byte length prefix out of req_msg_size; we report the bytes on the wire
            assertThat(log.requestBytes()).isEqualTo(Long.parseLong(req.get("req_msg_size")) + 4);
            assertThat(log.responseBytes()).isEqualTo(Long.parseLong(resp.get("resp_msg_size")) + 4);
            int expectedCode = Integer.parseInt(resp.get("status_code"));
            if (expectedCode == -2) {
                // DeepFlow prints -2 for OffsetCommit v8 and Heartbeat v4 responses; tshark reads
                // error_code 0 in both (OffsetCommit has no top-level error, Heartbeat's is 0)
                assertThat(log.statusCode()).isZero();
                assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
                continue;
            }
            assertThat(log.statusCode()).isEqualTo(expectedCode);
            StatusClass expected = switch (resp.get("status")) {
                case "Ok" -> StatusClass.OK;
                case "ServerError" -> StatusClass.SERVER_ERROR;
                default -> StatusClass.CLIENT_ERROR;
            };
            assertThat(log.statusClass()).isEqualTo(expected);
        }
    }
}
