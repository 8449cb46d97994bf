package io.periscope.protocols.dubbo;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.DeepflowResult;
import io.periscope.protocols.testing.PcapReader;
import io.periscope.protocols.testing.PcapReplay;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** DeepFlow's Dubbo captures: service, method, versions, status and sw8 trace id must match its .result. */
class DubboPeerCorpusTest {
    private static final Pattern TRACE = Pattern.compile(
            "trace_ids: PrioFields\\(\\[PrioField \\{ prio: \\d+, field: \"([^\"]+)\"");

    static Path corpus(String relative) {
        String root = System.getProperty("periscope.peerCorpus");
        assertThat(root).as("system property periscope.peerCorpus (set by the parent pom)").isNotNull();
        Path p = Path.of(root, "deepflow", relative);
        assertThat(Files.exists(p)).as("peer corpus file %s", p).isTrue();
        return p;
    }

    /**
     * dubbo-kryo.pcap's record headers claim 16 bytes more than each (complete) frame holds; taken
     * at face value that reads as lost bytes and breaks the stream, so the claim is dropped.
     */
    static List<RequestLog> replay(Path pcap) throws Exception {
        List<PcapReader.Packet> packets = new ArrayList<>();
        for (PcapReader.Packet p : PcapReader.read(pcap)) {
            packets.add(new PcapReader.Packet(p.timestampNanos(), p.linkType(), p.data(), p.data().length));
        }
        PcapReplay r = new PcapReplay(ProtocolConfig.defaults());
        r.feed(packets);
        assertThat(r.engine().counters().parseErrors(L7Protocol.DUBBO)).isZero();
        return r.finish();
    }

    @ParameterizedTest
    @CsvSource({"dubbo-eys,dubbo-eys", "dubbo-kryo,dubbo-kryo", "dubbo-sw8,dubbo-sw8", "dubbo_hessian2,dubbo_hessian"})
    void shouldAgreeWithDeepflow(String pcap, String result) throws Exception {
        List<RequestLog> logs = replay(corpus("dubbo/" + pcap + ".pcap"));
        List<String> raw = Files.readAllLines(corpus("dubbo/" + result + ".result"));
        List<Map<String, String>> lines = DeepflowResult.read(corpus("dubbo/" + result + ".result"));
        List<Integer> requests = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if ("Request".equals(lines.get(i).get("msg_type"))) {
                requests.add(i);
            }
        }
        assertThat(logs).hasSize(requests.size());
        for (int n = 0; n < requests.size(); n++) {
            Map<String, String> req = lines.get(requests.get(n));
            RequestLog log = logs.get(n);
            assertThat(log.protocol()).isEqualTo(L7Protocol.DUBBO);
            assertThat(log.method().toString()).isEqualTo(req.get("method_name"));
            assertThat(log.resource().toString()).isEqualTo(req.get("service_name") + "/" + req.get("method_name"));
            assertThat(log.version().toString()).isEqualTo(req.get("dubbo_version"));
            assertThat(log.attribute(DubboParser.SERVICE_VERSION).toString()).isEqualTo(req.get("service_version"));
            Matcher trace = TRACE.matcher(raw.get(requests.get(n)));
            if (trace.find() && pcap.equals("dubbo-sw8")) {
                assertThat(log.attribute(DubboParser.SW8_TRACE_ID).toString()).isEqualTo(trace.group(1));
            }
            // dubbo-eys carries its trace id in an "EagleEye-TraceID" attachment that DeepFlow was
            // configured to read; periscope reads the standard traceparent and sw8 only
            String corr = req.get("request_id");
            Map<String, String> resp = lines.stream()
                    .filter(m -> "Response".equals(m.get("msg_type")) && corr.equals(m.get("request_id")))
                    .findFirst().orElse(null);
            if (resp == null) {
                // dubbo-eys and dubbo-sw8 hold the request only
                assertThat(log.statusClass()).isEqualTo(StatusClass.TIMEOUT);
            } else {
                assertThat(log.statusCode()).isEqualTo(Integer.parseInt(resp.get("status_code")));
                assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
            }
        }
    }
}
