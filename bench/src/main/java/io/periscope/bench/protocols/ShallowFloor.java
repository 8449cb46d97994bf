package io.periscope.bench.protocols;

import io.periscope.protocols.AsciiBytes;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The least work a shallow parse of {@link ProtocolEngineBenchmark}'s HTTP/1 pair must do, with
 * nothing else: the method by one word compare, the request line's end and its {@code HTTP/1.x},
 * the status code, and both heads read to their empty line for Content-Length and
 * Transfer-Encoding (which can be on any line). No engine, no record, no copies, no endpoint
 * rule, no pairing, and none of the end-of-bytes checks a parser of untrusted input needs (the
 * buffers have slack instead). So it is a lower bound for what any scalar Java shallow parser of
 * these bytes costs on this machine, to hold issue #4's shallow target (≤ 100 ns per pair) against.
 *
 * <p>{@code java -cp bench/target/benchmarks.jar io.periscope.bench.protocols.ShallowFloor [SCENARIO]}
 * prints, in CPU ns measured by {@link PairCpuTime#bestCpuNanos} (the README's numbers with
 * {@code -Dpairs.rounds=40 -Dpairs.perRound=250000}): the whole pair, the two heads
 * alone and the two start lines alone, each head scan written two ways (a line feed search per
 * line, {@code *_PER_LINE}, and every line feed of a word handled in that word, {@code *_IN_WORD});
 * the floor is the lower of the two. Run one scenario per JVM.
 */
public final class ShallowFloor {
    private static final long LF_WORD = 0x0A0A0A0A0A0A0A0AL;
    private static final long LOW7_WORD = 0x7F7F7F7F7F7F7F7FL;
    private static final long LOWER_CASE_WORD = 0x2020202020202020L;
    private static final long CONTENT_DASH = word("content-");
    private static final long TRANSFER = word("transfer");
    private static final long GET_SPACE = word("GET ") & 0xFFFF_FFFFL;
    private static final long HTTP_1_DOT = word("HTTP/1.");
    private static final long SEVEN_BYTES = 0x00FF_FFFF_FFFF_FFFFL;
    /** More than PairCpuTime's 2M: the floor's small methods settle later (C2 recompiles). */
    private static final int WARMUP_RUNS = 3_000_000;
    /** Bytes past each message, so the word reads at its end stay inside the buffer. */
    private static final int SLACK = 32;

    private final UnsafeBuffer request = slack(ProtocolEngineBenchmark.HTTP_REQUEST);
    private final UnsafeBuffer response = slack(ProtocolEngineBenchmark.HTTP_RESPONSE);
    private final int requestLength = ProtocolEngineBenchmark.HTTP_REQUEST.length;
    private final int responseLength = ProtocolEngineBenchmark.HTTP_RESPONSE.length;
    private final boolean inWord;
    /** Content-Length of the head just read, -1 none. */
    private long contentLength;
    private boolean chunked;
    private int status;
    private long requestBytes;
    private long responseBytes;

