package io.periscope.ebpf.libbpf;

/** One attachment of a program (tracepoint, probe, tc filter); closing detaches it. Idempotent. */
public interface BpfLink extends AutoCloseable {
    /** What is attached where, for logs and errors. */
    String description();

    /** Detaches; safe to call twice. */
    @Override
    void close();
}
