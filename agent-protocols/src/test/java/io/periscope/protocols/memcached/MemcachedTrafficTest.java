package io.periscope.protocols.memcached;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.LocalProcess;
import io.periscope.protocols.testing.PcapReplay;
import io.periscope.protocols.testing.Tshark;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real memcached driven by a plain-socket client, captured with tcpdump on lo, read by us and
 * by tshark's memcache dissector: commands and keys must agree, and the replies memcached gave
 * must show as hits, misses and errors.
 */
@Tag("kernel")
class MemcachedTrafficTest {
    private static final int PORT = 18501;

    @TempDir
    Path dir;

    /** Sends one command and reads the reply up to its last line. */
    static String call(OutputStream out, BufferedReader in, String command, String... lastLines) throws Exception {
        out.write(command.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        StringBuilder reply = new StringBuilder();
        while (true) {
            String line = in.readLine();
            assertThat(line).as("memcached closed the connection after %s", command.trim()).isNotNull();
            reply.append(line).append('\n');
            for (String last : lastLines) {
                if (line.startsWith(last)) {
                    return reply.toString();
                }
            }
        }
    }

    @Test
    void realMemcachedShouldReadAsTsharkReadsIt() throws Exception {
        Path pcap = dir.resolve("memcached.pcap");
        try (LocalProcess server = LocalProcess.start(dir.resolve("memcached.out"), "memcached", "-u", "root",
                "-l", "127.0.0.1", "-p", String.valueOf(PORT), "-U", "0", "-m", "16")) {
            server.awaitPort(PORT, 10_000);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + PORT);
            try (Socket s = new Socket("127.0.0.1", PORT)) {
                OutputStream out = s.getOutputStream();
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.US_ASCII));
                assertThat(call(out, in, "set user:1 0 0 5\r\nalice\r\n", "STORED")).isEqualTo("STORED\n");
                assertThat(call(out, in, "get user:1\r\n", "END")).startsWith("VALUE user:1 0 5");
                call(out, in, "gets user:1 user:2\r\n", "END");
                assertThat(call(out, in, "add user:1 0 0 1\r\nx\r\n", "NOT_STORED")).isEqualTo("NOT_STORED\n");
                call(out, in, "replace nobody 0 0 1\r\nx\r\n", "NOT_STORED");
                call(out, in, "set hits 0 0 1\r\n5\r\n", "STORED");
                assertThat(call(out, in, "incr hits 3\r\n", "8")).isEqualTo("8\n");
                call(out, in, "decr hits 2\r\n", "6");
                call(out, in, "touch user:1 100\r\n", "TOUCHED");
                call(out, in, "delete user:1\r\n", "DELETED");
                assertThat(call(out, in, "get user:1\r\n", "END")).isEqualTo("END\n");
                call(out, in, "incr user:9 1\r\n", "NOT_FOUND");
                call(out, in, "set name 0 0 3\r\nbob\r\n", "STORED");
                call(out, in, "incr name 1\r\n", "CLIENT_ERROR");
                call(out, in, "bogus\r\n", "ERROR");
            }
            capture.stopCapture(pcap);
        }

        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.defaults());
        assertThat(logs).allSatisfy(l -> assertThat(l.protocol()).isEqualTo(L7Protocol.MEMCACHED));
        assertThat(logs).extracting(l -> l.method().toString()).containsExactly("set", "get", "gets", "add",
                "replace", "set", "incr", "decr", "touch", "delete", "get", "incr", "set", "incr", "bogus");
        assertThat(logs.get(1).attribute(MemcachedParser.HITS).toString()).isEqualTo("1");
        assertThat(logs.get(2).resource().toString()).isEqualTo("user:1 user:2");
        assertThat(logs.get(2).attribute(MemcachedParser.HITS).toString()).isEqualTo("1");
        assertThat(logs.get(10).attribute(MemcachedParser.HITS).toString()).isEqualTo("0");
        assertThat(logs.get(13).statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(logs.get(13).errorMessage().toString()).contains("non-numeric");
        assertThat(logs.get(14).statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(logs.subList(0, 13)).allSatisfy(l -> assertThat(l.statusClass()).isEqualTo(StatusClass.OK));

        // tshark: one row per request segment with its command and key
        List<String[]> rows = Tshark.fields(pcap, List.of("tcp.port==" + PORT + ",memcache"),
                "tcp.dstport", "memcache.command", "memcache.key");
        List<String[]> requests = rows.stream().filter(r -> r[0].equals(String.valueOf(PORT))
                && !r[1].isEmpty()).toList();
        // tshark's dissector knows neither "touch" (memcached 1.4.8+) nor, of course, "bogus"
        List<RequestLog> known = logs.stream().filter(l -> !l.method().contentEquals("touch")
                && !l.method().contentEquals("bogus")).toList();
        assertThat(requests).hasSize(known.size());
        for (int i = 0; i < known.size(); i++) {
            assertThat(known.get(i).method().toString()).isEqualTo(requests.get(i)[1]);
            assertThat(known.get(i).resource().toString().split(" ")[0]).isEqualTo(requests.get(i)[2].split(",")[0]);
        }
    }
}
