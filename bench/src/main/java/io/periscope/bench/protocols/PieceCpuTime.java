package io.periscope.bench.protocols;

import io.periscope.protocols.AsciiBytes;
import io.periscope.protocols.EndpointRule;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.TextField;
import io.periscope.protocols.http1.TraceContext;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * Thread CPU time of the pieces an HTTP/1 pair is made of, on {@link ProtocolEngineBenchmark}'s
 * request: what scanning its head costs at best (a branchless count of its line feeds, eight
 * bytes a word), finding every line of it, the endpoint rule, a text field copy, traceparent.
 * Tells how much of a pair is the floor of reading its bytes and how much is the rest.
 *
 * <p>{@code java -cp bench/target/benchmarks.jar io.periscope.bench.protocols.PieceCpuTime}
 */
public final class PieceCpuTime {
    private static final int WARMUP_CALLS = 3_000_000;
    private static final int MEASURED_CALLS = 2_000_000;
    private static final int ROUNDS = 5;
    private static final long LF_WORD = 0x0A0A0A0A0A0A0A0AL;
    private static final long LOW7_WORD = 0x7F7F7F7F7F7F7F7FL;

    private static int sink;

    private PieceCpuTime() {
    }

    private static void time(String name, IntSupplier piece) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < WARMUP_CALLS; i++) {
            sink += piece.getAsInt();
        }
        double best = Double.MAX_VALUE;
        for (int r = 0; r < ROUNDS; r++) {
            long t0 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < MEASURED_CALLS; i++) {
                sink += piece.getAsInt();
            }
            best = Math.min(best, (threads.getCurrentThreadCpuTime() - t0) / (double) MEASURED_CALLS);
        }
        System.out.printf("%-40s %7.1f ns CPU per call (best of %d rounds of %d)%n", name, best, ROUNDS,
                MEASURED_CALLS);
    }

    public static void main(String[] args) {
        byte[] request = ProtocolEngineBenchmark.HTTP_REQUEST;
        String text = new String(request, StandardCharsets.US_ASCII);
        UnsafeBuffer req = new UnsafeBuffer(request);
        int head = request.length;
        int pathStart = text.indexOf(' ') + 1;
        int pathLength = text.indexOf(' ', pathStart) - pathStart;
        int traceparent = text.indexOf("traceparent: ") + "traceparent: ".length();
        EndpointRule rule = new EndpointRule(2, true);
        TextField resource = new TextField(RequestLog.RESOURCE_BYTES);
        TextField endpoint = new TextField(RequestLog.ENDPOINT_BYTES);
        TextField method = new TextField(RequestLog.METHOD_BYTES);
        RequestLog log = new RequestLog();
        resource.set(req, pathStart, pathLength);

        time("(the harness: a constant)", () -> 1);
        time("count line feeds of the head, branchless", () -> {
            int n = 0;
            for (int i = 0; i + Long.BYTES <= head; i += Long.BYTES) {
                long w = AsciiBytes.longAt(req, i) ^ LF_WORD;
                n += Long.bitCount(~(((w & LOW7_WORD) + LOW7_WORD) | w | LOW7_WORD));
            }
            return n;
        });
        time("find every line of the head (indexOfLf)", () -> {
            int n = 0;
            int p = 0;
            while (p < head) {
                int lf = AsciiBytes.indexOfLf(req, p, head);
                if (lf < 0) {
                    break;
                }
                p = lf + 1;
                n++;
            }
            return n;
        });
        time("endpoint rule on the path", () -> {
            rule.apply(resource.array(), 0, resource.length(), endpoint);
            return endpoint.length();
        });
        time("resource copy (" + pathLength + " bytes)", () -> resource.set(req, pathStart, pathLength).length());
        time("method copy (3 bytes)", () -> method.set(req, 0, 3).length());
        time("traceparent", () -> TraceContext.traceparent(log, req, traceparent, 55) ? 1 : 0);
        // the call through a now megamorphic IntSupplier: included in every line but the first
        time("(the harness again, megamorphic)", () -> 2);
        if (sink == 42) {
            System.out.println();
        }
    }
}
