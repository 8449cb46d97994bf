package io.periscope.bench.protocols;

import io.periscope.bench.protocols2.MessagingProtocolsBenchmark;
import org.openjdk.jmh.infra.Blackhole;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The {@link ProtocolEngineBenchmark} scenarios timed by the thread's CPU time instead of the
 * wall clock, so that a machine shared with other busy processes (the time a thread waits for a
 * core) does not count. A companion to the JMH numbers, not a replacement (no fork control, no
 * blackhole guarantees beyond JMH's own Blackhole).
 *
 * <p>{@code java -cp bench/target/benchmarks.jar io.periscope.bench.protocols.PairCpuTime [SCENARIO...]}:
 * the scenarios are those of {@link ProtocolEngineBenchmark} and the protocols of
 * {@link MessagingProtocolsBenchmark} (KAFKA, MQTT, ...); all of them when none is named. HTTP1_FULL_BARE,
 * HTTP1_SHALLOW_BARE and HTTP1_SHALLOW_BARE_REQUEST (named only) are the HTTP/1 pair with its heads cut to
 * the start lines and framing: what the other header bytes cost. {@code A+B+...} (e.g.
 * {@code HTTP1_FULL+REDIS}) runs one pair of each in turn, every step, and prints the mean per pair:
 * the cost with every shared call site seeing all of them, to compare with the mean of their
 * numbers alone.
 */
public final class PairCpuTime {
    private static final int WARMUP_PAIRS = 2_000_000;
    /**
     * Pairs per round and rounds: 5 x 2M by default; {@code -Dpairs.rounds=40 -Dpairs.perRound=250000}
     * takes the best of many short rounds, which a busy shared machine disturbs less often.
     */
    private static final int MEASURED_PAIRS = Integer.getInteger("pairs.perRound", 2_000_000);
    private static final int ROUNDS = Integer.getInteger("pairs.rounds", 5);
    /**
     * {@code -Dpairs.mixedWarmup=true}: all named scenarios are first warmed up together, one
     * pair of each in turn, then measured one after the other: each protocol's steady state in a
     * JVM whose shared code has seen all of them (no recompilation when the next one starts).
     */
    private static final boolean MIXED_WARMUP = Boolean.getBoolean("pairs.mixedWarmup");

    private PairCpuTime() {
    }

    private static final String[] ENGINE_SCENARIOS =
            {"HTTP1_FULL", "HTTP1_SHALLOW", "REDIS", "DNS_UDP", "POSTGRESQL", "MYSQL", "HTTP2"};
    private static final String[] MESSAGING_PROTOCOLS =
            {"KAFKA", "MQTT", "MEMCACHED", "MONGODB", "AMQP", "NATS", "DUBBO", "TLS"};

    public static void main(String[] args) throws Exception {
        Blackhole bh = new Blackhole(
                "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
        String[] scenarios = args;
        if (scenarios.length == 0) {
            scenarios = new String[ENGINE_SCENARIOS.length + MESSAGING_PROTOCOLS.length];
            System.arraycopy(ENGINE_SCENARIOS, 0, scenarios, 0, ENGINE_SCENARIOS.length);
            System.arraycopy(MESSAGING_PROTOCOLS, 0, scenarios, ENGINE_SCENARIOS.length, MESSAGING_PROTOCOLS.length);
        }
        Runnable[] pairs = new Runnable[scenarios.length];
        for (int s = 0; s < scenarios.length; s++) {
            // "A+B+C": one pair of each in turn per step, so every shared call site sees all of
            // them from the start, as in an agent parsing several protocols at once
            String[] parts = scenarios[s].split("\\+");
            Runnable[] each = new Runnable[parts.length];
            for (int k = 0; k < parts.length; k++) {
                each[k] = pairOf(parts[k], bh);
            }
            pairs[s] = each.length == 1 ? each[0] : () -> {
                for (Runnable r : each) {
                    r.run();
                }
            };
        }
        if (MIXED_WARMUP) {
            for (int i = 0; i < WARMUP_PAIRS; i++) {
                for (Runnable p : pairs) {
                    p.run();
                }
            }
        }
        for (int s = 0; s < scenarios.length; s++) {
            String scenario = scenarios[s];
            int parts = scenario.split("\\+").length;
            double best = bestCpuNanos(pairs[s]);
            System.out.printf("%-14s %8.1f ns CPU per request+response (best of %d rounds of %d)%n", scenario,
                    best / parts, ROUNDS, MEASURED_PAIRS);
        }
    }

    /**
     * The thread's CPU ns per run of {@code op}: 2M warm-up runs first, then the best of
     * {@code pairs.rounds} rounds of {@code pairs.perRound} runs (the same properties for every
     * caller, e.g. {@link ShallowFloor} and bench/floor/ShallowFloorVector.java).
     */
    public static double bestCpuNanos(Runnable op) {
        return bestCpuNanos(op, WARMUP_PAIRS);
    }

    /** {@link #bestCpuNanos(Runnable)} after {@code warmupRuns} runs instead. */
    public static double bestCpuNanos(Runnable op, int warmupRuns) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < warmupRuns; i++) {
            op.run();
        }
        double best = Double.MAX_VALUE;
        for (int r = 0; r < ROUNDS; r++) {
            long t0 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < MEASURED_PAIRS; i++) {
                op.run();
            }
            best = Math.min(best, (threads.getCurrentThreadCpuTime() - t0) / (double) MEASURED_PAIRS);
        }
        return best;
    }

    /** The rounds and runs per round {@link #bestCpuNanos} measures, for a report line. */
    public static String roundsDescription() {
        return "best of " + ROUNDS + " rounds of " + MEASURED_PAIRS;
    }

    private static Runnable pairOf(String scenario, Blackhole bh) throws Exception {
        if (java.util.Arrays.asList(MESSAGING_PROTOCOLS).contains(scenario)) {
            MessagingProtocolsBenchmark b = new MessagingProtocolsBenchmark();
            b.protocol = scenario;
            b.setUp(bh);
            return b::pair;
        }
        ProtocolEngineBenchmark b = new ProtocolEngineBenchmark();
        b.scenario = scenario;
        b.setUp(bh);
        return b::pair;
    }
}
