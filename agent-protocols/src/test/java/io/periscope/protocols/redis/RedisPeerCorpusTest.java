package io.periscope.protocols.redis;

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

/** DeepFlow's Redis captures: command, key and error replies must match its .result. */
class RedisPeerCorpusTest {
    static Path corpus(String relative) {
        String root = System.getProperty("periscope.peerCorpus");
        assertThat(root).as("system property periscope.peerCorpus (set by the parent pom)").isNotNull();
        Path p = Path.of(root, "deepflow", relative);
        assertThat(Files.exists(p)).as("peer corpus file %s", p).isTrue();
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"redis", "redis-error", "redis-debug"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        // obfuscation off so the whole command can be compared with DeepFlow's "request" text
        List<RequestLog> logs = PcapReplay.replay(corpus("redis/" + name + ".pcap"),
                ProtocolConfig.builder().obfuscate(false).build());
        List<Map<String, String>> expected = DeepflowResult.read(corpus("redis/" + name + ".result"));
        List<Map<String, String>> requests = expected.stream().filter(m -> !m.get("request").isEmpty()).toList();
        List<Map<String, String>> responses = expected.stream().filter(m -> m.get("request").isEmpty()).toList();

        assertThat(logs).hasSize(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            RequestLog log = logs.get(i);
            String request = requests.get(i).get("request");
            assertThat(log.protocol()).isEqualTo(L7Protocol.REDIS);
            assertThat(log.method().toString()).isEqualToIgnoringCase(requests.get(i).get("request_type"));
            String text = log.method() + (log.resource().isEmpty() ? "" : " " + log.resource());
            assertThat(text).isEqualToIgnoringCase(request);
            if (i < responses.size()) {
                Map<String, String> resp = responses.get(i);
                if ("Error".equals(resp.get("response_result"))) {
                    // DeepFlow keeps the '-' type byte; we keep the message only
                    assertThat("-" + log.errorMessage()).isEqualTo(resp.get("error"));
                    assertThat(log.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
                } else {
                    assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
                }
            }
        }
    }
}
