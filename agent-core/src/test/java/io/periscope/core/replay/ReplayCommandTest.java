package io.periscope.core.replay;

import io.periscope.core.MainAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code periscope replay} over DeepFlow's captures: no kernel, real bytes. */
class ReplayCommandTest {
    private static final Path CORPUS = Path.of(System.getProperty("periscope.peerCorpus", "../../shared/peer-corpus"))
            .resolve("deepflow");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int replay(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "replay";
        System.arraycopy(args, 0, all, 1, args.length);
        return MainAccess.execute(all, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private List<String> lines(String record) {
        return Arrays.stream(out.toString(StandardCharsets.UTF_8).split("\n"))
                .filter(l -> l.startsWith("{\"periscope.record\":\"" + record + "\""))
                .collect(Collectors.toList());
    }

    @Test
    void shouldPrintHttpRequestLogAndFlowAsJsonLines() {
        Path capture = CORPUS.resolve("http/httpv1.pcap");
        assertThat(capture).as("peer corpus (../shared beside the checkout)").exists();

        assertThat(replay(capture.toString())).as(err.toString(StandardCharsets.UTF_8)).isZero();

        List<String> requests = lines("request");
        assertThat(requests).hasSize(1);
        assertThat(requests.get(0))
                .contains("\"periscope.protocol\":\"http1\"")
                .contains("\"http.request.method\":\"POST\"")
                .contains("\"url.path\":\"/query\"")
                .contains("\"http.response.status_code\":200,")
                .contains("\"server.address\":\"rq.cct.cloud.duba.net\"")
                .contains("\"periscope.duration_ns\":84051000");
        assertThat(lines("flow")).singleElement().asString()
                .contains("\"server.port\":80,").contains("\"network.transport\":\"tcp\"");
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("2 packets, 1 request logs, 1 flow logs");
    }

    @Test
    void shouldReassembleRedisCommandsFromTheCapture() {
        assertThat(replay(CORPUS.resolve("redis/redis.pcap").toString())).isZero();

        assertThat(lines("request")).anySatisfy(l -> assertThat(l)
                .contains("\"db.system.name\":\"redis\"")
                .contains("\"db.operation.name\":\"GET\"")
                .contains("\"periscope.span_name\":\"redis GET\""));
    }

    @Test
    void shouldRejectAMissingOrMalformedCaptureWithExitCode2(@TempDir Path dir) throws IOException {
        assertThat(replay(dir.resolve("nope.pcap").toString())).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("nope.pcap: no such file");

        Path garbage = dir.resolve("garbage.pcap");
        byte[] notACapture = new byte[25];
        Arrays.fill(notACapture, (byte) 7);
        Files.write(garbage, notACapture);
        err.reset();
        assertThat(replay(garbage.toString())).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("garbage.pcap");

        err.reset();
        assertThat(replay()).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("expected one capture file");
    }
}
