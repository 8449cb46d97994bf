package io.periscope.protocols.pgsql;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.DeepflowResult;
import io.periscope.protocols.testing.PcapReplay;
import io.periscope.protocols.testing.PeerCorpus;
import io.periscope.protocols.testing.Tshark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** DeepFlow's PostgreSQL captures; the three without a .result are checked against tshark. */
class PostgresPeerCorpusTest {
    private static final ProtocolConfig PLAIN = ProtocolConfig.builder().obfuscate(false).build();

    @Test
    void shouldAgreeWithDeepflowOnPgsqlAll() throws Exception {
        List<RequestLog> logs = PcapReplay.replay(PeerCorpus.deepflow("postgre/pgsql-all.pcap"), PLAIN);
        List<Map<String, String>> expected = DeepflowResult.read(PeerCorpus.deepflow("postgre/pgsql-all.result"));
        List<Map<String, String>> requests = expected.stream().filter(m -> "Request".equals(m.get("msg_type")))
                .toList();
        List<Map<String, String>> responses = expected.stream().filter(m -> "Response".equals(m.get("msg_type")))
                .toList();

        // DeepFlow is wrong about two statements: their Parse messages (3671 and 7485 bytes) span
        // several TCP segments and DeepFlow, parsing segment by segment, never reports them. We
        // reassemble them; apart from those, DeepFlow's one request per Parse or Execute matches
        // our one request per batch (Parse..Sync), since each batch here has one of either.
        List<RequestLog> multiSegment = logs.stream().filter(l -> l.requestBytes() > 1500).toList();
        assertThat(multiSegment).extracting(RequestLog::requestBytes).containsExactly(3671L, 7485L);
        assertThat(multiSegment).allMatch(l -> l.method().contentEquals("SELECT"));
        logs = logs.stream().filter(l -> l.requestBytes() <= 1500).toList();
        assertThat(logs).hasSize(requests.size());
        assertThat(logs).allMatch(l -> l.protocol() == L7Protocol.POSTGRESQL);
        for (int i = 0; i < requests.size(); i++) {
            String sql = requests.get(i).get("request_resource");
            if (sql != null) {
                assertThat(logs.get(i).resource().toString()).isEqualTo(sql.strip());
            } else {
                assertThat(logs.get(i).method().toString()).isEqualTo("EXECUTE");
            }
        }
        assertThat(responses).allMatch(r -> "ok".equals(r.get("status")));
        // the one request DeepFlow saw no response for is the last, cut by the end of the capture
        assertThat(logs.subList(0, responses.size())).allMatch(l -> l.statusClass() == StatusClass.OK);
    }

    @ParameterizedTest
    @ValueSource(strings = {"error", "prepare_stat", "simple_query"})
    void shouldAgreeWithTshark(String name) throws Exception {
        Path pcap = PeerCorpus.deepflow("postgre/" + name + ".pcap");
        List<RequestLog> logs = PcapReplay.replay(pcap, PLAIN);
        List<String[]> rows = Tshark.fields(pcap, List.of(), "pgsql.query", "pgsql.code", "pgsql.message");
        List<String> queries = rows.stream().map(r -> r[0]).filter(q -> !q.isEmpty()).toList();
        List<String> codes = rows.stream().map(r -> r[1]).filter(c -> !c.isEmpty()).toList();

        assertThat(logs).extracting(l -> l.resource().toString())
                .containsExactlyElementsOf(queries.stream().map(q -> q.replaceAll(";$", "")).toList());
        assertThat(logs).extracting(l -> l.attribute(PostgresParser.DB_STATUS_CODE) == null ? ""
                : l.attribute(PostgresParser.DB_STATUS_CODE).toString()).filteredOn(c -> !c.isEmpty())
                .containsExactlyElementsOf(codes);
        for (String[] r : rows) {
            if (!r[2].isEmpty()) {
                assertThat(logs.get(0).errorMessage().toString()).isEqualTo(r[2]);
                assertThat(logs.get(0).statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
            }
        }
    }
}
