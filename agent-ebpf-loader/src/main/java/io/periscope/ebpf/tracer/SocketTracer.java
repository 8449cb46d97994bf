package io.periscope.ebpf.tracer;

import io.periscope.ebpf.BpfObjects;
import io.periscope.ebpf.internal.LibBpf;
import io.periscope.ebpf.libbpf.BpfMap;
import io.periscope.ebpf.libbpf.BpfObject;
import io.periscope.ebpf.libbpf.BpfProgram;
import io.periscope.ebpf.ringbuf.MappedRingBuffer;
import io.periscope.ebpf.ringbuf.RecordHandler;
import org.agrona.DirectBuffer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The socket syscall tracer: loads bpf-src/socket_tracer.bpf.c, attaches its syscall and sched
 * tracepoints, and hands each event to a handler through a reused {@link SocketEvent} flyweight
 * read in place from the mmapped ring. One thread calls {@link #poll}/{@link #await}; counters may be
 * read from any thread. Nothing is allocated or called through JNA per event.
 */
public final class SocketTracer implements AutoCloseable {
    private static final String OBJECT = "socket_tracer";
    private static final String TRACEFS_EVENTS = "/sys/kernel/tracing/events/syscalls";

    private final BpfObject object;
    private final MappedRingBuffer ring;
    private final BpfMap lostEvents;
    private final BpfMap staleSockets;
    private final BpfMap runtime;
    private final byte[] runtimeKey = new byte[4];
    private final SocketEvent event = new SocketEvent();
    private final RecordHandler dispatch = this::dispatch;
    private SocketEventHandler handler;
    private long malformedEvents;
    private long deliveredEvents;
    /** Guarded by runtimeKey: a map update after close could hit a reused fd. */
    private boolean closed;

    private SocketTracer(BpfObject object, MappedRingBuffer ring, BpfMap lostEvents, BpfMap staleSockets,
            BpfMap runtime) {
        this.object = object;
        this.ring = ring;
        this.lostEvents = lostEvents;
        this.staleSockets = staleSockets;
        this.runtime = runtime;
    }

    /**
     * Loads and attaches the tracer. On any failure everything already attached is detached
     * before the exception leaves.
     *
     * @throws IllegalStateException naming the missing facility and its fix
     * @throws io.periscope.ebpf.libbpf.BpfException when the kernel refuses a program or attach
     */
    public static SocketTracer open(SocketTracerConfig config) {
        LibBpf.ensureAvailable();
        if (!Files.isReadable(Path.of("/sys/kernel/btf/vmlinux"))) {
            throw new IllegalStateException("the socket tracer needs kernel BTF (/sys/kernel/btf/vmlinux) for "
                    + "CO-RE; use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
        }
        if (!Files.isDirectory(Path.of(TRACEFS_EVENTS))) {
            throw new IllegalStateException("syscall tracepoints not found at " + TRACEFS_EVENTS
                    + "; mount tracefs (mount -t tracefs tracefs /sys/kernel/tracing) and run as root");
        }
        BpfObject object = BpfObject.open(OBJECT, BpfObjects.load(OBJECT));
        MappedRingBuffer ring = null;
        try {
            object.setInt("target_tgid", config.targetPid());
            object.setInt("ignore_tgid", config.ignoreSelf() ? (int) ProcessHandle.current().pid() : 0);
            object.setVariable("trace_unix", new byte[] {(byte) (config.traceUnix() ? 1 : 0)});
            int[] ports = config.ports();
            byte[] portBytes = new byte[2 * SocketTracerConfig.MAX_FILTER_PORTS];
            for (int i = 0; i < ports.length; i++) {
                portBytes[2 * i] = (byte) ports[i];
                portBytes[2 * i + 1] = (byte) (ports[i] >>> 8);
            }
            object.setVariable("filter_ports", portBytes);
            object.setInt("filter_port_count", ports.length);
            object.setInt("wakeup_bytes", config.wakeupBytes());
            byte[][] prefixes = config.prefixes();
            byte[] lens = new byte[SocketTracerConfig.MAX_PREFIXES];
            byte[] table = new byte[SocketTracerConfig.MAX_PREFIXES * SocketTracerConfig.MAX_PREFIX_BYTES];
            for (int i = 0; i < prefixes.length; i++) {
                lens[i] = (byte) prefixes[i].length;
                System.arraycopy(prefixes[i], 0, table, i * SocketTracerConfig.MAX_PREFIX_BYTES, prefixes[i].length);
            }
            object.setVariable("prefix_lens", lens);
            object.setVariable("prefixes", table);
            object.setInt("prefix_count", prefixes.length);
            object.map("events").setMaxEntries(config.ringBytes());
            int cpus = LibBpf.libbpfNumPossibleCpus();
            if (cpus <= 0) {
                throw new IllegalStateException("cannot count possible CPUs (/sys/devices/system/cpu/possible): "
                        + LibBpf.strerror(cpus));
            }
            object.map("scratch").setMaxEntries(cpus);
            object.load();
            // Runtime settings live in a map (not .rodata) so the guard can change them while
            // attached; written before attach so the first event already sees them.
            writePayloadBytes(object.map("runtime"), new byte[4], config.payloadBytes());
            for (BpfProgram p : object.programs()) {
                p.attach();
            }
            BpfMap events = object.map("events");
            ring = MappedRingBuffer.map(events.fd(), events.maxEntries());
            return new SocketTracer(object, ring, object.map("lost_events"), object.map("stale_socks"),
                    object.map("runtime"));
        } catch (RuntimeException e) {
            if (ring != null) {
                ring.close();
            }
            object.close();
            throw e;
        }
    }

    /**
     * Changes how many payload bytes each data event captures, while attached: 0 makes events
     * metadata-only (still delivered, with their lengths, addresses and timestamps, and flagged
     * {@link SocketEvent#FLAG_TRUNCATED}); the resource guard's last level sets 0 and restores
     * the configured size when it steps down. Takes effect for syscalls exiting after the call
     * returns. One map update (a syscall); callable from any thread, but not per event.
     *
     * @return false (and nothing changed) when the tracer is already closed
     * @throws IllegalArgumentException outside 0..{@link SocketEvent#MAX_PAYLOAD_BYTES}
     */
    public boolean setPayloadCaptureBytes(int bytes) {
        if (bytes < 0 || bytes > SocketEvent.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("payload capture bytes must be 0.." + SocketEvent.MAX_PAYLOAD_BYTES
                    + ", got " + bytes);
        }
        synchronized (runtimeKey) {
            if (closed) {
                return false;
            }
            writePayloadBytes(runtime, runtimeKey, bytes);
            return true;
        }
    }

    /** The payload bytes each data event captures now (read back from the kernel map). */
    public int payloadCaptureBytes() {
        byte[] value = new byte[runtime.valueSize()];
        synchronized (runtimeKey) {
            if (closed) {
                throw new IllegalStateException("the socket tracer is closed");
            }
            if (!runtime.lookup(runtimeKey, value)) {
                throw new IllegalStateException("the tracer's runtime map has no entry 0");
            }
        }
        return (value[0] & 0xff) | (value[1] & 0xff) << 8 | (value[2] & 0xff) << 16 | (value[3] & 0xff) << 24;
    }

    private static void writePayloadBytes(BpfMap runtime, byte[] key, int bytes) {
        // struct runtime_config { __u32 payload_bytes; }, little-endian like the BPF target.
        byte[] value = new byte[runtime.valueSize()];
        value[0] = (byte) bytes;
        value[1] = (byte) (bytes >>> 8);
        value[2] = (byte) (bytes >>> 16);
        value[3] = (byte) (bytes >>> 24);
        runtime.update(key, value);
    }

    /**
     * Delivers up to {@code limit} events to {@code handler}.
     *
     * @return events delivered; 0 means drained (then {@link #await(int)})
     */
    public int poll(SocketEventHandler handler, int limit) {
        this.handler = handler;
        return ring.poll(dispatch, limit);
    }

    private void dispatch(DirectBuffer buffer, int offset, int length) {
        event.wrap(buffer, offset, length);
        if (!event.isWellFormed()) {
            malformedEvents++;
            return;
        }
        deliveredEvents++;
        handler.onEvent(event);
    }

    /**
     * Sleeps on epoll until the kernel signals (at {@link SocketTracerConfig#wakeupBytes()} pending)
     * or the timeout passes; the timeout bounds how long a trickle of events waits, so keep it
     * short (e.g. 10 ms).
     */
    public boolean await(int timeoutMillis) {
        return ring.await(timeoutMillis);
    }

    /** Events the kernel dropped because the ring was full, summed over CPUs (one map read). */
    public long lostEvents() {
        return lostEvents.sumPerCpuLong(0);
    }

    /**
     * Socket entries the kernel found stale and replaced, summed over CPUs (one map read): a socket
     * that ended without a traced close (its process exited or exec'd, or the close was not
     * traced) whose kernel address a new socket took. The new socket got a new id, and a
     * {@link SocketEvent#KIND_CLOSE} event (fd -1) ended the old id.
     */
    public long staleSocketEntries() {
        return staleSockets.sumPerCpuLong(0);
    }

    /** Events handed to handlers so far (written by the polling thread; other threads may read it stale). */
    public long deliveredEvents() {
        return deliveredEvents;
    }

    /**
     * Program runs the kernel skipped because another BPF program was already running on that CPU
     * (e.g. the traced task was preempted inside one): syscalls never seen, summed over the
     * tracer's programs. One kernel query per program; call it at metrics rate, not per event.
     */
    public long missedRuns() {
        long sum = 0;
        for (BpfProgram p : object.programs()) {
            sum += p.info().recursionMisses();
        }
        return sum;
    }

    /**
     * Records that crossed the end of the ring and were copied into one piece (the ring's data is
     * mapped once, see {@code MappedRingBuffer}); written by the polling thread.
     */
    public long wrappedRecords() {
        return ring.reader().wrappedRecords();
    }

    /** Records shorter than their header claims (never expected; counted, not delivered). */
    public long malformedEvents() {
        return malformedEvents;
    }

    /** The underlying object, for extra maps or optional probes. */
    public BpfObject object() {
        return object;
    }

    /** Detaches every program, unmaps the ring and frees the object. */
    @Override
    public void close() {
        synchronized (runtimeKey) {
            closed = true;
        }
        ring.close();
        object.close();
    }
}
