package io.periscope.ebpf.packet;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The classic BPF program for {@link PacketRingConfig#FANOUT_SYMMETRIC}: XOR of the source and
 * destination addresses (IPv4, or the eight 32-bit words of IPv6 addresses), XOR the TCP/UDP
 * ports (IPv4 with a 20-byte header; IPv6 without extension headers), then mixed; 0 for other
 * packets. XOR makes it the same for both directions; the kernel takes it modulo the number of
 * readers. Offsets are relative to the network header (SKF_NET_OFF), which works both for
 * received packets (data at the network header) and sent ones (data at the link header).
 */
final class SymmetricFanoutProgram {
    private static final int NET = 0xFFF00000; // SKF_NET_OFF
    private static final int LD_B_ABS = 0x30;
    private static final int LD_H_ABS = 0x28;
    private static final int LD_W_ABS = 0x20;
    private static final int LD_MEM = 0x60;
    private static final int ST = 0x02;
    private static final int ALU_RSH_K = 0x74;
    private static final int ALU_AND_K = 0x54;
    private static final int ALU_XOR_X = 0xAC;
    private static final int ALU_MUL_K = 0x24;
    private static final int JEQ_K = 0x15;
    private static final int JA = 0x05;
    private static final int TAX = 0x07;
    private static final int RET_A = 0x16;
    private static final int RET_K = 0x06;
    private static final int PROTO_TCP = 6;
    private static final int PROTO_UDP = 17;

    /** A tiny assembler: forward jumps to labels, resolved when the program is built. */
    private static final class Asm {
        private final List<Object[]> code = new ArrayList<>();
        private final Map<String, Integer> labels = new HashMap<>();

        Asm op(int opcode, int k) {
            code.add(new Object[] {opcode, null, null, k});
            return this;
        }

        Asm jeq(int k, String ifTrue, String ifFalse) {
            code.add(new Object[] {JEQ_K, ifTrue, ifFalse, k});
            return this;
        }

        Asm ja(String target) {
            code.add(new Object[] {JA, null, null, target});
            return this;
        }

        Asm label(String name) {
            labels.put(name, code.size());
            return this;
        }

        private int offset(Object target, int from) {
            if (target == null) {
                return 0;
            }
            int off = labels.get((String) target) - from - 1;
            if (off < 0) {
                throw new IllegalStateException("backward jump to " + target);
            }
            return off;
        }

        byte[] build() {
            ByteBuffer b = ByteBuffer.allocate(code.size() * PacketFilter.INSN_BYTES).order(ByteOrder.nativeOrder());
            for (int i = 0; i < code.size(); i++) {
                Object[] insn = code.get(i);
                int opcode = (Integer) insn[0];
                int jt = offset(insn[1], i);
                int jf = offset(insn[2], i);
                int k = insn[3] instanceof String ? offset(insn[3], i) : (Integer) insn[3];
                if (jt > 255 || jf > 255) {
                    throw new IllegalStateException("conditional jump too long at " + i);
                }
                b.putShort((short) opcode).put((byte) jt).put((byte) jf).putInt(k);
            }
            return b.array();
        }
    }

    private SymmetricFanoutProgram() {
    }

    static byte[] instructions() {
        Asm a = new Asm();
        a.op(LD_B_ABS, NET).op(ALU_RSH_K, 4).jeq(4, null, "v6");
        // IPv4: M[0] = saddr ^ daddr
        a.op(LD_W_ABS, NET + 12).op(ST, 0).op(LD_W_ABS, NET + 16).op(TAX, 0).op(LD_MEM, 0).op(ALU_XOR_X, 0)
                .op(ST, 0);
        a.op(LD_B_ABS, NET).op(ALU_AND_K, 0xF).jeq(5, null, "mix");
        a.op(LD_B_ABS, NET + 9).jeq(PROTO_TCP, "v4ports", null).jeq(PROTO_UDP, null, "mix");
        a.label("v4ports").op(LD_H_ABS, NET + 20).op(TAX, 0).op(LD_H_ABS, NET + 22).op(ALU_XOR_X, 0).op(TAX, 0)
                .op(LD_MEM, 0).op(ALU_XOR_X, 0).op(ST, 0).ja("mix");
        // IPv6: M[0] = XOR of the 8 address words
        a.label("v6").jeq(6, null, "other");
        a.op(LD_W_ABS, NET + 8);
        for (int word = 1; word < 8; word++) {
            a.op(TAX, 0).op(LD_W_ABS, NET + 8 + 4 * word).op(ALU_XOR_X, 0);
        }
        a.op(ST, 0);
        a.op(LD_B_ABS, NET + 6).jeq(PROTO_TCP, "v6ports", null).jeq(PROTO_UDP, null, "mix");
        a.label("v6ports").op(LD_H_ABS, NET + 40).op(TAX, 0).op(LD_H_ABS, NET + 42).op(ALU_XOR_X, 0).op(TAX, 0)
                .op(LD_MEM, 0).op(ALU_XOR_X, 0).op(ST, 0);
        // Mix before the kernel's "% readers": connect() prefers even ports, so the low bits of a
        // plain XOR are all alike.
        a.label("mix").op(LD_MEM, 0).op(TAX, 0).op(ALU_RSH_K, 16).op(ALU_XOR_X, 0).op(ALU_MUL_K, 0x9E3779B1)
                .op(ALU_RSH_K, 16).op(RET_A, 0);
        a.label("other").op(RET_K, 0);
        return a.build();
    }
}
