package io.periscope.protocols.mqtt;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.LocalProcess;
import io.periscope.protocols.testing.PcapReplay;
import io.periscope.protocols.testing.Tshark;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real mosquitto broker with mosquitto_sub and mosquitto_pub (MQTT 3.1.1 and 5, QoS 1 and 2),
 * captured with tcpdump on lo, read by us and by tshark: packet types and topics must agree, and
 * every exchange that expects an answer must be paired.
 */
@Tag("kernel")
class MosquittoTrafficTest {
    private static final int PORT = 18502;
    private static final long CLIENT_WAIT_SECONDS = 20;

    @TempDir
    Path dir;

    @Test
    void realMosquittoShouldReadAsTsharkReadsIt() throws Exception {
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, "listener " + PORT
                + " 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stdout\nlog_type all\n");
        Path pcap = dir.resolve("mqtt.pcap");
        try (LocalProcess broker = LocalProcess.start(dir.resolve("mosquitto.out"), "mosquitto", "-c",
                conf.toString())) {
            broker.awaitPort(PORT, 10_000);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + PORT);
            Process sub = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", String.valueOf(PORT),
                    "-i", "periscope-sub", "-q", "1", "-t", "sensors/#", "-C", "2")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("sub.out").toFile()).start();
            try {
                // the subscription must be in place before anything is published
                long deadline = System.currentTimeMillis() + 10_000;
                while (!broker.output().contains("periscope-sub")
                        && System.currentTimeMillis() < deadline) {
                    Thread.sleep(50);
                }
                Thread.sleep(300);
                LocalProcess.run(dir, false, "mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(PORT),
                        "-i", "periscope-pub1", "-q", "1", "-t", "sensors/temp", "-m", "21.5");
                LocalProcess.run(dir, false, "mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(PORT),
                        "-V", "mqttv5", "-i", "periscope-pub2", "-q", "2", "-t", "sensors/door", "-m", "open");
                assertThat(sub.waitFor(CLIENT_WAIT_SECONDS, TimeUnit.SECONDS))
                        .as("mosquitto_sub got both messages: %s", Files.readString(dir.resolve("sub.out")))
                        .isTrue();
            } finally {
                sub.destroy();
                sub.waitFor(CLIENT_WAIT_SECONDS, TimeUnit.SECONDS);
            }
            capture.stopCapture(pcap);
        }

        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.defaults());
        assertThat(logs).allSatisfy(l -> assertThat(l.protocol()).isEqualTo(L7Protocol.MQTT));
        assertThat(logs).allSatisfy(l -> assertThat(l.statusClass()).isEqualTo(StatusClass.OK));
        assertThat(logs.stream().filter(l -> l.method().contentEquals("CONNECT"))
                .map(l -> l.attribute(MqttParser.CLIENT_ID).toString()))
                .containsExactlyInAnyOrder("periscope-sub", "periscope-pub1", "periscope-pub2");
        assertThat(logs.stream().filter(l -> l.method().contentEquals("CONNECT")).map(l -> l.version().toString()))
                .containsExactlyInAnyOrder("3.1.1", "3.1.1", "5.0");
        // pub1 -> broker (QoS 1), pub2 -> broker (QoS 2), broker -> sub twice (QoS 1 each)
        assertThat(logs.stream().filter(l -> l.method().contentEquals("PUBLISH")).map(l -> l.resource().toString()))
                .containsExactlyInAnyOrder("sensors/temp", "sensors/door", "sensors/temp", "sensors/door");
        assertThat(logs).filteredOn(l -> l.method().contentEquals("SUBSCRIBE")).singleElement()
                .satisfies(l -> assertThat(l.resource().toString()).isEqualTo("sensors/#"));
        assertThat(logs).filteredOn(l -> l.method().contentEquals("PUBREL")).hasSize(1);

        // tshark reads the same packets: compare every client-started packet type and topic
        List<String[]> rows = Tshark.fields(pcap, List.of("tcp.port==" + PORT + ",mqtt"),
                "mqtt.msgtype", "mqtt.topic");
        List<String> tsharkStarts = rows.stream().flatMap(r -> {
            String[] types = r[0].split(",");
            String[] topics = r[1].split(",", -1);
            java.util.List<String> out = new java.util.ArrayList<>();
            int t = 0;
            for (String type : types) {
                // 1 CONNECT, 3 PUBLISH, 6 PUBREL, 8 SUBSCRIBE, 12 PINGREQ, 14 DISCONNECT start an exchange
                if (List.of("1", "3", "6", "8", "12", "14").contains(type)) {
                    out.add(type.equals("3") || type.equals("8") ? type + " " + topics[Math.min(t, topics.length - 1)]
                            : type);
                }
                if (type.equals("3") || type.equals("8")) {
                    t++;
                }
            }
            return out.stream();
        }).sorted().toList();
        List<String> ours = logs.stream().map(l -> code(l.method().toString())
                + (l.resource().isEmpty() ? "" : " " + l.resource())).sorted().toList();
        assertThat(ours).isEqualTo(tsharkStarts);
    }

    private static String code(String method) {
        return switch (method) {
            case "CONNECT" -> "1";
            case "PUBLISH" -> "3";
            case "PUBREL" -> "6";
            case "SUBSCRIBE" -> "8";
            case "PINGREQ" -> "12";
            case "DISCONNECT" -> "14";
            default -> method;
        };
    }
}
