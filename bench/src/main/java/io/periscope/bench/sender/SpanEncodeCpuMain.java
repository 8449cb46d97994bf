package io.periscope.bench.sender;

import io.periscope.protocols.RequestLog;
import io.periscope.sender.ProcessResource;
import io.periscope.sender.SpanEncoder;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * CPU time per span of {@code SpanEncoder.encodeSpan} (what the poller thread pays per span for
 * encoding), from the thread's own CPU clock rather than wall time, so that a machine shared with
 * other work still gives a usable number. Alternates the two record sets every round: spans of
 * 64 keep-alive connections (bench B's shape) and spans that each come from a new connection.
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.periscope.bench.sender.SpanEncodeCpuMain [rounds] [spansPerRound]}
 */
public final class SpanEncodeCpuMain {
    private static final int BATCH = 512;

    private SpanEncodeCpuMain() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
        RequestLog[] fresh = new RequestLog[BATCH];
        RequestLog[] keepAlive = new RequestLog[BATCH];
        ProcessResource[] resources = new ProcessResource[BATCH];
        SpanEncodeBenchmark.typicalSpans(fresh, resources);
        SpanEncodeBenchmark.typicalSpans(keepAlive, resources);
        for (int i = 0; i < BATCH; i++) {
            int c = i % 64;
            keepAlive[i].socketId(1000 + c).remotePort(40000 + c);
            keepAlive[i].remoteAddress()[2] = 0;
            keepAlive[i].remoteAddress()[3] = (byte) c;
        }
        SpanEncoder encoder = new SpanEncoder(1_700_000_000_000_000_000L, 0, 4 << 20, 42);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int round = 0; round < rounds; round++) {
            for (int set = 0; set < 2; set++) {
                RequestLog[] records = set == 0 ? keepAlive : fresh;
                long cpu0 = mx.getCurrentThreadCpuTime();
                for (int n = 0; n < perRound; n++) {
                    sink += encoder.encodeSpan(records[n & (BATCH - 1)]);
                }
                long cpu = mx.getCurrentThreadCpuTime() - cpu0;
                System.out.printf("round %d %-10s %6.1f ns CPU per span%n", round,
                        set == 0 ? "keep-alive" : "fresh", (double) cpu / perRound);
            }
        }
        System.out.println("bytes " + sink);
    }
}
