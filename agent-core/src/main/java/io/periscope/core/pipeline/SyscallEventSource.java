package io.periscope.core.pipeline;

import io.periscope.ebpf.tracer.SocketEventHandler;
import io.periscope.ebpf.tracer.SocketTracer;

/**
 * Where {@link SyscallPipeline} reads socket events from: the kernel's socket tracer in the agent,
 * a recorded or synthetic stream in tests and the bench's pipeline lab (which measures the
 * pipeline's CPU per span without nginx or the kernel).
 */
public interface SyscallEventSource {
    /** Delivers up to {@code limit} events to {@code handler}; 0 means none pending now. */
    int poll(SocketEventHandler handler, int limit);

    /** Waits up to {@code timeoutMillis} for more events. */
    boolean await(int timeoutMillis);

    /** Events lost before they reached this source (the kernel ring was full). */
    long lostEvents();

    /** Records shorter than their header claims, never delivered. */
    long malformedEvents();

    /**
     * Sockets whose end the source did not see (their process exited or exec'd without closing
     * them) found out when a new socket took their place, and ended then; 0 where not tracked.
     */
    default long staleSocketEntries() {
        return 0;
    }

    /** The kernel's socket tracer as a source. */
    static SyscallEventSource of(SocketTracer tracer) {
        return new SyscallEventSource() {
            @Override
            public int poll(SocketEventHandler handler, int limit) {
                return tracer.poll(handler, limit);
            }

            @Override
            public boolean await(int timeoutMillis) {
                return tracer.await(timeoutMillis);
            }

            @Override
            public long lostEvents() {
                return tracer.lostEvents();
            }

            @Override
            public long malformedEvents() {
                return tracer.malformedEvents();
            }

            @Override
            public long staleSocketEntries() {
                return tracer.staleSocketEntries();
            }
        };
    }
}
