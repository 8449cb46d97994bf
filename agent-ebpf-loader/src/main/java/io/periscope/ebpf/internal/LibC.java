package io.periscope.ebpf.internal;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** JNA direct mapping of the few libc calls the readers need at setup time (mmap, epoll, socket). */
public final class LibC {
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLLIN = 0x001;
    /** Size of {@code struct epoll_event} on x86_64 (packed: u32 events + u64 data). */
    public static final int EPOLL_EVENT_BYTES = 12;
    public static final int EINTR = 4;
    public static final int CLONE_NEWNET = 0x40000000;
    public static final int AF_PACKET = 17;
    public static final int SOCK_RAW = 3;
    /** htons(ETH_P_ALL). */
    public static final int ETH_P_ALL_BE = 0x0300;
    private static final int SC_PAGESIZE = 30;
    private static final long MAP_FAILED = -1L;

    private static final Throwable UNAVAILABILITY_CAUSE = NativeBinding.register(LibC.class, "c");

    private LibC() {
    }

    /** Throws when libc could not be bound (never expected on Linux). */
    public static void ensureAvailable() {
        if (UNAVAILABILITY_CAUSE != null) {
            throw new IllegalStateException("libc could not be bound through JNA: " + UNAVAILABILITY_CAUSE,
                    UNAVAILABILITY_CAUSE);
        }
    }

    @Symbol("mmap")
    public static native Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

    @Symbol("munmap")
    public static native int munmap(Pointer addr, long length);

    @Symbol("epoll_create1")
    public static native int epollCreate1(int flags);

    @Symbol("epoll_ctl")
    public static native int epollCtl(int epfd, int op, int fd, Pointer event);

    @Symbol("epoll_wait")
    public static native int epollWait(int epfd, Pointer events, int maxEvents, int timeoutMillis);

    @Symbol("close")
    public static native int close(int fd);

    @Symbol("socket")
    public static native int socket(int domain, int type, int protocol);

    @Symbol("if_nametoindex")
    public static native int ifNametoindex(String name);

    @Symbol("unshare")
    public static native int unshare(int flags);

    @Symbol("sysconf")
    public static native long sysconf(int name);

    @Symbol("vsnprintf")
    public static native int vsnprintf(byte[] buf, long size, String format, Pointer args);

    @Symbol("strerror")
    public static native String strerror(int errno);

    /** The system page size in bytes. */
    public static int pageSize() {
        return (int) sysconf(SC_PAGESIZE);
    }

    /** Whether an mmap result is MAP_FAILED. */
    public static boolean mapFailed(Pointer p) {
        return p == null || Pointer.nativeValue(p) == MAP_FAILED;
    }

    /** errno of the last native call on this thread, as text with its number. */
    public static String lastError() {
        int errno = Native.getLastError();
        return strerror(errno) + " (errno " + errno + ")";
    }
}
