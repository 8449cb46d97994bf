package io.periscope.protocols.redis;

import io.periscope.protocols.Direction;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bulk string that lies whole in the bytes being parsed is stepped over at once; one cut by the
 * message's end is counted off through the skip state. Both ways must give the same records: random
 * pipelined commands and replies (values holding CRLF and '$' too), sent whole and cut in two at
 * every byte, and cut in random pieces.
 */
class RedisSplitTest {
    private static final int CASES = 60;

    @Test
    void shouldReadTheSameRecordsWholeOrCutAnywhere() {
        Random random = new Random(20261123);
        for (int c = 0; c < CASES; c++) {
            ByteArrayOutputStream commands = new ByteArrayOutputStream();
            ByteArrayOutputStream replies = new ByteArrayOutputStream();
            int n = 1 + random.nextInt(5);
            for (int i = 0; i < n; i++) {
                command(random, commands);
                reply(random, replies, 0);
            }
            byte[] req = commands.toByteArray();
            byte[] resp = replies.toByteArray();
            List<String> whole = records(req, resp, new int[0], new int[0]);
            assertThat(whole).as("case %d has a record per command", c).hasSize(n);
            for (int cut = 1; cut < req.length; cut++) {
                assertThat(records(req, resp, new int[] {cut}, new int[0])).as("case %d, command cut at %d", c, cut)
                        .isEqualTo(whole);
            }
            for (int cut = 1; cut < resp.length; cut++) {
                assertThat(records(req, resp, new int[0], new int[] {cut})).as("case %d, reply cut at %d", c, cut)
                        .isEqualTo(whole);
            }
            int[] reqCuts = random.ints(3, 1, req.length).sorted().distinct().toArray();
            int[] respCuts = random.ints(3, 1, Math.max(2, resp.length)).sorted().distinct().toArray();
            assertThat(records(req, resp, reqCuts, respCuts)).as("case %d, random pieces", c).isEqualTo(whole);
        }
    }

    private static List<String> records(byte[] req, byte[] resp, int[] reqCuts, int[] respCuts) {
        EngineHarness h = new EngineHarness().serverPort(6379);
        h.request("*1\r\n$4\r\nPING\r\n").response("+PONG\r\n");
        send(h, Direction.EGRESS, req, reqCuts);
        send(h, Direction.INGRESS, resp, respCuts);
        List<RequestLog> logs = h.logs();
        return logs.subList(1, logs.size()).stream()
                .map(l -> l.method() + "|" + l.resource() + "|" + l.requestBytes() + "|" + l.responseBytes() + "|"
                        + l.statusClass() + "|" + l.errorMessage())
                .collect(Collectors.toList());
    }

    private static void send(EngineHarness h, Direction dir, byte[] bytes, int[] cuts) {
        int from = 0;
        for (int cut : cuts) {
            if (cut > from && cut < bytes.length) {
                h.send(dir, bytes, from, cut - from, -1);
                from = cut;
            }
        }
        h.send(dir, bytes, from, bytes.length - from, -1);
    }

    private static void command(Random random, ByteArrayOutputStream out) {
        String[] names = {"GET", "set", "HGETALL", "DEL", "mget", "EXPIRE"};
        int args = 1 + random.nextInt(4);
        put(out, "*" + args + "\r\n");
        bulk(out, names[random.nextInt(names.length)]);
        for (int i = 1; i < args; i++) {
            bulk(out, value(random));
        }
    }

    private static void reply(Random random, ByteArrayOutputStream out, int depth) {
        switch (random.nextInt(depth < 2 ? 7 : 5)) {
            case 0 -> put(out, "+OK\r\n");
            case 1 -> put(out, random.nextBoolean() ? "-ERR wrong number of arguments\r\n" : "-OOM over\r\n");
            case 2 -> put(out, ":" + random.nextInt(100000) + "\r\n");
            case 3 -> put(out, random.nextBoolean() ? "$-1\r\n" : "*-1\r\n");
            case 4 -> bulk(out, value(random));
            default -> {
                int k = random.nextInt(4);
                put(out, "*" + k + "\r\n");
                for (int i = 0; i < k; i++) {
                    reply(random, out, depth + 1);
                }
            }
        }
    }

    private static String value(Random random) {
        String alphabet = "abcXYZ:0123456789$*\r\n ";
        int len = random.nextInt(40);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < len; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    private static void bulk(ByteArrayOutputStream out, String value) {
        put(out, "$" + value.length() + "\r\n" + value + "\r\n");
    }

    private static void put(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
    }
}
