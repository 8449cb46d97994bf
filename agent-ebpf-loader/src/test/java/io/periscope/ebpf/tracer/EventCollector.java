package io.periscope.ebpf.tracer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Polls a tracer until events matching every predicate arrived or a bounded number of waits passed. */
final class EventCollector {
    private static final int WAIT_MILLIS = 100;
    private static final int MAX_WAITS = 100;

    final List<CapturedEvent> events = new ArrayList<>();
    private final SocketTracer tracer;

    EventCollector(SocketTracer tracer) {
        this.tracer = tracer;
    }

    @SafeVarargs
    final List<CapturedEvent> until(Predicate<CapturedEvent>... wanted) {
        for (int waits = 0; waits < MAX_WAITS; waits++) {
            while (tracer.poll(e -> events.add(CapturedEvent.of(e)), 1024) > 0) {
                // drain
            }
            boolean all = true;
            for (Predicate<CapturedEvent> w : wanted) {
                all &= events.stream().anyMatch(w);
            }
            if (all) {
                return events;
            }
            tracer.await(WAIT_MILLIS);
        }
        return events;
    }
}
