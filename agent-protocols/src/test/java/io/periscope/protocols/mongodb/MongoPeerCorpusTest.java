package io.periscope.protocols.mongodb;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.PcapReplay;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** DeepFlow's MongoDB captures: command, $db, opcode and reply errors must match its .result. */
class MongoPeerCorpusTest {
    private static final Pattern REQUEST = Pattern.compile(
            "msg_type: Request, .*?request_id: (\\d+), .*?op_code_name: \"(\\w+)\", request: \"\\{ \\\\\"(\\w+)\\\\\"");
    private static final Pattern DB = Pattern.compile("\\\\\"\\$db\\\\\": \\\\\"([^\\\\]+)\\\\\"");
    private static final Pattern RESPONSE = Pattern.compile(
            "msg_type: Response, .*?response_id: (\\d+), .*response_code: (-?\\d+), exception: \"([^\"]*)\"");

    static Path corpus(String relative) {
        String root = System.getProperty("periscope.peerCorpus");
        assertThat(root).as("system property periscope.peerCorpus (set by the parent pom)").isNotNull();
        Path p = Path.of(root, "deepflow", relative);
        assertThat(Files.exists(p)).as("peer corpus file %s", p).isTrue();
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mongo-msg", "mongo"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        List<RequestLog> logs = PcapReplay.replay(corpus("mongo/" + name + ".pcap"), ProtocolConfig.defaults());
        List<String> lines = Files.readAllLines(corpus("mongo/" + name + ".result"));
        List<String> requests = lines.stream().filter(l -> l.contains("msg_type: Request")).toList();
        List<String> responses = lines.stream().filter(l -> l.contains("msg_type: Response")).toList();
        assertThat(logs).hasSize(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            RequestLog log = logs.get(i);
            Matcher req = REQUEST.matcher(requests.get(i));
            assertThat(req.find()).as(requests.get(i)).isTrue();
            assertThat(log.protocol()).isEqualTo(L7Protocol.MONGODB);
            assertThat(log.version().toString()).isEqualTo(req.group(2));
            assertThat(log.method().toString()).isEqualTo(req.group(3));
            Matcher db = DB.matcher(requests.get(i));
            if (db.find()) {
                assertThat(log.host().toString()).isEqualTo(db.group(1));
            } else {
                // OP_QUERY names its database in the full collection name "admin.$cmd", which DeepFlow does not print
                assertThat(log.version().toString()).isEqualTo("OP_QUERY");
                assertThat(log.host().toString()).isEqualTo("admin");
            }
            Matcher resp = RESPONSE.matcher(responses.get(i));
            assertThat(resp.find()).as(responses.get(i)).isTrue();
            String exception = resp.group(3);
            assertThat(log.errorMessage().toString()).isEqualTo(exception);
            assertThat(log.statusClass()).isEqualTo(exception.isEmpty() ? StatusClass.OK : StatusClass.CLIENT_ERROR);
            if (!exception.isEmpty()) {
                // DeepFlow's response_code is the opcode-level one (0); ours is the command's error code
                // (76 NoReplicationEnabled for replSetGetStatus on a standalone server)
                assertThat(log.statusCode()).isEqualTo(76);
            }
        }
    }
}
