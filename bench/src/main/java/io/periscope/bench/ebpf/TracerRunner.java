package io.periscope.bench.ebpf;

import java.io.IOException;

import io.periscope.ebpf.tracer.SocketEvent;
import io.periscope.ebpf.tracer.SocketTracer;
import io.periscope.ebpf.tracer.SocketTracerConfig;

/**
 * Runs the socket tracer with a do-nothing consumer until killed or stdin closes, for
 * bench/scenarios/tracer-overhead.sh. Prints "ready" once attached, and totals at exit.
 * usage: TracerRunner [port]  (port: in-kernel port filter; none: all sockets); see main for -D knobs
 */
public final class TracerRunner {
    private static final int POLL_LIMIT = 4096;
    private static final int WAIT_MILLIS = 10;

    private TracerRunner() {
    }

    public static void main(String[] args) throws Exception {
        SocketTracerConfig.Builder config = SocketTracerConfig.builder();
        if (args.length > 0) {
            config.ports(Integer.parseInt(args[0]));
        }
        // Knobs for attributing overhead: -Dpayload=0 (no payload copy), -Dtarget=<pid> (programs
        // attached but every call bails out at the pid check), -Dwakeup=<bytes>, -Dring=<bytes>.
        config.payloadBytes(Integer.getInteger("payload", SocketTracerConfig.DEFAULT_PAYLOAD_BYTES));
        config.targetPid(Integer.getInteger("target", 0));
        config.wakeupBytes(Integer.getInteger("wakeup", SocketTracerConfig.DEFAULT_WAKEUP_BYTES));
        config.ringBytes(Integer.getInteger("ring", SocketTracerConfig.DEFAULT_RING_BYTES));
        long[] totals = new long[2];
        try (SocketTracer tracer = SocketTracer.open(config.build())) {
            Thread stopper = new Thread(() -> {
                try {
                    while (System.in.read() >= 0) {
                        // wait for EOF
                    }
                } catch (IOException e) {
                    // a broken stdin means the script is gone: stop as on EOF
                }
            });
            stopper.setDaemon(true);
            stopper.start();
            System.out.println("ready");
            System.out.flush();
            while (stopper.isAlive()) {
                int n = tracer.poll(e -> {
                    totals[0]++;
                    if (e.kind() == SocketEvent.KIND_DATA) {
                        totals[1] += e.payloadLength();
                    }
                }, POLL_LIMIT);
                if (n == 0) {
                    tracer.await(WAIT_MILLIS);
                }
            }
            System.out.println("events " + totals[0] + " payload_bytes " + totals[1] + " lost " + tracer.lostEvents());
        }
    }
}