    private ShallowFloor(boolean inWord) {
        this.inWord = inWord;
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("the word constants are little-endian");
        }
    }

    /** The scenarios, one per fresh JVM for clean numbers (code shared between them compiles differently in one). */
    private static final String[] SCENARIOS = {"PAIR_PER_LINE", "PAIR_IN_WORD", "HEADS_PER_LINE", "HEADS_IN_WORD",
        "START_LINES"};

    public static void main(String[] args) {
        for (String scenario : args.length == 0 ? SCENARIOS : args) {
            ShallowFloor f = new ShallowFloor(scenario.endsWith("IN_WORD"));
            f.check();
            Runnable op = switch (scenario) {
                case "PAIR_PER_LINE", "PAIR_IN_WORD" -> f::pair;
                case "HEADS_PER_LINE", "HEADS_IN_WORD" -> f::heads;
                case "START_LINES" -> f::startLines;
                default -> throw new IllegalArgumentException("unknown scenario " + scenario + "; one of "
                        + String.join(", ", SCENARIOS));
            };
            report(scenario, op);
        }
    }

    private static void report(String what, Runnable op) {
        System.out.printf("%-22s %7.1f ns CPU (%s)%n", what, PairCpuTime.bestCpuNanos(op, WARMUP_RUNS),
                PairCpuTime.roundsDescription());
    }

    /** The floor parses the pair as the engine does, or its number means nothing. */
    private void check() {
        pair();
        if (requestBytes != requestLength || responseBytes != responseLength || status != 200 || chunked) {
            throw new IllegalStateException("floor parse is wrong: request " + requestBytes + "/" + requestLength
                    + ", response " + responseBytes + "/" + responseLength + ", status " + status);
        }
    }

    /** Both start lines and both heads: the request's size and the response's size and status. */
    void pair() {
        int requestHead = head(request, requestLine());
        requestBytes = requestHead + Math.max(0, contentLength);
        int responseHead = head(response, statusLine());
        responseBytes = responseHead + contentLength;
    }

    void heads() {
        requestBytes = head(request, 50);
        responseBytes = head(response, 17);
    }

    void startLines() {
        requestBytes = requestLine();
        responseBytes = statusLine();
    }

    /** The method, the line's end and its version; the offset of the first header line. */
    private int requestLine() {
        if ((AsciiBytes.longAt(request, 0) & 0xFFFF_FFFFL) != GET_SPACE) {
            throw new IllegalStateException("not GET");
        }
        int lf = lineFeed(request, 4);
        if ((AsciiBytes.longAt(request, lf - 9) & SEVEN_BYTES) != HTTP_1_DOT) {
            throw new IllegalStateException("no version");
        }
        return lf + 1;
    }

    private int statusLine() {
        if ((AsciiBytes.longAt(response, 0) & SEVEN_BYTES) != HTTP_1_DOT) {
            throw new IllegalStateException("not a status line");
        }
        status = (AsciiBytes.byteAt(response, 9) - '0') * 100 + (AsciiBytes.byteAt(response, 10) - '0') * 10
                + AsciiBytes.byteAt(response, 11) - '0';
        return lineFeed(response, 12) + 1;
    }

    private int head(UnsafeBuffer buf, int pos) {
        contentLength = -1;
        chunked = false;
        return inWord ? headInWord(buf, pos) : headPerLine(buf, pos);
    }

    /** Each line read at its start, then a line feed search to the next. */
    private int headPerLine(UnsafeBuffer buf, int lineStart) {
        int at = lineStart;
        while (true) {
            byte first = AsciiBytes.byteAt(buf, at);
            if (first == '\r') {
                return at + 2;
            }
            int lower = first | 0x20;
            if (lower == 'c' || lower == 't') {
                framingLine(buf, at);
            }
            at = lineFeed(buf, at) + 1;
        }
    }

    /** Words read in turn; every line feed in a word is handled before the next word. */
    private int headInWord(UnsafeBuffer buf, int lineStart) {
        byte first = AsciiBytes.byteAt(buf, lineStart);
        if (first == '\r') {
            return lineStart + 2;
        }
        if ((first | 0x20) == 'c' || (first | 0x20) == 't') {
            framingLine(buf, lineStart);
        }
        for (int i = lineStart; ; i += Long.BYTES) {
            long found = lineFeeds(AsciiBytes.longAt(buf, i));
            while (found != 0) {
                int at = i + (Long.numberOfTrailingZeros(found) >>> 3) + 1;
                found &= found - 1;
                byte b = AsciiBytes.byteAt(buf, at);
                if (b == '\r') {
                    return at + 2;
                }
                int lower = b | 0x20;
                if (lower == 'c' || lower == 't') {
                    framingLine(buf, at);
                }
            }
        }
    }

    /** Content-Length (its value) or Transfer-Encoding (taken as chunked) at {@code at}. */
    private void framingLine(UnsafeBuffer buf, int at) {
        long w = AsciiBytes.longAt(buf, at) | LOWER_CASE_WORD;
        if (w == CONTENT_DASH && (AsciiBytes.byteAt(buf, at + 8) | 0x20) == 'l'
                && AsciiBytes.byteAt(buf, at + 14) == ':') {
            int v = at + 15;
            while (AsciiBytes.byteAt(buf, v) == ' ') {
                v++;
            }
            long n = 0;
            for (byte d = AsciiBytes.byteAt(buf, v); d >= '0' && d <= '9'; d = AsciiBytes.byteAt(buf, ++v)) {
                n = n * 10 + d - '0';
            }
            contentLength = n;
        } else if (w == TRANSFER && AsciiBytes.byteAt(buf, at + 17) == ':') {
            chunked = true;
        }
    }

    /** The first line feed at or after {@code from}, eight bytes a step (there is always one). */
    private static int lineFeed(UnsafeBuffer buf, int from) {
        for (int i = from; ; i += Long.BYTES) {
            long found = lineFeeds(AsciiBytes.longAt(buf, i));
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
        }
    }

    /** 0x80 in each byte that was '\n', exactly. */
    private static long lineFeeds(long word) {
        long x = word ^ LF_WORD;
        return ~(((x & LOW7_WORD) + LOW7_WORD) | x | LOW7_WORD);
    }

    private static long word(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        long w = 0;
        for (int i = b.length - 1; i >= 0; i--) {
            w = (w << Byte.SIZE) | (b[i] & 0xFF);
        }
        return w;
    }

    private static UnsafeBuffer slack(byte[] message) {
        UnsafeBuffer buf = new UnsafeBuffer(new byte[message.length + SLACK]);
        buf.putBytes(0, message);
        return buf;
    }
}
