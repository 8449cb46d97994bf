package io.periscope.flowmap;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Private anonymous memory from mmap(2): the kernel hands out zero pages on first touch, so a
 * mapping costs address space, not resident memory, until it is written (a zeroed
 * {@code allocateMemory} block is resident in full from the start). MAP_NORESERVE: the flow
 * table's budget is an upper bound, not a commitment to reserve swap for. Setup and close only.
 */
final class AnonymousMemory implements AutoCloseable {
    /** The libc calls used here (never per packet). */
    interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int PROT_READ = 1;
        int PROT_WRITE = 2;
        int MAP_PRIVATE = 0x02;
        int MAP_ANONYMOUS = 0x20;
        int MAP_NORESERVE = 0x4000;

        Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

        int munmap(Pointer addr, long length);
    }

    private final Pointer mapping;
    private final long bytes;
    private boolean closed;

    /**
     * Maps {@code bytes} of zero-filled memory.
     *
     * @throws IllegalStateException with errno when the kernel refuses (address space limit)
     */
    AnonymousMemory(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("mapping size must be positive, got " + bytes);
        }
        Pointer p = LibC.INSTANCE.mmap(null, bytes, LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
        if (p == null || Pointer.nativeValue(p) == -1L) {
            throw new IllegalStateException("mmap of " + bytes + " B of anonymous memory for the flow table failed: "
                    + "errno " + Native.getLastError());
        }
        this.mapping = p;
        this.bytes = bytes;
    }

    /** Start address of the mapping. */
    long address() {
        return Pointer.nativeValue(mapping);
    }

    /** Mapped bytes. */
    long bytes() {
        return bytes;
    }

    /** Unmaps; the memory must not be touched afterwards. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.INSTANCE.munmap(mapping, bytes);
        }
    }
}
