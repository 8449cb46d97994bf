package io.periscope.ebpf.tracer;

/** Receives socket tracer events; the flyweight is reused and valid only during the call. */
@FunctionalInterface
public interface SocketEventHandler {
    /** One event from the kernel. */
    void onEvent(SocketEvent event);
}
