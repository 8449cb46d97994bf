package io.periscope.core.pipeline;

import io.periscope.ebpf.tracer.SocketEvent;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * A pre-allocated Disruptor slot holding a copy of one socket tracer record (header and payload,
 * the payload capped at the configured size), so the kernel ring is released at once and the
 * parse shards read the copy at their own pace.
 */
final class SyscallEventSlot {
    private final UnsafeBuffer buffer;
    private final SocketEvent event = new SocketEvent();
    private int length;
    private boolean valid;

    SyscallEventSlot(int payloadCapBytes) {
        buffer = new UnsafeBuffer(new byte[SocketEvent.HEADER_BYTES + payloadCapBytes]);
    }

    /** Copies the record {@code source} wraps; returns false (nothing copied) if it is malformed. */
    boolean copyFrom(SocketEvent source) {
        if (!source.isWellFormed()) {
            valid = false;
            return false;
        }
        int copyBytes = Math.min(source.length(), buffer.capacity());
        buffer.putBytes(0, source.buffer(), source.offset(), copyBytes);
        length = copyBytes;
        // A payload cut by our cap keeps its true length in returnBytes(); the header's payload
        // length must shrink to what was copied so the flyweight stays within the slot.
        int keptPayload = copyBytes - SocketEvent.HEADER_BYTES;
        if (source.payloadLength() > keptPayload) {
            buffer.putInt(SocketEvent.PAYLOAD_LENGTH_OFFSET, Math.max(0, keptPayload), ByteOrder.LITTLE_ENDIAN);
        }
        event.wrap(buffer, 0, length);
        valid = true;
        return true;
    }

    /** Whether the slot holds a well-formed record (handlers skip it otherwise). */
    boolean valid() {
        return valid;
    }

    /** The copied record, as a flyweight valid until the slot is reused. */
    SocketEvent event() {
        return event;
    }
}
