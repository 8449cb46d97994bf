package io.periscope.protocols.http2;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.testing.DeepflowResult;
import io.periscope.protocols.testing.PcapReplay;
import io.periscope.protocols.testing.PeerCorpus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** DeepFlow's HTTP/2 and gRPC captures: protocol, method, path, host and statuses must match. */
class Http2PeerCorpusTest {
    @ParameterizedTest
    @ValueSource(strings = {"grpc-segmented", "grpc-server-stream", "grpc-service-name", "grpc-unary",
        "grpc-unknown", "h2c_ascii", "http2-multi", "httpv2-stream-id"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        List<RequestLog> logs = PcapReplay.replay(PeerCorpus.deepflow("http/" + name + ".pcap"),
                ProtocolConfig.defaults());
        List<Map<String, String>> expected = DeepflowResult.read(PeerCorpus.deepflow("http/" + name + ".result"));
        List<Map<String, String>> requests = expected.stream().filter(m -> "Request".equals(m.get("msg_type")))
                .toList();

        assertThat(logs).hasSize(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            Map<String, String> req = requests.get(i);
            RequestLog log = logs.stream().filter(l -> l.resource().toString().equals(req.get("path"))
                    && l.host().toString().equals(req.get("host"))).findFirst().orElseThrow();
            boolean grpc = "Grpc".equals(req.get("proto"));
            assertThat(log.protocol()).isEqualTo(grpc ? L7Protocol.GRPC : L7Protocol.HTTP2);
            assertThat(log.method().toString()).isEqualToIgnoringCase(grpc ? "POST" : req.get("method"));
            String stream = req.get("stream_id");
            Map<String, String> status = expected.stream()
                    .filter(m -> stream.equals(m.get("stream_id")) && m.get("status_code") != null)
                    .findFirst().orElse(null);
            if (status != null) {
                String http = grpc ? String.valueOf(log.attribute(Http2Parser.HTTP_STATUS))
                        : String.valueOf(log.statusCode());
                assertThat(http).isEqualTo(status.get("status_code"));
            }
            expected.stream().filter(m -> stream.equals(m.get("stream_id")) && m.get("grpc_status_code") != null)
                    .findFirst().ifPresent(g -> assertThat(log.statusCode())
                            .isEqualTo(Integer.parseInt(g.get("grpc_status_code"))));
            if (grpc && !log.resource().isEmpty()) {
                String path = log.resource().toString();
                assertThat("/" + log.attribute(Http2Parser.RPC_SERVICE) + "/" + log.attribute(Http2Parser.RPC_METHOD))
                        .isEqualTo(path);
            }
        }
    }
}
