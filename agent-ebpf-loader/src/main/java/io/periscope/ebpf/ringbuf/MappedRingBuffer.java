package io.periscope.ebpf.ringbuf;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.periscope.ebpf.internal.LibC;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A BPF ring buffer map mmapped into this process (consumer page read-write; producer page and
 * the data read-only) with an epoll fd to sleep on when it is drained. The data is mapped once,
 * not twice as libbpf does: the kernel populates every page of the mapping at mmap time, so the
 * second copy would add the ring's whole size to the agent's RSS for the rare record that wraps
 * (the reader copies those). The native
 * glue around the pure-Java {@link RingBufferReader}: JNA is called here at setup and per wait,
 * never per record.
 */
public final class MappedRingBuffer implements AutoCloseable {
    private final int pageBytes;
    private final int capacity;
    private Pointer consumerPage;
    private Pointer producerArea;
    private final RingBufferReader reader;
    private int epollFd = -1;
    private final Memory epollEvents = new Memory(LibC.EPOLL_EVENT_BYTES);

    private MappedRingBuffer(int mapFd, int capacity) {
        LibC.ensureAvailable();
        this.pageBytes = LibC.pageSize();
        this.capacity = capacity;
        consumerPage = LibC.mmap(null, pageBytes, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, mapFd, 0);
        if (LibC.mapFailed(consumerPage)) {
            consumerPage = null;
            throw new IllegalStateException("cannot mmap the ring buffer's consumer page (map fd " + mapFd + "): "
                    + LibC.lastError() + "; the fd must be a BPF_MAP_TYPE_RINGBUF map (kernel >= 5.8)");
        }
        long producerBytes = mappedBytes();
        producerArea = LibC.mmap(null, producerBytes, LibC.PROT_READ, LibC.MAP_SHARED, mapFd, pageBytes);
        if (LibC.mapFailed(producerArea)) {
            producerArea = null;
            String why = LibC.lastError();
            close();
            throw new IllegalStateException("cannot mmap the ring buffer's data (" + producerBytes + " bytes, map fd "
                    + mapFd + "): " + why);
        }
        epollFd = LibC.epollCreate1(LibC.EPOLL_CLOEXEC);
        if (epollFd < 0) {
            String why = LibC.lastError();
            close();
            throw new IllegalStateException("epoll_create1 failed: " + why);
        }
        Memory event = new Memory(LibC.EPOLL_EVENT_BYTES);
        event.clear();
        event.setInt(0, LibC.EPOLLIN);
        if (LibC.epollCtl(epollFd, LibC.EPOLL_CTL_ADD, mapFd, event) != 0) {
            String why = LibC.lastError();
            close();
            throw new IllegalStateException("epoll_ctl on ring buffer map fd " + mapFd + " failed: " + why);
        }
        long prodAddress = Pointer.nativeValue(producerArea);
        reader = new RingBufferReader(
                new UnsafeBuffer(Pointer.nativeValue(consumerPage), pageBytes),
                new UnsafeBuffer(prodAddress, pageBytes),
                new UnsafeBuffer(prodAddress + pageBytes, capacity),
                capacity);
    }

    /**
     * Maps the ring buffer map behind {@code mapFd}.
     *
     * @param capacity the map's max_entries (bytes)
     */
    public static MappedRingBuffer map(int mapFd, int capacity) {
        if (Integer.bitCount(capacity) != 1 || capacity > (1 << 30)) {
            throw new IllegalArgumentException("ring capacity must be a power of two <= 1 GiB, got " + capacity);
        }
        return new MappedRingBuffer(mapFd, capacity);
    }

    /** The reader over this mapping; it reads unmapped memory if used after {@link #close()}. */
    public RingBufferReader reader() {
        return reader;
    }

    /** Shorthand for {@code reader().poll(handler, limit)}; throws once closed (the memory is gone). */
    public int poll(RecordHandler handler, int limit) {
        ensureMapped();
        return reader.poll(handler, limit);
    }

    private void ensureMapped() {
        if (producerArea == null) {
            throw new IllegalStateException("ring buffer is closed (unmapped)");
        }
    }

    /**
     * Sleeps until the kernel signals new data or {@code timeoutMillis} passes; returns at once if
     * data is pending. Call it only after {@link #poll} returned 0.
     *
     * @return true if data may be available
     */
    public boolean await(int timeoutMillis) {
        ensureMapped();
        if (reader.pendingBytes() > 0) {
            return true;
        }
        int n = LibC.epollWait(epollFd, epollEvents, 1, timeoutMillis);
        return n > 0 || reader.pendingBytes() > 0;
    }

    private long mappedBytes() {
        return pageBytes + (long) capacity;
    }

    /** The ring size in bytes. */
    public int capacity() {
        return capacity;
    }

    /** Unmaps and closes the epoll fd; the reader must not be used afterwards. Idempotent. */
    @Override
    public void close() {
        if (epollFd >= 0) {
            LibC.close(epollFd);
            epollFd = -1;
        }
        if (producerArea != null) {
            LibC.munmap(producerArea, mappedBytes());
            producerArea = null;
        }
        if (consumerPage != null) {
            LibC.munmap(consumerPage, pageBytes);
            consumerPage = null;
        }
    }
}
