package io.periscope.ebpf.ringbuf;

import org.agrona.DirectBuffer;

/** Receives one ring buffer record in place; the bytes are valid only during the call. */
@FunctionalInterface
public interface RecordHandler {
    /**
     * One committed record.
     *
     * @param buffer the ring's data area (do not keep it; copy what must outlive the call)
     * @param offset where the record's bytes start
     * @param length the record's length in bytes as the producer reserved it
     */
    void onRecord(DirectBuffer buffer, int offset, int length);
}
