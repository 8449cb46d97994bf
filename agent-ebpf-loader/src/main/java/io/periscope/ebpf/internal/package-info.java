/**
 * Native glue (JNA direct mappings to libbpf and libc). Internal: not an API; callers use
 * {@code io.periscope.ebpf.libbpf}, {@code io.periscope.ebpf.ringbuf} and {@code io.periscope.ebpf.tracer}.
 */
package io.periscope.ebpf.internal;
