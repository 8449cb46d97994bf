package io.periscope.protocols.amqp;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.PcapReplay;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** DeepFlow's AMQP captures: methods, exchanges, routing keys and close errors must match its .result. */
class AmqpPeerCorpusTest {
    private static final Pattern METHOD = Pattern.compile("class_id: (\\w+), method_id: (\\w+)");
    private static final Pattern EXCHANGE = Pattern.compile("exchange: Some\\(\"([^\"]*)\"\\)");
    private static final Pattern ROUTING_KEY = Pattern.compile("routing_key: Some\\(\"([^\"]*)\"\\)");
    private static final Pattern ERROR = Pattern.compile("resp_text: Some\\(\"([^\"]*)\"\\)");

    record Frame(String method, String exchange, String routingKey, String error) {
    }

    static Path corpus(String relative) {
        String root = System.getProperty("periscope.peerCorpus");
        assertThat(root).as("system property periscope.peerCorpus (set by the parent pom)").isNotNull();
        Path p = Path.of(root, "deepflow", relative);
        assertThat(Files.exists(p)).as("peer corpus file %s", p).isTrue();
        return p;
    }

    static String group(Pattern p, String line) {
        Matcher m = p.matcher(line);
        return m.find() ? m.group(1) : null;
    }

    /** "Connection" + "RecoverAsync" -> "connection.recover-async", the AMQP spec's spelling. */
    static String specName(String cls, String method) {
        return cls.toLowerCase() + "." + method.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase();
    }

    @ParameterizedTest
    @ValueSource(strings = {"amqp1", "amqp2", "amqp3", "amqp-error"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        List<RequestLog> logs = PcapReplay.replay(corpus("amqp/" + name + ".pcap"), ProtocolConfig.defaults());
        List<Frame> expected = new ArrayList<>();
        for (String line : Files.readAllLines(corpus("amqp/" + name + ".result"))) {
            Matcher m = METHOD.matcher(line);
            if (!line.contains("frame_type: Method") || !m.find()) {
                continue;
            }
            String method = specName(m.group(1), m.group(2));
            if (method.endsWith("-ok")) {
                continue; // replies end a record rather than start one
            }
            Frame f = new Frame(method, group(EXCHANGE, line), group(ROUTING_KEY, line), group(ERROR, line));
            if (method.endsWith(".close") && !expected.isEmpty() && expected.get(expected.size() - 1).equals(f)) {
                // DeepFlow prints a broker's error close twice: as the response to the refused
                // request and as a request of its own; it is one frame, and one record here
                continue;
            }
            expected.add(f);
        }
        assertThat(logs).extracting(l -> l.method().toString())
                .containsExactlyElementsOf(expected.stream().map(Frame::method).toList());
        for (int i = 0; i < expected.size(); i++) {
            Frame f = expected.get(i);
            RequestLog log = logs.get(i);
            assertThat(log.protocol()).isEqualTo(L7Protocol.AMQP);
            if (f.exchange() != null && !f.method().startsWith("queue.")) {
                assertThat(log.resource().toString()).isEqualTo(f.exchange());
            }
            if (f.routingKey() != null && !f.routingKey().isEmpty()) {
                assertThat(log.attribute(AmqpParser.ROUTING_KEY).toString()).isEqualTo(f.routingKey());
            }
            if (f.error() != null && log.statusCode() != 200) {
                // DeepFlow prints the reply text of normal closes (200 "Normal shutdown") too; those are no errors
                assertThat(log.errorMessage().toString()).isEqualTo(f.error());
                assertThat(log.statusClass()).isIn(StatusClass.CLIENT_ERROR, StatusClass.TIMEOUT);
            }
        }
        if (name.equals("amqp-error")) {
            // the broker's channel.close also fails the exchange.declare it refuses (DeepFlow leaves that one Ok)
            RequestLog refused = logs.stream().filter(l -> l.method().contentEquals("exchange.declare")
                    && l.statusClass() == StatusClass.CLIENT_ERROR).findFirst().orElseThrow();
            assertThat(refused.statusCode()).isEqualTo(406);
        }
    }
}
