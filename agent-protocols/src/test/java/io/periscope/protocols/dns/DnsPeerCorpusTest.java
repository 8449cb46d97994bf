package io.periscope.protocols.dns;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.DeepflowResult;
import io.periscope.protocols.testing.PcapReplay;
import io.periscope.protocols.testing.PeerCorpus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** DeepFlow's DNS captures (UDP and TCP): question, type, id pairing and rcode must match. */
class DnsPeerCorpusTest {
    @ParameterizedTest
    @ValueSource(strings = {"a-and-ns", "dns-tcp-multi", "dns", "not-handled-qtype", "nxdomain"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        List<RequestLog> logs = PcapReplay.replay(PeerCorpus.deepflow("dns/" + name + ".pcap"),
                ProtocolConfig.defaults());
        List<Map<String, String>> expected = DeepflowResult.read(PeerCorpus.deepflow("dns/" + name + ".result"));
        List<Map<String, String>> requests = expected.stream().filter(m -> "Request".equals(m.get("msg_type")))
                .toList();
        List<Map<String, String>> responses = expected.stream().filter(m -> "Response".equals(m.get("msg_type")))
                .toList();

        assertThat(logs).hasSize(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            RequestLog log = logs.get(i);
            Map<String, String> req = requests.get(i);
            assertThat(log.protocol()).isEqualTo(L7Protocol.DNS);
            assertThat(log.resource().toString()).isEqualTo(req.get("request_resource"));
            assertThat(log.attribute(DnsParser.QUESTION_TYPE).toString()).isEqualTo(req.get("request_type"));
            Map<String, String> resp = responses.stream()
                    .filter(r -> r.get("request_id").equals(req.get("request_id"))
                            && r.get("request_type").equals(req.get("request_type")))
                    .findFirst().orElseThrow();
            assertThat(log.statusCode()).isEqualTo(Integer.parseInt(resp.get("response_code")));
            StatusClass expectedClass = switch (resp.get("response_status")) {
                case "ok" -> StatusClass.OK;
                case "client_error" -> StatusClass.CLIENT_ERROR;
                default -> StatusClass.SERVER_ERROR;
            };
            if (log.resource().toString().endsWith(".svc.cluster.local") && log.statusCode() == 3) {
                // DeepFlow calls this NXDOMAIN "ok": it forgives Kubernetes search-path expansions
                // (name.<ns>.svc.cluster.local) that are expected to fail. We report every NXDOMAIN
                // the same way, as a client error, and leave such policy to the backend.
                expectedClass = StatusClass.CLIENT_ERROR;
            }
            assertThat(log.statusClass()).isEqualTo(expectedClass);
        }
    }
}
