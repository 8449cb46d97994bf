package io.periscope.core.pipeline;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.LiteTimeoutBlockingWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.TimeoutException;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import io.periscope.ebpf.tracer.SocketEventHandler;
import io.periscope.ebpf.tracer.SocketTracer;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLogSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * eBPF socket events to request logs. With one shard, the poller thread parses each record where
 * the kernel wrote it (no copy, no hand-off, no second thread to wake). With {@code shards > 1},
 * the poller copies each ring buffer record into a pre-allocated Disruptor slot and {@code shards}
 * parse threads each run a {@link ProtocolEngine} for the connections hashed to them; the poller
 * then takes from the kernel ring only as many records as there are free slots, so when parsing
 * falls behind the records wait in the kernel ring (compact, variable-sized, several times the
 * slots' capacity for the same memory) rather than being dropped here. Either way only a full
 * kernel ring loses events (counted there).
 */
public final class SyscallPipeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SyscallPipeline.class);
    /** Parse threads wait this long for work before a timer tick. */
    private static final int AWAIT_MILLIS = 100;
    /**
     * The poller's epoll wait. The kernel wakes it once wakeup_bytes are pending (batching
     * wake-ups keeps the traced process's cost down); the timeout bounds how late a quiet
     * connection's events are read. At 10 ms the timeout, not the kernel, woke the poller ~85
     * times a second in bench B (each wake-up a context switch on a CPU nginx or h2load wants,
     * and a working set to bring back into the caches); at 50 ms ~20 (agent-core README, "CPU per
     * span", session 5). Spans wait for their export batch (up to 1 s) anyway.
     */
    private static final int POLL_AWAIT_MILLIS = 50;
    /** The help text of periscope_pipeline_dropped_total (one per metric name, whatever the stage). */
    public static final String DROPPED_HELP = "Items dropped at a pipeline stage (parse_ring: every parse slot "
            + "full; reconfigure: pending requests lost when parsing was reconfigured; export_queue: exporter "
            + "queue full)";
    /** Records taken from the kernel ring per poll before counters are published. */
    public static final int POLL_BATCH = 256;
    /** How long the poller waits for the parse threads to free slots before it looks again. */
    private static final long FULL_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final SyscallEventSource source;
    private final Settings settings;
    private final Disruptor<SyscallEventSlot> disruptor;
    private final ParseShard[] shards;
    private final Thread poller;
    private final AtomicLong eventsIn = new AtomicLong();
    private final AtomicLong droppedRingFull = new AtomicLong();
    private final AtomicLong fullWaits = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private volatile boolean running;
    /** Set once stopped: the tracer may be closed after that, so its counters are read no more. */
    private volatile boolean stopped;
    private volatile long lostInKernelAtStop;
    private volatile long staleSocketsAtStop;
    private volatile long tracerMalformedAtStop;
    private RingBuffer<SyscallEventSlot> ring;

    /**
     * Pipeline sizes and strategies; see {@code deploy/agent.yaml} (pipeline.*). The ring slots and
     * wait strategy apply only with more than one shard.
     */
    public record Settings(int ringSlots, int payloadCapBytes, int shards, int pollBatch, String waitStrategy,
            long tickIntervalNanos) {
        public Settings {
            if (Integer.bitCount(ringSlots) != 1) {
                throw new IllegalArgumentException("pipeline ring slots must be a power of two: " + ringSlots);
            }
            if (shards < 1) {
                throw new IllegalArgumentException("pipeline shards must be >= 1: " + shards);
            }
        }

        /** 64K slots, 1 KiB payload, one shard per spare core, 100 ms ticks. */
        public static Settings defaults() {
            return new Settings(1 << 16, 1024, 1, POLL_BATCH, "blocking", TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    /**
     * @param engines makes one protocol engine per shard
     * @param sinks   makes one sink per shard, called on that shard's thread only; it must not
     *                block (the OTLP sender's queues do not)
     */
    public SyscallPipeline(SocketTracer tracer, Settings settings, Supplier<ProtocolEngine> engines,
            Supplier<RequestLogSink> sinks, IntConsumer onExec, IntConsumer onExit) {
        this(SyscallEventSource.of(tracer), settings, engines, sinks, onExec, onExit);
    }

    /** The same pipeline over any event source (a replay, the bench's lab). */
    public SyscallPipeline(SyscallEventSource source, Settings settings, Supplier<ProtocolEngine> engines,
            Supplier<RequestLogSink> sinks, IntConsumer onExec, IntConsumer onExit) {
        this.source = source;
        this.settings = settings;
        shards = new ParseShard[settings.shards()];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new ParseShard(i, shards.length, engines.get(), sinks.get(), settings.tickIntervalNanos(),
                    onExec, onExit);
        }
        if (shards.length == 1) {
            // One shard parses on the poller thread, straight from the kernel ring: see pollAndParseLoop.
            disruptor = null;
            poller = new Thread(this::pollAndParseLoop, "periscope-ebpf-poller");
            poller.setDaemon(true);
            return;
        }
        AtomicInteger threadNumber = new AtomicInteger();
        disruptor = new Disruptor<>(() -> new SyscallEventSlot(settings.payloadCapBytes()), settings.ringSlots(),
                r -> {
                    Thread t = new Thread(r, "periscope-parse-" + threadNumber.getAndIncrement());
                    t.setDaemon(true);
                    return t;
                },
                ProducerType.SINGLE, waitStrategy(settings.waitStrategy()));
        disruptor.handleEventsWith(shards);
        poller = new Thread(this::pollLoop, "periscope-ebpf-poller");
        poller.setDaemon(true);
    }

    static WaitStrategy waitStrategy(String name) {
        switch (name) {
            case "blocking":
                return new LiteTimeoutBlockingWaitStrategy(AWAIT_MILLIS, TimeUnit.MILLISECONDS);
            case "sleeping":
                return new SleepingWaitStrategy();
            case "yielding":
                return new YieldingWaitStrategy();
            case "busy-spin":
                return new BusySpinWaitStrategy();
            default:
                throw new IllegalArgumentException("unknown pipeline wait strategy '" + name
                        + "'; use blocking, sleeping, yielding or busy-spin");
        }
    }

    /** Starts the parse threads and the poller. */
    public void start() {
        if (disruptor != null) {
            ring = disruptor.start();
        }
        running = true;
        poller.start();
    }

    private void pollLoop() {
        RingBuffer<SyscallEventSlot> target = ring;
        SocketEventHandler copier = event -> {
            long sequence;
            try {
                sequence = target.tryNext();
            } catch (InsufficientCapacityException e) {
                droppedRingFull.lazySet(droppedRingFull.get() + 1);
                return;
            }
            try {
                if (!target.get(sequence).copyFrom(event)) {
                    malformed.lazySet(malformed.get() + 1);
                }
            } finally {
                target.publish(sequence);
            }
        };
        try {
            while (running) {
                int room = (int) Math.min(settings.pollBatch(), target.remainingCapacity());
                if (room == 0) {
                    fullWaits.lazySet(fullWaits.get() + 1);
                    LockSupport.parkNanos(FULL_WAIT_NANOS);
                    continue;
                }
                int n = source.poll(copier, room);
                if (n > 0) {
                    eventsIn.lazySet(eventsIn.get() + n);
                } else {
                    source.await(POLL_AWAIT_MILLIS);
                }
            }
        } catch (RuntimeException e) {
            LOG.error("eBPF poller stopped: {}", e.toString(), e);
        }
    }

    /**
     * The poller with one shard: each event is parsed where the kernel wrote it, on this thread,
     * before the ring space is released. No copy into a Disruptor slot, no hand-off to a parse
     * thread and no wake-up of one (in bench B these were a third of the agent's CPU outside the
     * parser). The kernel ring is then the only buffer: at the default 8 MiB it holds several
     * times what the Disruptor's slots did, and what overflows it is counted as lost in the
     * kernel.
     */
    private void pollAndParseLoop() {
        ParseShard shard = shards[0];
        int payloadCapBytes = settings.payloadCapBytes();
        SocketEventHandler parser = event -> {
            if (event.isWellFormed()) {
                shard.onSocketEvent(event, payloadCapBytes);
            } else {
                malformed.lazySet(malformed.get() + 1);
            }
        };
        try {
            while (running) {
                int n = source.poll(parser, settings.pollBatch());
                if (n > 0) {
                    eventsIn.lazySet(eventsIn.get() + n);
                } else {
                    source.await(POLL_AWAIT_MILLIS);
                }
                shard.endOfBatch(System.nanoTime());
            }
        } catch (RuntimeException e) {
            LOG.error("eBPF poller stopped: {}", e.toString(), e);
        }
    }

    /** Records read from the kernel ring. */
    public long eventsIn() {
        return eventsIn.get();
    }

    /**
     * Events dropped because every parse slot was full: never expected, since the poller takes no
     * more records than there are free slots (it waits instead, see {@link #parseRingFullWaits()}).
     */
    public long droppedRingFull() {
        return droppedRingFull.get();
    }

    /** Times the poller found every parse slot taken and left the records in the kernel ring a while. */
    public long parseRingFullWaits() {
        return fullWaits.get();
    }

    /** Records whose header did not fit their length (never expected). */
    public long malformed() {
        return malformed.get() + (stopped ? tracerMalformedAtStop : source.malformedEvents());
    }

    /** Events the kernel could not queue because its ring was full (as of the stop, once stopped). */
    public long lostInKernel() {
        return stopped ? lostInKernelAtStop : source.lostEvents();
    }

    /** Sockets the kernel found ended without a traced close when a new one took their place. */
    public long staleSocketEntries() {
        return stopped ? staleSocketsAtStop : source.staleSocketEntries();
    }

    /** The engines of each shard, for counters. */
    public ProtocolEngine engine(int shard) {
        return shards[shard].engine();
    }

    public int shardCount() {
        return shards.length;
    }

    /** Every shard parses with {@code config} from its next batch (see {@link ParseShard#reconfigure}). */
    public void reconfigure(ProtocolConfig config) {
        for (ParseShard shard : shards) {
            shard.reconfigure(config);
        }
    }

    /** Requests awaiting a response that were dropped when the parse configuration changed. */
    public long pendingDroppedOnReconfigure() {
        long sum = 0;
        for (ParseShard shard : shards) {
            sum += shard.pendingDroppedOnReconfigure();
        }
        return sum;
    }

    /**
     * Stops polling, lets the shards finish what is already in the ring (up to
     * {@code drainMillis}), and halts them. The tracer is the caller's to close.
     *
     * @return true if the ring drained in time
     */
    public boolean stop(long drainMillis) {
        running = false;
        try {
            poller.join(drainMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!stopped) {
            lostInKernelAtStop = source.lostEvents();
            staleSocketsAtStop = source.staleSocketEntries();
            tracerMalformedAtStop = source.malformedEvents();
            stopped = true;
        }
        if (ring == null) {
            // Not started, or one shard parsing on the poller: nothing is queued past the poller.
            return true;
        }
        try {
            disruptor.shutdown(drainMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            LOG.warn("parse shards did not drain within {} ms; halting with events still queued", drainMillis);
            disruptor.halt();
            return false;
        }
    }

    @Override
    public void close() {
        stop(1_000);
    }
}
