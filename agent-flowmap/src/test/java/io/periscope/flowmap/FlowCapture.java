package io.periscope.flowmap;

import java.util.ArrayList;
import java.util.List;

import io.periscope.ebpf.packet.CaptureInterface;
import io.periscope.ebpf.packet.PacketCapture;
import io.periscope.ebpf.packet.PacketRingConfig;

/**
 * The live pipeline under test: a thread polling an AF_PACKET capture, decoding each frame and
 * updating one FlowTable (its single writer), ticking with the wall clock. {@link #stop()} drains,
 * flushes the table and returns every flow record.
 */
final class FlowCapture {
    final List<FlowTableTest.Snapshot> records = new ArrayList<>();
    final List<long[]> endpointPackets = new ArrayList<>();
    final PacketCapture capture;
    final FlowTable table;
    final PacketDecoder decoder = new PacketDecoder();
    private final DecodedPacket packet = new DecodedPacket();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private volatile boolean ready;

    FlowCapture(String iface, String filter, FlowTableConfig config) {
        CaptureInterface captureInterface = CaptureInterface.byName(iface);
        this.capture = PacketCapture.open(List.of(captureInterface),
                PacketRingConfig.builder().blockBytes(1 << 20).blockCount(32).snapLengthBytes(256).filter(filter)
                        .build());
        this.table = new FlowTable(config, log -> records.add(FlowTableTest.Snapshot.of(log)),
                r -> endpointPackets.add(new long[] {r.port(), r.packetsIn(), r.packetsOut(), r.newFlows()}));
        this.thread = new Thread(this::loop, "flow-capture-" + iface);
        thread.start();
    }

    private void loop() {
        try {
            long lastTick = 0;
            ready = true;
            while (running) {
                int n = capture.poll((buffer, offset, captured, wire, ts, ifindex, direction) -> {
                    if (decoder.decodeEthernet(buffer, offset, captured, packet) == PacketDecoder.OK) {
                        table.onPacket(packet, ifindex, ts);
                    }
                }, 4096);
                long now = System.currentTimeMillis() * 1_000_000L;
                if (now - lastTick >= 100_000_000L) {
                    table.tick(now);
                    lastTick = now;
                }
                if (n == 0) {
                    capture.awaitPackets(20);
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** Counters for failure messages. */
    String describe() {
        io.periscope.ebpf.packet.PacketRing r = capture.rings().get(0);
        return "ring packets=" + r.packets() + " kernelPackets=" + r.kernelPackets() + " kernelDrops=" + r.kernelDrops()
                + " freezes=" + r.kernelFreezes() + " losing=" + r.blocksLosing() + " copy=" + r.blocksCopy()
                + " blocks=" + r.blocks() + " decoded=" + decoder.count(PacketDecoder.OK) + " truncated="
                + decoder.count(PacketDecoder.TRUNCATED) + " notIp=" + decoder.count(PacketDecoder.NOT_IP)
                + " malformed=" + decoder.count(PacketDecoder.MALFORMED) + " flows=" + table.flowsCreated();
    }

    /** Waits until the ring is polled, then lets the kernel settle a moment. */
    void awaitReady() throws InterruptedException {
        while (!ready) {
            Thread.sleep(5);
        }
    }

    /** Drains what the kernel still holds, stops, flushes the table and returns the records. */
    List<FlowTableTest.Snapshot> stop() throws InterruptedException {
        Thread.sleep(300);
        running = false;
        thread.join(10_000);
        if (failure != null) {
            throw new IllegalStateException("capture thread failed", failure);
        }
        capture.poll((buffer, offset, captured, wire, ts, ifindex, direction) -> {
            if (decoder.decodeEthernet(buffer, offset, captured, packet) == PacketDecoder.OK) {
                table.onPacket(packet, ifindex, ts);
            }
        }, Integer.MAX_VALUE);
        capture.updateKernelStatistics();
        table.flush(System.currentTimeMillis() * 1_000_000L);
        capture.close();
        table.close();
        return records;
    }
}
