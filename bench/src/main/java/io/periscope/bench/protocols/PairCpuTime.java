package io.periscope.bench.protocols;

import org.openjdk.jmh.infra.Blackhole;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The {@link ProtocolEngineBenchmark} scenarios timed by the thread's CPU time instead of the
 * wall clock, so that a machine shared with other busy processes (the time a thread waits for a
 * core) does not count. A companion to the JMH numbers, not a replacement (no fork control, no
 * blackhole guarantees beyond JMH's own Blackhole).
 *
 * <p>{@code java -cp bench/target/benchmarks.jar io.periscope.bench.protocols.PairCpuTime}
 */
public final class PairCpuTime {
    private static final int WARMUP_PAIRS = 2_000_000;
    private static final int MEASURED_PAIRS = 2_000_000;
    private static final int ROUNDS = 5;

    private PairCpuTime() {
    }

    public static void main(String[] args) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Blackhole bh = new Blackhole(
                "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
        String[] scenarios = args.length > 0 ? args
                : new String[] {"HTTP1_FULL", "HTTP1_SHALLOW", "REDIS", "DNS_UDP", "POSTGRESQL", "MYSQL", "HTTP2"};
        for (String scenario : scenarios) {
            ProtocolEngineBenchmark b = new ProtocolEngineBenchmark();
            b.scenario = scenario;
            b.setUp(bh);
            for (int i = 0; i < WARMUP_PAIRS; i++) {
                b.pair();
            }
            double best = Double.MAX_VALUE;
            for (int r = 0; r < ROUNDS; r++) {
                long t0 = threads.getCurrentThreadCpuTime();
                for (int i = 0; i < MEASURED_PAIRS; i++) {
                    b.pair();
                }
                long t1 = threads.getCurrentThreadCpuTime();
                best = Math.min(best, (t1 - t0) / (double) MEASURED_PAIRS);
            }
            System.out.printf("%-14s %8.1f ns CPU per request+response (best of %d rounds of %d)%n", scenario, best,
                    ROUNDS, MEASURED_PAIRS);
        }
    }
}
