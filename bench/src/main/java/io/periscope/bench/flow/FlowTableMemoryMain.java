package io.periscope.bench.flow;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import io.periscope.flowmap.FlowKey;
import io.periscope.flowmap.FlowTable;
import io.periscope.flowmap.FlowTableConfig;

/**
 * Resident memory of a flow table, for the README: this process's VmRSS before the table, after
 * constructing it (idle), with {@code flows} live TCP flows, and after they all closed. Run with
 * {@code java -Xmx64m -cp bench/target/benchmarks.jar io.periscope.bench.flow.FlowTableMemoryMain
 * [maxFlows] [flows]} (defaults: 262144, the agent's default capacity, and 122000).
 */
public final class FlowTableMemoryMain {
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);

    private FlowTableMemoryMain() {
    }

    /** Entry point. */
    public static void main(String[] args) throws IOException {
        int maxFlows = args.length > 0 ? Integer.parseInt(args[0]) : 262_144;
        int flows = args.length > 1 ? Integer.parseInt(args[1]) : 122_000;
        long[] records = new long[1];
        long before = rssKb();
        FlowTable table = new FlowTable(FlowTableConfig.builder().maxFlows(maxFlows).build(),
                log -> records[0]++, null);
        long idle = rssKb();
        FlowKey key = new FlowKey();
        long ts = 1_000 * SECOND_NANOS;
        for (int i = 0; i < flows; i++) {
            key.ipv4(0x0A000001 + (i >>> 14), 32768 + (i & 0x3FFF), 0x0A010001, 443, 6).location(1, 0);
            table.update(key, ts + i, 60, 0, 0x02, i, 0, 65535);
        }
        long full = rssKb();
        int live = table.size();
        // Everything idles out (opening timeout) and is exported.
        table.tick(ts + 3600 * SECOND_NANOS);
        long after = rssKb();
        System.out.printf("maxFlows=%d budget=%d MB live=%d exported=%d | RSS MB: before table %.1f, idle table %.1f"
                        + " (+%.1f), %d flows %.1f (+%.1f), after expiry %.1f%n",
                maxFlows, table.memoryBytes() >> 20, live, records[0],
                before / 1024.0, idle / 1024.0, (idle - before) / 1024.0, flows, full / 1024.0,
                (full - before) / 1024.0, after / 1024.0);
        table.close();
    }

    private static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
