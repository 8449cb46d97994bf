package io.periscope.bench.protocols2;

import org.openjdk.jmh.infra.Blackhole;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Thread CPU time per request + response pair of each messaging protocol, like
 * {@code protocols.PairCpuTime}, but after a warm-up that interleaves all eight protocols in one
 * JVM. A call site shared by several parsers (the engine's {@code parser.parse}, a base class's
 * call into its subclasses) then sees them all before the JIT compiles it, as in an agent that
 * parses many protocols at once; measuring one protocol per JVM would let the JIT inline the one
 * parser it saw and hide the cost of dispatching between them.
 *
 * <p>{@code java -cp bench/target/benchmarks.jar io.periscope.bench.protocols2.MixedPairCpuTime [PROTOCOL...]}
 * (the protocols measured; all eight when none is named; all eight are warmed either way).
 */
public final class MixedPairCpuTime {
    private static final int WARMUP_PAIRS_PER_PROTOCOL = 2_000_000;
    private static final int WARMUP_SLICE_PAIRS = 1_000;
    private static final int MEASURED_PAIRS = 2_000_000;
    private static final int ROUNDS = 5;
    private static final String[] PROTOCOLS = {"KAFKA", "MQTT", "MEMCACHED", "MONGODB", "AMQP", "NATS", "DUBBO", "TLS"};

    private MixedPairCpuTime() {
    }

    public static void main(String[] args) throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Blackhole bh = new Blackhole(
                "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
        MessagingProtocolsBenchmark[] benches = new MessagingProtocolsBenchmark[PROTOCOLS.length];
        for (int p = 0; p < PROTOCOLS.length; p++) {
            benches[p] = new MessagingProtocolsBenchmark();
            benches[p].protocol = PROTOCOLS[p];
            benches[p].setUp(bh);
        }
        // small slices round-robin, so that no protocol is compiled alone before the others run
        for (int done = 0; done < WARMUP_PAIRS_PER_PROTOCOL; done += WARMUP_SLICE_PAIRS) {
            for (MessagingProtocolsBenchmark b : benches) {
                for (int i = 0; i < WARMUP_SLICE_PAIRS; i++) {
                    b.pair();
                }
            }
        }
        String[] measured = args.length == 0 ? PROTOCOLS : args;
        for (String protocol : measured) {
            MessagingProtocolsBenchmark b = benches[java.util.Arrays.asList(PROTOCOLS).indexOf(protocol)];
            double best = Double.MAX_VALUE;
            for (int r = 0; r < ROUNDS; r++) {
                long t0 = threads.getCurrentThreadCpuTime();
                for (int i = 0; i < MEASURED_PAIRS; i++) {
                    b.pair();
                }
                long t1 = threads.getCurrentThreadCpuTime();
                best = Math.min(best, (t1 - t0) / (double) MEASURED_PAIRS);
            }
            System.out.printf("%-10s %8.1f ns CPU per request+response, all eight warmed (best of %d rounds of %d)%n",
                    protocol, best, ROUNDS, MEASURED_PAIRS);
        }
    }
}
