package io.periscope.bench.flow;

import java.util.List;
import java.util.concurrent.TimeUnit;

import io.periscope.ebpf.packet.CaptureInterface;
import io.periscope.ebpf.packet.PacketCapture;
import io.periscope.ebpf.packet.PacketRing;
import io.periscope.ebpf.packet.PacketRingConfig;
import io.periscope.flowmap.DecodedPacket;
import io.periscope.flowmap.FlowTable;
import io.periscope.flowmap.FlowTableConfig;
import io.periscope.flowmap.PacketDecoder;

/**
 * The capture pipeline alone, for scenario scripts: AF_PACKET ring, decode, flow table (with
 * flow records and endpoint metrics consumed and dropped), on one thread, until SIGTERM or
 * the given duration; prints one summary line. Run with
 * {@code java -cp bench/target/benchmarks.jar io.periscope.bench.flow.FlowCaptureMain <iface> <seconds>
 * [filter] [maxFlows]}.
 */
public final class FlowCaptureMain {
    private static volatile boolean running = true;

    private FlowCaptureMain() {
    }

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: FlowCaptureMain <interface> <seconds> [filter] [maxFlows]");
            System.exit(2);
        }
        String iface = args[0];
        long seconds = Long.parseLong(args[1]);
        String filter = args.length > 2 ? args[2] : "";
        int maxFlows = args.length > 3 ? Integer.parseInt(args[3]) : 1 << 20;
        long[] records = new long[2];
        PacketDecoder decoder = new PacketDecoder();
        DecodedPacket packet = new DecodedPacket();
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running = false;
            try {
                main.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        try (PacketCapture capture = PacketCapture.open(List.of(CaptureInterface.byName(iface)),
                PacketRingConfig.builder().blockBytes(1 << 20).blockCount(64).snapLengthBytes(128).filter(filter)
                        .build());
                FlowTable table = new FlowTable(FlowTableConfig.builder().maxFlows(maxFlows).build(),
                        log -> records[0]++, r -> records[1]++)) {
            System.out.println("ready " + iface + " table " + table.memoryBytes() + " B for " + maxFlows + " flows");
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            long lastTick = 0;
            long lastStats = 0;
            while (running && System.nanoTime() < end) {
                int n = capture.poll((buffer, offset, captured, wire, ts, ifindex, direction) -> {
                    if (decoder.decodeEthernet(buffer, offset, captured, packet) == PacketDecoder.OK) {
                        table.onPacket(packet, ifindex, ts);
                    }
                }, 8192);
                long now = System.currentTimeMillis();
                if (now - lastTick >= 100) {
                    table.tick(now * 1_000_000L);
                    lastTick = now;
                }
                if (now - lastStats >= 200) {
                    capture.updateKernelStatistics();
                    lastStats = now;
                    // For scenario scripts that measure a window: cumulative counts so far.
                    System.out.println("stats packets=" + capture.packets() + " drops=" + capture.kernelDrops()
                            + " live=" + table.size() + " created=" + table.flowsCreated() + " droppedFlows="
                            + table.flowsDropped());
                }
                if (n == 0) {
                    capture.awaitPackets(10);
                }
            }
            capture.updateKernelStatistics();
            PacketRing ring = capture.rings().get(0);
            System.out.println("packets=" + ring.packets() + " kernelPackets=" + ring.kernelPackets() + " kernelDrops="
                    + ring.kernelDrops() + " freezes=" + ring.kernelFreezes() + " decoded="
                    + decoder.count(PacketDecoder.OK) + " flows=" + table.flowsCreated() + " live=" + table.size()
                    + " droppedFlows=" + table.flowsDropped() + " flowRecords=" + records[0] + " endpointRecords="
                    + records[1] + " tableBytes=" + table.memoryBytes());
        }
    }
}
