package io.periscope.protocols.http1;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.testing.EngineHarness;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The word-at-a-time skip over header lines that cannot be framing headers. */
class Http1FramingScanTest {
    private static final byte[] ALPHABET =
            {'\n', '\r', 0x0b, 1, 0, 'c', 'C', 't', 'T', 'x', 'h', 'U', 'a', ':', ' ', (byte) 0x8a};
    private static final String[] NAMES = {"Content-Length: 5", "content-type: a", "Connection: close",
        "TRANSFER-ENCODING: chunked", "transfer", "Content-", "Cache-Control: no", "Trailer: x", "Host: h"};

    /** The same answer found line by line. */
    private static int naive(byte[] a, int pos, int end) {
        return naive(a, pos, end, false);
    }

    /** With {@code full}: a line a full request parse reads (first letter c t h u b s x) or the end. */
    private static int naive(byte[] a, int pos, int end, boolean full) {
        int lastLineStart = pos;
        for (int i = pos; i < end; i++) {
            if (a[i] == '\n') {
                int start = i + 1;
                if (start >= end) {
                    return ~start;
                }
                if (full ? a[start] == '\r' || a[start] == '\n' || "cthubsx".indexOf(a[start] | 0x20) >= 0
                        : mayBeFraming(a, start, end)) {
                    return start;
                }
                lastLineStart = start;
            }
        }
        return ~lastLineStart;
    }

    private static boolean mayBeFraming(byte[] a, int start, int end) {
        int lower = a[start] | 0x20;
        if (a[start] == '\r' || a[start] == '\n') {
            return true;
        }
        if (lower != 'c' && lower != 't') {
            return false;
        }
        if (start + 8 > end) {
            return true;
        }
        StringBuilder name = new StringBuilder();
        for (int i = start; i < start + 8; i++) {
            name.append((char) ((a[i] | 0x20) & 0xFF));
        }
        return name.toString().equals("content-") || name.toString().equals("transfer");
    }

    @Test
    void shouldFindTheSameLineAsALineByLineScan() {
        Random random = new Random(7);
        for (int round = 0; round < 50_000; round++) {
            byte[] a = new byte[1 + random.nextInt(48)];
            for (int i = 0; i < a.length; i++) {
                a[i] = ALPHABET[random.nextInt(ALPHABET.length)];
            }
            if (round % 2 == 0) {
                // real header names at random places, cut anywhere by the array's end
                for (int at = random.nextInt(4); at < a.length; at += 1 + random.nextInt(12)) {
                    a[at] = '\n';
                    byte[] name = NAMES[random.nextInt(NAMES.length)].getBytes(StandardCharsets.US_ASCII);
                    int n = Math.min(name.length, a.length - at - 1);
                    System.arraycopy(name, 0, a, at + 1, n);
                    at += n;
                }
            }
            int pos = random.nextInt(a.length);
            int end = pos + random.nextInt(a.length - pos + 1);
            assertThat(Http1Parser.nextFramingLine(new UnsafeBuffer(a), pos, end))
                    .as("round %d", round).isEqualTo(naive(a, pos, end));
            assertThat(Http1Parser.nextLine(new UnsafeBuffer(a), pos, end, true))
                    .as("full, round %d", round).isEqualTo(naive(a, pos, end, true));
        }
    }

    @Test
    void shallowHeadsShouldKeepTheirFramingWhateverTheLineLengths() {
        for (boolean shallow : new boolean[] {true, false}) {
            EngineHarness h = new EngineHarness(ProtocolConfig.builder().shallow(L7Protocol.HTTP1, shallow).build());
            StringBuilder filler = new StringBuilder();
            for (int n = 0; n < 20; n++) {
                h.request("POST /p" + n + " HTTP/1.1\r\nHost: h\r\nX-F: " + filler + "\r\nContent-Type: a\r\n"
                        + "Connection: keep-alive\r\ncontent-LENGTH: 3\r\nAccept: */*\r\n\r\nabc");
                // the framing header split from the rest of the head: carried, then found
                h.response("HTTP/1.1 200 OK\r\nServer: s" + filler + "\r\nTrans");
                h.response("fer-Encoding: chunked\r\nX-A: b\r\n\r\n2\r\nok\r\n0\r\n\r\n");
                filler.append('x');
            }
            assertThat(h.logs()).hasSize(20);
            for (RequestLog log : h.logs()) {
                assertThat(log.statusCode()).isEqualTo(200);
                assertThat(log.requestBytes()).isGreaterThan(3);
                assertThat(log.responseBytes()).isGreaterThan(0);
            }
            assertThat(h.logs().get(19).resource().toString()).isEqualTo("/p19");
            assertThat(h.engine().counters().parseErrors(L7Protocol.HTTP1)).isZero();
        }
    }

