package io.periscope.protocols.nats;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.PcapReplay;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** DeepFlow's NATS captures: operations, subjects, trace ids and -ERR texts must match its .result. */
class NatsPeerCorpusTest {
    private static final Set<String> RECORDS = Set.of("Connect", "Pub", "Hpub", "Sub", "Unsub", "Msg", "Hmsg");
    private static final Pattern MESSAGE = Pattern.compile("message: (\\w+)");
    private static final Pattern SUBJECT = Pattern.compile("subject: \"([^\"]*)\"");
    private static final Pattern TRACE = Pattern.compile(
            "trace_ids: PrioFields\\(\\[PrioField \\{ prio: \\d+, field: \"([^\"]+)\"");
    private static final Pattern ERROR = Pattern.compile("error_message: \"([^\"]*)\"");
    private static final int MODIFIED_PCAP_MAGIC = 0xa1b2cd34;

    @TempDir
    Path tmp;

    static Path corpus(String relative) {
        String root = System.getProperty("periscope.peerCorpus");
        assertThat(root).as("system property periscope.peerCorpus (set by the parent pom)").isNotNull();
        Path p = Path.of(root, "deepflow", relative);
        assertThat(Files.exists(p)).as("peer corpus file %s", p).isTrue();
        return p;
    }

    /**
     * The nrpc captures are in the "modified pcap" format (magic a1b2cd34: 8 more bytes per
     * record header: ifindex, protocol, packet type) that the shared test reader does not know;
     * rewrite them as plain pcap.
     */
    Path plainPcap(Path file) throws Exception {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (in.getInt(0) != MODIFIED_PCAP_MAGIC) {
            return file;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] global = new byte[24];
        in.get(0, global);
        ByteBuffer.wrap(global).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0xa1b2c3d4);
        out.writeBytes(global);
        int pos = 24;
        while (pos + 24 <= in.limit()) {
            int incl = in.getInt(pos + 8);
            byte[] rec = new byte[16];
            in.get(pos, rec);
            out.writeBytes(rec);
            byte[] data = new byte[incl];
            in.get(pos + 24, data);
            out.writeBytes(data);
            pos += 24 + incl;
        }
        Path p = tmp.resolve(file.getFileName());
        Files.write(p, out.toByteArray());
        return p;
    }

    static String group(Pattern p, String line) {
        Matcher m = p.matcher(line);
        return m.find() ? m.group(1) : null;
    }

    @ParameterizedTest
    @ValueSource(strings = {"nats-err", "nats-headers", "nats-nrpc1", "nats-nrpc2", "nats-nrpc3",
        "nats-opentelemetry", "nats-skywalking"})
    void shouldAgreeWithDeepflow(String name) throws Exception {
        List<RequestLog> all = PcapReplay.replay(plainPcap(corpus("nats/" + name + ".pcap")),
                ProtocolConfig.defaults());
        List<RequestLog> logs = all.stream().filter(l -> !l.method().contentEquals("PING")
                && l.statusClass() == StatusClass.OK).toList();
        List<String> lines = Files.readAllLines(corpus("nats/" + name + ".result")).stream()
                .filter(l -> l.contains("message: ") && RECORDS.contains(group(MESSAGE, l))).toList();
        assertThat(logs).hasSize(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            RequestLog log = logs.get(i);
            assertThat(log.protocol()).isEqualTo(L7Protocol.NATS);
            assertThat(log.method().toString()).isEqualToIgnoringCase(group(MESSAGE, line));
            String subject = group(SUBJECT, line);
            if (subject != null) {
                assertThat(log.resource().toString()).isEqualTo(subject);
            }
            String trace = group(TRACE, line);
            if (trace == null) {
                assertThat(log.hasTraceContext()).isFalse();
            } else if (trace.length() == 32 && trace.matches("[0-9a-f]+")) {
                assertThat(log.hasTraceContext()).isTrue();
                assertThat(HexFormat.of().formatHex(log.traceId())).isEqualTo(trace);
            } else {
                assertThat(log.attribute(NatsParser.SW8_TRACE_ID).toString()).isEqualTo(trace);
            }
        }
        for (String line : Files.readAllLines(corpus("nats/" + name + ".result"))) {
            String error = group(ERROR, line);
            if (error != null) {
                RequestLog failed = all.stream().filter(l -> l.statusClass() == StatusClass.CLIENT_ERROR)
                        .findFirst().orElseThrow();
                assertThat(failed.errorMessage().toString()).isEqualTo(error);
            }
        }
    }
}
