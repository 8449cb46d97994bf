package io.periscope.bench.ebpf;

import io.periscope.ebpf.ringbuf.RecordHandler;
import io.periscope.ebpf.ringbuf.RingBufferReader;
import io.periscope.ebpf.tracer.SocketEvent;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/**
 * Ring buffer reader throughput on one thread over synthetic memory laid out like the kernel's
 * BPF ring: each invocation rewinds consumer_pos (one store) and reads a ring full of committed
 * records.
 * Score is records per second ({@link #RECORDS} operations per invocation).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RingBufferReaderBenchmark {
    private static final int RING_BYTES = 1 << 23;
    /** Records per invocation for 64 B; {@link #setUp()} checks the ring holds them at every size. */
    static final int RECORDS = 4096;

    /** Record payload size in bytes (64 B: small request; 1 KiB: default payload_bytes event). */
    @Param({"64", "1024"})
    public int recordBytes;

    private UnsafeBuffer consumer;
    private RingBufferReader reader;
    private long checksum;
    private final SocketEvent event = new SocketEvent();
    private final RecordHandler sumLengths = this::onRecord;
    private final RecordHandler viaFlyweight = this::onEventRecord;

    @Setup(Level.Trial)
    public void setUp() {
        consumer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        UnsafeBuffer producer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        UnsafeBuffer data = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2 * RING_BYTES, 4096));
        int stride = (recordBytes + RingBufferReader.HEADER_BYTES + 7) & ~7;
        if ((long) stride * RECORDS > RING_BYTES) {
            throw new IllegalStateException("ring too small for " + RECORDS + " records of " + recordBytes);
        }
        long pos = 0;
        for (int i = 0; i < RECORDS; i++) {
            int at = (int) pos;
            data.putInt(at, recordBytes);
            // A plausible socket event header so the flyweight path reads real fields.
            data.putShort(at + 8 + SocketEvent.KIND_OFFSET, (short) SocketEvent.KIND_DATA);
            data.putInt(at + 8 + SocketEvent.TGID_OFFSET, 1000 + i);
            data.putInt(at + 8 + SocketEvent.PAYLOAD_LENGTH_OFFSET,
                    Math.max(0, recordBytes - SocketEvent.HEADER_BYTES));
            pos += stride;
        }
        producer.putLongVolatile(0, pos);
        reader = new RingBufferReader(consumer, producer, data, RING_BYTES);
    }

    private void onRecord(DirectBuffer buffer, int offset, int length) {
        checksum += length + buffer.getByte(offset);
    }

    private void onEventRecord(DirectBuffer buffer, int offset, int length) {
        event.wrap(buffer, offset, length);
        onEvent(event);
    }

    private void onEvent(SocketEvent e) {
        checksum += e.pid() + e.kind() + e.payloadLength();
    }

    /** Raw records: header protocol, handler call, one byte read. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long pollRecords() {
        consumer.putLong(0, 0);
        int n = reader.poll(sumLengths, Integer.MAX_VALUE);
        if (n != RECORDS) {
            throw new IllegalStateException("read " + n);
        }
        return checksum;
    }

    /** As the tracer does it: wrap a SocketEvent flyweight and read three fields per record. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long pollSocketEvents() {
        consumer.putLong(0, 0);
        int n = reader.poll(viaFlyweight, Integer.MAX_VALUE);
        if (n != RECORDS) {
            throw new IllegalStateException("read " + n);
        }
        return checksum;
    }
}
