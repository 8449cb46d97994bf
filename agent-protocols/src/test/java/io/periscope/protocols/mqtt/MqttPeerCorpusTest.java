package io.periscope.protocols.mqtt;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.DeepflowResult;
import io.periscope.protocols.testing.PcapReplay;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** DeepFlow's MQTT captures: packet types, client id, topics and CONNACK codes must match its .result. */
class MqttPeerCorpusTest {
    private static final Set<String> STARTERS = Set.of("Connect", "Publish", "Pubrel", "Subscribe", "Unsubscribe",
            "Pingreq", "Disconnect");

    static Path corpus(String relative) {
        String root = System.getProperty("periscope.peerCorpus");
        assertThat(root).as("system property periscope.peerCorpus (set by the parent pom)").isNotNull();
        Path p = Path.of(root, "deepflow", relative);
        assertThat(Files.exists(p)).as("peer corpus file %s", p).isTrue();
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mqtt_connect", "mqtt_one_packet_multi_publish", "mqtt_pub", "mqtt_roundtrip"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        List<RequestLog> logs = PcapReplay.replay(corpus("mqtt/" + name + ".pcap"), ProtocolConfig.defaults());
        List<Map<String, String>> lines = DeepflowResult.read(corpus("mqtt/" + name + ".result"));
        List<Map<String, String>> starts = lines.stream().filter(m -> STARTERS.contains(m.get("pkt_type"))).toList();
        assertThat(logs).hasSize(starts.size());
        for (int i = 0; i < starts.size(); i++) {
            Map<String, String> e = starts.get(i);
            RequestLog log = logs.get(i);
            assertThat(log.protocol()).isEqualTo(L7Protocol.MQTT);
            assertThat(log.method().toString()).isEqualToIgnoringCase(e.get("pkt_type"));
            if (e.containsKey("client_id")) {
                assertThat(log.attribute(MqttParser.CLIENT_ID).toString()).isEqualTo(e.get("client_id"));
            }
            if (e.containsKey("publish_topic")) {
                assertThat(log.resource().toString()).isEqualTo(e.get("publish_topic"));
            }
            if ("Subscribe".equals(e.get("pkt_type")) || "Unsubscribe".equals(e.get("pkt_type"))) {
                // DeepFlow's endpoint is the first filter; our resource lists them all
                assertThat(log.resource().toString()).startsWith(e.get("endpoint"));
            }
            // DeepFlow's sizes are the remaining length; ours count the fixed header too
            String size = e.containsKey("req_msg_size") ? e.get("req_msg_size") : e.get("res_msg_size");
            long rem = Long.parseLong(size);
            assertThat(log.requestBytes()).isEqualTo(rem + 1 + (rem < 128 ? 1 : 2));
            assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
        }
        for (Map<String, String> e : lines) {
            if ("Connack".equals(e.get("pkt_type"))) {
                RequestLog connect = logs.stream().filter(l -> l.method().contentEquals("CONNECT")).findFirst()
                        .orElseThrow();
                assertThat(connect.statusCode()).isEqualTo(Integer.parseInt(e.get("code")));
            }
        }
    }

    @Test
    void shouldNotTakeDnsOverTcpForMqtt() throws Exception {
        // DeepFlow reads this DNS-over-TCP query (port 53) as an MQTT CONNACK of 156 bytes (its
        // mqtt_error case documents that false positive); the packet is not MQTT, so nothing is reported
        List<RequestLog> logs = PcapReplay.replay(corpus("mqtt/mqtt_error.pcap"), ProtocolConfig.defaults());
        assertThat(logs).noneMatch(l -> l.protocol() == L7Protocol.MQTT);
    }

    @Test
    void shouldReadSubscribeWithoutTheConnect() throws Exception {
        // mqtt_sub has no .result in the corpus: the capture starts with a SUBSCRIBE and its SUBACK
        List<RequestLog> logs = PcapReplay.replay(corpus("mqtt/mqtt_sub.pcap"), ProtocolConfig.defaults());
        assertThat(logs).hasSize(1);
        assertThat(logs.get(0).method().toString()).isEqualTo("SUBSCRIBE");
        assertThat(logs.get(0).resource().toString()).isEqualTo("hello/+/world");
        assertThat(logs.get(0).statusClass()).isEqualTo(StatusClass.OK);
    }
}
