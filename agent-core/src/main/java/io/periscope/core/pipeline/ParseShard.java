package io.periscope.core.pipeline;

import com.lmax.disruptor.EventHandler;
import io.periscope.ebpf.tracer.SocketEvent;
import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.CapturedMessage;
import io.periscope.protocols.Direction;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLogSink;
import io.periscope.protocols.Role;
import org.agrona.DirectBuffer;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * One parse shard: sees every slot of the ring but handles only the connections whose socket id
 * hashes to it, so each connection's parser state lives on one thread with no locks. Owns its
 * {@link ProtocolEngine}; finished request logs go to the sink on this thread.
 */
final class ParseShard implements EventHandler<SyscallEventSlot> {
    private final int shardIndex;
    private final int shardCount;
    private final RequestLogSink sink;
    private final long tickIntervalNanos;
    private final IntConsumer onExec;
    private final IntConsumer onExit;
    private final CapturedMessage message = new CapturedMessage();
    private final AtomicLong pendingDroppedOnReconfigure = new AtomicLong();
    private volatile ProtocolConfig nextConfig;
    private volatile ProtocolEngine engine;
    private long lastTickNanos;

    ParseShard(int shardIndex, int shardCount, ProtocolEngine engine, RequestLogSink sink,
            long tickIntervalNanos, IntConsumer onExec, IntConsumer onExit) {
        this.shardIndex = shardIndex;
        this.shardCount = shardCount;
        this.engine = engine;
        this.sink = sink;
        this.tickIntervalNanos = tickIntervalNanos;
        this.onExec = onExec;
        this.onExit = onExit;
    }

    /** Which shard owns {@code socketId}: a mixed hash so sequential ids spread evenly. */
    static int shardOf(long socketId, int shardCount) {
        long h = socketId * 0x9E3779B97F4A7C15L;
        return (int) ((h >>> 33) % shardCount);
    }

    @Override
    public void onEvent(SyscallEventSlot slot, long sequence, boolean endOfBatch) {
        if (slot.valid()) {
            onSocketEvent(slot.event(), Integer.MAX_VALUE);
        }
        if (endOfBatch) {
            maybeTick(System.nanoTime());
        }
    }

    /**
     * Handles one well-formed event wherever it lies (a Disruptor slot's copy, or the kernel ring
     * itself when the poller parses), reading at most {@code payloadCapBytes} of its payload.
     */
    void onSocketEvent(SocketEvent event, int payloadCapBytes) {
        int kind = event.kind();
        if (kind == SocketEvent.KIND_EXEC || kind == SocketEvent.KIND_EXIT) {
            if (shardIndex == 0) {
                (kind == SocketEvent.KIND_EXEC ? onExec : onExit).accept(event.pid());
            }
        } else if (shardOf(event.socketId(), shardCount) == shardIndex) {
            if (kind == SocketEvent.KIND_DATA) {
                onData(event, payloadCapBytes);
            } else if (kind == SocketEvent.KIND_CLOSE) {
                engine.onConnectionClosed(event.socketId(), event.exitNanos(), sink);
            }
        }
    }

    /** The end of a batch of events, or a wait that found none: reconfigures and ticks when due. */
    void endOfBatch(long nowNanos) {
        maybeTick(nowNanos);
    }

    @Override
    public void onTimeout(long sequence) {
        maybeTick(System.nanoTime());
    }

    /**
     * Asks the shard to parse with {@code config} from its next batch on. The engine is rebuilt on
     * the shard's own thread; requests still awaiting their response are dropped and counted.
     */
    void reconfigure(ProtocolConfig config) {
        nextConfig = config;
    }

    private void applyPendingConfig() {
        ProtocolConfig config = nextConfig;
        if (config != null) {
            nextConfig = null;
            pendingDroppedOnReconfigure.addAndGet(engine.pendingCount());
            engine = new ProtocolEngine(config);
        }
    }

    private void maybeTick(long nowNanos) {
        applyPendingConfig();
        if (nowNanos - lastTickNanos >= tickIntervalNanos) {
            lastTickNanos = nowNanos;
            engine.onTimerTick(nowNanos, sink);
        }
    }

    private void onData(SocketEvent event, int payloadCapBytes) {
        CapturedMessage msg = message.clear();
        boolean ingress = event.direction() == SocketEvent.DIRECTION_INGRESS;
        DirectBuffer buffer = event.buffer();
        int base = event.offset();
        msg.socketId(event.socketId())
                .direction(ingress ? Direction.INGRESS : Direction.EGRESS)
                .role(role(event.role()))
                .captureSource(CaptureSource.SYSCALL)
                // Ingress bytes exist when the read returns; egress bytes leave when the write starts.
                .timestampNanos(ingress ? event.exitNanos() : event.enterNanos())
                .tcpSeq(event.l4Protocol() == SocketEvent.IPPROTO_TCP ? event.tcpSeq() : -1)
                .syscallTraceId(event.syscallTraceId())
                .pid(event.pid())
                .tid(event.tid())
                .fd(event.fd())
                .ipVersion(event.family() == SocketEvent.AF_INET6 ? 6 : 4)
                .localPort(event.localPort())
                .remotePort(event.remotePort())
                .l4Protocol(event.l4Protocol())
                .payload(buffer, event.payloadOffset(), Math.min(event.payloadLength(), payloadCapBytes),
                        Math.max(0, event.returnBytes()));
        int addrBytes = event.family() == SocketEvent.AF_INET6 ? SocketEvent.ADDR_BYTES : 4;
        buffer.getBytes(base + SocketEvent.LOCAL_ADDR_OFFSET, msg.localAddress(), 0, addrBytes);
        buffer.getBytes(base + SocketEvent.REMOTE_ADDR_OFFSET, msg.remoteAddress(), 0, addrBytes);
        int commLength = 0;
        int commStart = base + SocketEvent.COMM_OFFSET;
        while (commLength < SocketEvent.COMM_BYTES && buffer.getByte(commStart + commLength) != 0) {
            commLength++;
        }
        msg.comm().set(buffer, commStart, commLength);
        engine.onMessage(msg, sink);
    }

    private static Role role(int kernelRole) {
        switch (kernelRole) {
            case SocketEvent.ROLE_CLIENT:
                return Role.CLIENT;
            case SocketEvent.ROLE_SERVER:
                return Role.SERVER;
            default:
                return Role.UNKNOWN;
        }
    }

    ProtocolEngine engine() {
        return engine;
    }

    long pendingDroppedOnReconfigure() {
        return pendingDroppedOnReconfigure.get();
    }
}
