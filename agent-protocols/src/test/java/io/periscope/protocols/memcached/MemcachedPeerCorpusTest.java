package io.periscope.protocols.memcached;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.PcapReader;
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

/** DeepFlow's memcached captures: command, key, hit or miss and sizes must match its .result. */
class MemcachedPeerCorpusTest {
    private static final Pattern LINE = Pattern.compile(
            "msg_type: (\\w+) request: (.*?) req_size: (\\d+) result: (.*?) err_msg: (.*?) res_size: (\\d+)");

    record Entry(String type, String request, long reqSize, String result, String error, long resSize) {
    }

    static Path corpus(String relative) {
        String root = System.getProperty("periscope.peerCorpus");
        assertThat(root).as("system property periscope.peerCorpus (set by the parent pom)").isNotNull();
        Path p = Path.of(root, "deepflow", relative);
        assertThat(Files.exists(p)).as("peer corpus file %s", p).isTrue();
        return p;
    }

    /**
     * Replays a capture whose record headers claim 16 bytes more than each frame holds although
     * every IP packet in it is complete (memcached-userdata.pcap); taken at face value that reads as
     * 16 lost bytes per segment, so the original length is set to the captured one.
     */
    static List<RequestLog> replay(Path pcap) throws Exception {
        List<PcapReader.Packet> packets = new ArrayList<>();
        for (PcapReader.Packet p : PcapReader.read(pcap)) {
            packets.add(new PcapReader.Packet(p.timestampNanos(), p.linkType(), p.data(), p.data().length));
        }
        PcapReplay r = new PcapReplay(ProtocolConfig.builder().obfuscate(false).build());
        r.feed(packets);
        assertThat(r.engine().counters().parseErrors(L7Protocol.MEMCACHED)).isZero();
        return r.finish();
    }

    @ParameterizedTest
    @ValueSource(strings = {"memcached", "memcached-userdata"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        List<RequestLog> logs = replay(corpus("memcached/" + name + ".pcap"));
        List<Entry> requests = new ArrayList<>();
        List<Entry> responses = new ArrayList<>();
        for (String line : Files.readAllLines(corpus("memcached/" + name + ".result"))) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                Entry e = new Entry(m.group(1), m.group(2).trim(), Long.parseLong(m.group(3)), m.group(4).trim(),
                        m.group(5).trim(), Long.parseLong(m.group(6)));
                (e.type().equals("Request") ? requests : responses).add(e);
            }
        }
        // DeepFlow cannot parse "quit" (its .result says "Unhandled command"); we report it as a
        // command without reply, so it is one log more than DeepFlow's requests
        List<RequestLog> compared = logs.stream().filter(l -> !l.method().contentEquals("quit")).toList();
        assertThat(compared).hasSize(requests.size());
        // the userdata capture ends before the last reply: that request is ours as a TIMEOUT
        assertThat(responses.size()).isBetween(requests.size() - 1, requests.size());
        for (int i = 0; i < requests.size(); i++) {
            RequestLog log = compared.get(i);
            Entry req = requests.get(i);
            if (i == responses.size()) {
                assertThat(log.statusClass()).isEqualTo(StatusClass.TIMEOUT);
                continue;
            }
            Entry resp = responses.get(i);
            String[] words = req.request().split(" ");
            assertThat(log.protocol()).isEqualTo(L7Protocol.MEMCACHED);
            assertThat(log.method().toString()).isEqualTo(words[0]);
            assertThat(log.resource().toString()).isEqualTo(words[1]);
            if (words[0].startsWith("get")) {
                assertThat(log.requestBytes()).isEqualTo(req.reqSize());
                assertThat(log.attribute(MemcachedParser.HITS).toString())
                        .isEqualTo(resp.result().startsWith("VALUE") ? "1" : "0");
            } else {
                // DeepFlow's req_size of a storage command is the segment it came in (the command
                // line alone when the data block follows in another segment); ours is always line + data
                long lineBytes = req.request().length() + 2;
                long dataBytes = Long.parseLong(words[4]) + 2;
                assertThat(log.requestBytes()).isEqualTo(lineBytes + dataBytes);
                assertThat(req.reqSize()).isIn(lineBytes, lineBytes + dataBytes);
            }
            assertThat(log.responseBytes()).isEqualTo(resp.resSize());
            assertThat(log.statusClass()).isEqualTo(resp.error().isEmpty() ? StatusClass.OK : StatusClass.CLIENT_ERROR);
        }
    }
}
