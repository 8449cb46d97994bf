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
    /** Classic BPF opcodes (linux/filter.h) used by {@link #onlyHardwareTypes}. */
    static final int BPF_LD_W_ABS = 0x20;
    static final int BPF_JMP_JEQ_K = 0x15;
    static final int BPF_RET_K = 0x06;
    /** SKF_AD_OFF + SKF_AD_HATYPE: the ancillary load of the device's hardware type. */
    static final int SKF_AD_OFF = -0x1000;
    static final int SKF_AD_HATYPE = 28;
    private static final int MAX_HARDWARE_TYPES = 8;
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

    /**
     * This filter preceded by a check of the packet's interface hardware type (the kernel's
     * SKF_AD_HATYPE ancillary load): packets from interfaces of other types are dropped before
     * the expression runs. For a socket bound to every interface, whose frames must all start
     * the way the expression was compiled for.
     *
     * @param arpHardwareTypes ARPHRD_* values to keep (1 Ethernet, 772 loopback), at least one
     */
    public PacketFilter onlyHardwareTypes(int... arpHardwareTypes) {
        int n = arpHardwareTypes.length;
        if (n == 0 || n > MAX_HARDWARE_TYPES) {
            throw new IllegalArgumentException("between 1 and " + MAX_HARDWARE_TYPES + " hardware types, got " + n);
        }
        // ld [hatype]; then per type: jeq #type -> the expression (jt skips the remaining checks
        // and the drop), else the next check; the last check falls through to "ret #0" (drop).
        // Relative jumps only, so the expression's own jumps need no relocation.
        byte[] out = new byte[(n + 2) * INSN_BYTES + instructions.length];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(out).order(java.nio.ByteOrder.nativeOrder());
        putInsn(b, BPF_LD_W_ABS, 0, 0, SKF_AD_OFF + SKF_AD_HATYPE);
        for (int i = 0; i < n; i++) {
            int toExpression = n - i;
            putInsn(b, BPF_JMP_JEQ_K, toExpression, 0, arpHardwareTypes[i]);
        }
        putInsn(b, BPF_RET_K, 0, 0, 0);
        b.put(instructions);
        return new PacketFilter(expression, out);
    }

    private static void putInsn(java.nio.ByteBuffer b, int code, int jt, int jf, int k) {
        b.putShort((short) code).put((byte) jt).put((byte) jf).putInt(k);
    }

    /** The program's bytes (struct sock_filter array, host order), for tests. */
    byte[] instructions() {
        return instructions.clone();
    }

    /** Attaches the program to a socket (SO_ATTACH_FILTER). */
    void attach(int fd) {
        setProgram(fd, LibC.SOL_SOCKET, LibC.SO_ATTACH_FILTER, instructions, "SO_ATTACH_FILTER '" + expression + "'");
    }

    /** A one-instruction classic BPF program returning {@code value} ("ret #value"). */
    static byte[] returning(int value) {
        byte[] out = new byte[INSN_BYTES];
        putInsn(java.nio.ByteBuffer.wrap(out).order(java.nio.ByteOrder.nativeOrder()), BPF_RET_K, 0, 0, value);
        return out;
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
