package io.periscope.ebpf.packet;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * A classic BPF program compiled from a tcpdump filter expression by libpcap
 * ({@code pcap_compile} on a {@code pcap_open_dead} handle), ready for SO_ATTACH_FILTER. The
 * program's accept return value is the snap length, so the kernel copies only that many bytes
 * of each packet into the ring.
 */
public final class PacketFilter {
    /** Bytes of one {@code struct sock_filter} / {@code struct bpf_insn}: u16 code, u8 jt, u8 jf, u32 k. */
    static final int INSN_BYTES = 8;
    private static final Object LOCK = new Object();
    private static volatile LibPcap pcap;

    private final String expression;
    private final byte[] instructions;

    private PacketFilter(String expression, byte[] instructions) {
        this.expression = expression;
        this.instructions = instructions;
    }

    private static LibPcap pcap() {
        LibPcap p = pcap;
        if (p == null) {
            synchronized (LOCK) {
                if (pcap == null) {
                    pcap = LibPcap.load();
                }
                p = pcap;
            }
        }
        return p;
    }

    /**
     * Compiles a filter.
     *
     * @param expression tcpdump syntax ("" or null accepts everything)
     * @param linkType {@link CaptureInterface#DLT_EN10MB} for Ethernet and loopback, DLT_RAW for raw IP
     * @param snapLengthBytes bytes of each packet to capture
     * @throws IllegalArgumentException when libpcap rejects the expression (with its message)
     */
    public static PacketFilter compile(String expression, int linkType, int snapLengthBytes) {
        String expr = expression == null ? "" : expression;
        LibPcap lib = pcap();
        // pcap_compile is not thread-safe in older libpcap versions.
        synchronized (LOCK) {
            Pointer handle = lib.pcapOpenDead(linkType, snapLengthBytes);
            if (handle == null) {
                throw new IllegalStateException("pcap_open_dead(" + linkType + ", " + snapLengthBytes + ") failed");
            }
            try {
                // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; } (16 bytes on LP64)
                Memory program = new Memory(16);
                program.clear();
                if (lib.pcapCompile(handle, program, expr, 1, LibPcap.PCAP_NETMASK_UNKNOWN) != 0) {
                    throw new IllegalArgumentException("bad capture filter '" + expr + "': " + lib.pcapGeterr(handle));
                }
                try {
                    int count = program.getInt(0);
                    Pointer insns = program.getPointer(Native.POINTER_SIZE);
                    byte[] bytes = insns.getByteArray(0, count * INSN_BYTES);
                    return new PacketFilter(expr, bytes);
                } finally {
                    lib.pcapFreecode(program);
                }
            } finally {
                lib.pcapClose(handle);
            }
        }
    }

    /** The expression it was compiled from. */
    public String expression() {
        return expression;
    }

    /** Number of BPF instructions. */
    public int instructionCount() {
        return instructions.length / INSN_BYTES;
    }

    /** Attaches the program to a socket (SO_ATTACH_FILTER). */
    void attach(int fd) {
        setProgram(fd, LibC.SOL_SOCKET, LibC.SO_ATTACH_FILTER, instructions, "SO_ATTACH_FILTER '" + expression + "'");
    }

    static void setProgram(int fd, int level, int option, byte[] program, String what) {
        Memory insns = new Memory(program.length);
        insns.write(0, program, 0, program.length);
        // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (16 bytes on LP64)
        Memory fprog = new Memory(16);
        fprog.clear();
        fprog.setShort(0, (short) (program.length / INSN_BYTES));
        fprog.setPointer(Native.POINTER_SIZE, insns);
        if (LibC.INSTANCE.setsockopt(fd, level, option, fprog, 16) != 0) {
            throw new IllegalStateException(LibC.lastError("setsockopt(" + what + ")"));
        }
    }

    @Override
    public String toString() {
        return "PacketFilter{'" + expression + "', " + instructionCount() + " insns}";
    }
}
