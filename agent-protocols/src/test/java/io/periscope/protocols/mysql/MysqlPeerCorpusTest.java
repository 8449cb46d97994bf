package io.periscope.protocols.mysql;

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

/** DeepFlow's MySQL captures: command, SQL, statement ids, OK/ERR and error codes must match. */
class MysqlPeerCorpusTest {
    private static final ProtocolConfig PLAIN = ProtocolConfig.builder().obfuscate(false).build();

    /**
     * Compares SQL text up to the first byte that is not printable ASCII (DeepFlow's JSON and our
     * UTF-8 decoding render binary literals differently) and up to our capacity (1024 bytes).
     */
    private static void assertSameSql(RequestLog log, String deepflow) {
        String ours = printablePrefix(log.resource().toString());
        String theirs = printablePrefix(deepflow.strip());
        int n = Math.min(ours.length(), theirs.length());
        assertThat(ours.substring(0, n)).isEqualTo(theirs.substring(0, n));
        if (!log.resource().truncated()) {
            assertThat(ours.length()).isEqualTo(theirs.length());
        }
    }

    private static String printablePrefix(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < ' ' && c != '\n' && c != '\t' && c != '\r') || c > '~') {
                return s.substring(0, i);
            }
        }
        return s;
    }

    @ParameterizedTest
    @ValueSource(strings = {"binary-in-sql", "large-response", "mysql-compressed-response", "mysql-database",
        "mysql-error", "mysql-exec", "mysql-login-error", "mysql-statement-id", "mysql-statement",
        "mysql-table-alter", "mysql-table-create", "mysql-table-delete", "mysql-table-desc", "mysql-table-destroy",
        "mysql-table-insert", "mysql-table-select", "mysql-table-update", "mysql-use", "mysql",
        "partial-packet-compressed", "truncate-1024"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        List<RequestLog> logs = PcapReplay.replay(PeerCorpus.deepflow("mysql/" + name + ".pcap"), PLAIN);
        List<Map<String, String>> expected = DeepflowResult.read(PeerCorpus.deepflow("mysql/" + name + ".result"));
        List<Map<String, String>> requests = expected.stream().filter(m -> "Request".equals(m.get("msg_type")))
                .toList();
        List<Map<String, String>> responses = expected.stream().filter(m -> "Response".equals(m.get("msg_type")))
                .toList();

        assertThat(logs).as("request logs of %s", name).hasSize(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            RequestLog log = logs.get(i);
            Map<String, String> req = requests.get(i);
            assertThat(log.protocol()).isEqualTo(L7Protocol.MYSQL);
            int type = Integer.parseInt(req.get("request_type"));
            switch (type) {
                case 0 -> assertThat(log.method().toString()).isEqualTo("LOGIN");
                case 3 -> assertSameSql(log, req.get("request_resource"));
                case 22 -> {
                    assertThat(log.method().toString()).isEqualTo("PREPARE");
                    assertSameSql(log, req.get("request_resource"));
                }
                case 23 -> assertThat(log.method().toString()).isEqualTo("EXECUTE");
                case 2 -> assertThat(log.method().toString()).isEqualTo("USE");
                default -> assertThat(log.method().toString()).isNotEmpty();
            }
        }
        for (int i = 0; i < Math.min(responses.size(), logs.size()); i++) {
            Map<String, String> resp = responses.get(i);
            RequestLog log = logs.get(i);
            String status = resp.get("response_status");
            if ("server_error".equals(status) && log.attribute(MysqlParser.DB_STATUS_CODE) != null
                    && log.attribute(MysqlParser.DB_STATUS_CODE).toString().startsWith("42")) {
                // DeepFlow calls every ERR packet a server error. An SQLSTATE of class 42 (here
                // 1049 "Unknown database") is the client's mistake: we report a client error.
                status = "client_error";
            }
            switch (status) {
                case "ok" -> assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
                case "client_error" -> assertThat(log.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
                case "server_error" -> assertThat(log.statusClass()).isEqualTo(StatusClass.SERVER_ERROR);
                default -> { }
            }
            if ("255".equals(resp.get("response_code"))) {
                assertThat(log.errorMessage().toString()).isEqualTo(resp.get("response_execption"));
            }
        }
    }
}