    @Test
    void reusedRecordsShouldCarryNothingOfTheRequestBefore() {
        EngineHarness h = new EngineHarness();
        h.request("GET /a HTTP/1.1\r\nHost: a\r\nUser-Agent: ua\r\nX-Request-ID: r1\r\n"
                + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n");
        h.response("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
        h.request("GET /b HTTP/1.1\r\n\r\n");
        h.response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(h.logs()).hasSize(2);
        RequestLog first = h.logs().get(0);
        assertThat(first.hasTraceContext()).isTrue();
        assertThat(first.errorMessage().toString()).isEqualTo("Busy");
        RequestLog second = h.logs().get(1);
        assertThat(second.resource().toString()).isEqualTo("/b");
        assertThat(second.host().isEmpty()).isTrue();
        assertThat(second.userAgent().isEmpty()).isTrue();
        assertThat(second.requestId().isEmpty()).isTrue();
        assertThat(second.hasTraceContext()).isFalse();
        assertThat(second.sampled()).isFalse();
        assertThat(second.traceId()).containsOnly(0);
        assertThat(second.parentSpanId()).containsOnly(0);
        assertThat(second.errorMessage().isEmpty()).isTrue();
        assertThat(second.statusCode()).isEqualTo(200);
    }

    private static final String TRACE_VALUE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    /**
     * The traceparent line read without a search for its line feed (value right before CRLF or LF)
     * and the lines that are not that shape (read the general way) give the same record, whole or
     * split at any byte across two messages.
     */
    @Test
    void traceparentShouldReadTheSameWithOrWithoutItsShortcut() {
        String[] lines = {
            "traceparent: " + TRACE_VALUE + "\r\n",
            "Traceparent:" + TRACE_VALUE + "\n",
            "TRACEPARENT: \t" + TRACE_VALUE + "\r\n",
            "traceparent: " + TRACE_VALUE + "  \r\n",
            "traceparent: " + TRACE_VALUE + "-future\r\n",
            "traceparent: " + TRACE_VALUE + "\rX\r\n",
        };
        for (String line : lines) {
            String request = "GET /t HTTP/1.1\r\nHost: h\r\n" + line + "X-Request-ID: r\r\n\r\n";
            for (int split = 0; split < request.length(); split++) {
                EngineHarness h = new EngineHarness();
                if (split == 0) {
                    h.request(request);
                } else {
                    h.request(request.substring(0, split));
                    h.request(request.substring(split));
                }
                h.response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                RequestLog log = h.only();
                String what = line.trim() + " split at " + split;
                assertThat(log.hasTraceContext()).as(what).isTrue();
                assertThat(log.sampled()).as(what).isTrue();
                assertThat(log.traceId()).as(what).containsExactly(hex("0af7651916cd43dd8448eb211c80319c"));
                assertThat(log.parentSpanId()).as(what).containsExactly(hex("b7ad6b7169203331"));
                assertThat(log.requestId().toString()).as(what).isEqualTo("r");
                assertThat(log.host().toString()).as(what).isEqualTo("h");
                assertThat(log.requestBytes()).as(what).isEqualTo(request.length());
            }
        }
    }

    @Test
    void aTraceparentOfTheRightLengthButNotHexShouldLeaveTheIdsToALaterB3() {
        EngineHarness h = new EngineHarness();
        h.request("GET /t HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319z-b7ad6b7169203331-01\r\n"
                + "b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1\r\n\r\n");
        h.response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        RequestLog log = h.only();
        assertThat(log.hasTraceContext()).isTrue();
        assertThat(log.traceId()).containsExactly(hex("80f198ee56343ba864fe8b2a57d3eff7"));
        assertThat(log.parentSpanId()).containsExactly(hex("e457b5a2e4d86bd1"));
    }

    private static byte[] hex(String h) {
        return java.util.HexFormat.of().parseHex(h);
    }
}
