package io.periscope.ebpf.packet;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** The libc calls the packet source needs, for setup only (never per packet). */
interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int AF_PACKET = 17;
    int SOCK_RAW = 3;
    int SOCK_CLOEXEC = 0x80000;
    int ETH_P_ALL = 0x0003;
    int SOL_SOCKET = 1;
    int SO_ATTACH_FILTER = 26;
    int SO_LOCK_FILTER = 44;
    int SOL_PACKET = 263;
    int PACKET_RX_RING = 5;
    int PACKET_STATISTICS = 6;
    int PACKET_VERSION = 10;
    int PACKET_FANOUT = 18;
    int TPACKET_V3 = 2;
    int PACKET_FANOUT_HASH = 0;
    int PACKET_FANOUT_LB = 1;
    int PACKET_FANOUT_CPU = 2;
    int PACKET_FANOUT_CBPF = 6;
    int PACKET_FANOUT_DATA = 22;
    /** Fanout flag: the kernel picks an unused group id (read back with getsockopt(PACKET_FANOUT)). */
    int PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;
    int PROT_READ = 1;
    int PROT_WRITE = 2;
    int MAP_SHARED = 1;
    int POLLIN = 1;
    int POLLERR = 8;
    int EINTR = 4;

    int socket(int domain, int type, int protocol);

    int setsockopt(int fd, int level, int optname, Pointer optval, int optlen);

    int getsockopt(int fd, int level, int optname, Pointer optval, Pointer optlen);

    int bind(int fd, Pointer addr, int addrlen);

    Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

    int munmap(Pointer addr, long length);

    int poll(Pointer fds, long nfds, int timeoutMillis);

    int close(int fd);

    String strerror(int errnum);

    /** "what failed: strerror(errno) (errno N)" for the calling thread's last error. */
    static String lastError(String what) {
        int errno = Native.getLastError();
        return what + ": " + INSTANCE.strerror(errno) + " (errno " + errno + ")";
    }
}
