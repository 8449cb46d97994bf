package io.periscope.bench.flow;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

import io.periscope.flowmap.DecodedPacket;
import io.periscope.flowmap.FlowKey;
import io.periscope.flowmap.FlowTable;
import io.periscope.flowmap.FlowTableConfig;
import io.periscope.flowmap.PacketDecoder;

/**
 * Decode + flow update (the {@link FlowTableBenchmark} work) timed in this thread's CPU time,
 * not wall time: on a shared machine a descheduled thread inflates JMH's numbers, not these.
 * Prints min and median CPU ns per packet over {@code runs} runs of {@code passes} passes of
 * {@value FlowTableBenchmark#PACKETS} packets, after a warm-up. Run with
 * {@code java -cp bench/target/benchmarks.jar io.periscope.bench.flow.FlowDecodeCpuMain
 * [tcp|udp|tcp-decode|udp-decode|tcp-metrics|udp-metrics|churn] [flows]}; "-metrics" also aggregates the
 * per-second endpoint metrics on the packet path; "churn" times a new UDP flow per packet in a full
 * 100 000-flow table that evicts (insert, eviction, export and the index's backshift).
 */
public final class FlowDecodeCpuMain {
    private static final int WARMUP_PASSES = 400;
    private static final int PASSES = 100;
    private static final int RUNS = 9;
    private static final long PACKET_GAP_NANOS = 1_000;

    private FlowDecodeCpuMain() {
    }

    /** Entry point. */
    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("churn")) {
            churn();
            return;
        }
        boolean tcp = args.length == 0 || args[0].startsWith("tcp");
        // "tcp-decode" / "udp-decode": the decoder alone, for the split between decoder and table.
        boolean decodeOnly = args.length > 0 && args[0].endsWith("-decode");
        boolean metrics = args.length > 0 && args[0].endsWith("-metrics");
        int flows = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        int packetsPerPass = FlowTableBenchmark.PACKETS;
        FlowPackets packets = tcp ? FlowPackets.tcp(flows, packetsPerPass / 2 / flows, 1400)
                : FlowPackets.udp(flows, packetsPerPass / flows, 1200);
        long[] records = new long[1];
        PacketDecoder decoder = new PacketDecoder();
        DecodedPacket packet = new DecodedPacket();
        long[] endpointRecords = new long[1];
        FlowTable table = new FlowTable(FlowTableConfig.builder().maxFlows(65_536).build(), log -> records[0]++,
                metrics ? r -> endpointRecords[0]++ : null);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long ts = 1_700_000_000_000_000_000L;
        int pass = 0;
        long ok = 0;
        for (int i = 0; i < WARMUP_PASSES; i++) {
            if (tcp) {
                packets.advance(++pass);
            }
            ts = replay(packets, decoder, packet, decodeOnly ? null : table, ts);
        }
        double[] nsPerPacket = new double[RUNS];
        for (int run = 0; run < RUNS; run++) {
            long cpu0 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < PASSES; i++) {
                if (tcp) {
                    packets.advance(++pass);
                }
                ts = replay(packets, decoder, packet, decodeOnly ? null : table, ts);
            }
            long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            nsPerPacket[run] = (double) cpu / ((long) PASSES * packets.count);
        }
        ok += decoder.count(PacketDecoder.OK);
        Arrays.sort(nsPerPacket);
        System.out.printf("%s%s flows=%d: CPU ns/packet min %.1f median %.1f max %.1f (%d runs x %d packets;"
                        + " %d decoded, %d live flows, %d endpoint records)%n", tcp ? "tcp" : "udp",
                decodeOnly ? " decode only" : metrics ? " with endpoint metrics" : "", flows,
                nsPerPacket[0], nsPerPacket[RUNS / 2], nsPerPacket[RUNS - 1], RUNS, PASSES * packets.count, ok,
                table.size(), endpointRecords[0]);
        table.close();
    }

    private static void churn() {
        int opsPerRun = 1_000_000;
        long[] exported = new long[1];
        FlowTable table = new FlowTable(FlowTableConfig.builder().maxFlows(100_000)
                .fullPolicy(FlowTableConfig.FullPolicy.EVICT).build(), log -> exported[0]++, null);
        FlowKey key = new FlowKey();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long ts = 1_700_000_000_000_000_000L;
        long n = 0;
        for (int i = 0; i < 4 * opsPerRun; i++) {
            ts += PACKET_GAP_NANOS;
            newFlow(table, key, n++, ts);
        }
        double[] nsPerFlow = new double[RUNS];
        for (int run = 0; run < RUNS; run++) {
            long cpu0 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < opsPerRun; i++) {
                ts += PACKET_GAP_NANOS;
                newFlow(table, key, n++, ts);
            }
            nsPerFlow[run] = (double) (threads.getCurrentThreadCpuTime() - cpu0) / opsPerRun;
        }
        Arrays.sort(nsPerFlow);
        System.out.printf("churn: CPU ns per new flow (evicting) min %.1f median %.1f max %.1f (%d runs x %d flows;"
                        + " %d evicted, %d live)%n", nsPerFlow[0], nsPerFlow[RUNS / 2], nsPerFlow[RUNS - 1], RUNS,
                opsPerRun, table.flowsEvicted(), table.size());
        table.close();
    }

    private static void newFlow(FlowTable table, FlowKey key, long n, long ts) {
        key.ipv4(0x0A000000L | (n >>> 16 & 0xFFFF), (int) (n & 0xFFFF), 0x0A640001L, 53, 17);
        table.update(key, ts, 60, 32, 0, 0, 0, 0);
    }

    private static long replay(FlowPackets packets, PacketDecoder decoder, DecodedPacket packet, FlowTable table,
                               long start) {
        long ts = start;
        for (int i = 0; i < packets.count; i++) {
            if (decoder.decodeEthernet(packets.buffer, packets.offsets[i], packets.lengths[i], packet)
                    == PacketDecoder.OK && table != null) {
                table.onPacket(packet, 1, ts);
            }
            ts += PACKET_GAP_NANOS;
        }
        if (table != null) {
            table.tick(ts);
        }
        return ts;
    }
}
