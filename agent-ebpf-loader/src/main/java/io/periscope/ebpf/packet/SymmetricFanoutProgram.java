package io.periscope.ebpf.packet;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The classic BPF program for {@link PacketRingConfig#FANOUT_SYMMETRIC}: for IPv4 a mix of
 * {@code saddr ^ daddr}, XOR {@code sport ^ dport} for TCP/UDP with a 20-byte IP header; 0 for
 * anything else; the kernel takes it modulo the number of readers. XOR makes it
 * the same for both directions. Offsets are relative to the network header (SKF_NET_OFF), which
 * works both for received packets (data at the network header) and sent ones (data at the link
 * header).
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
    private static final int TAX = 0x07;
    private static final int RET_A = 0x16;
    private static final int RET_K = 0x06;

    private SymmetricFanoutProgram() {
    }

    static byte[] instructions() {
        int[][] p = {
            {LD_B_ABS, 0, 0, NET},          // 0: A = version/ihl
            {ALU_RSH_K, 0, 0, 4},           // 1: A >>= 4
            {JEQ_K, 0, 28, 4},              // 2: IPv4? else 31 (ret 0)
            {LD_W_ABS, 0, 0, NET + 12},     // 3: A = saddr
            {ST, 0, 0, 0},                  // 4: M[0] = A
            {LD_W_ABS, 0, 0, NET + 16},     // 5: A = daddr
            {TAX, 0, 0, 0},                 // 6: X = A
            {LD_MEM, 0, 0, 0},              // 7: A = M[0]
            {ALU_XOR_X, 0, 0, 0},           // 8: A ^= X
            {ST, 0, 0, 0},                  // 9: M[0] = A
            {LD_B_ABS, 0, 0, NET},          // 10: A = version/ihl
            {ALU_AND_K, 0, 0, 0xF},         // 11: A = ihl
            {JEQ_K, 0, 11, 5},              // 12: 20-byte header? else 24 (mix M[0])
            {LD_B_ABS, 0, 0, NET + 9},      // 13: A = protocol
            {JEQ_K, 1, 0, 6},               // 14: TCP -> 16
            {JEQ_K, 0, 8, 17},              // 15: UDP -> 16, else 24
            {LD_H_ABS, 0, 0, NET + 20},     // 16: A = sport
            {TAX, 0, 0, 0},                 // 17: X = A
            {LD_H_ABS, 0, 0, NET + 22},     // 18: A = dport
            {ALU_XOR_X, 0, 0, 0},           // 19: A ^= X
            {TAX, 0, 0, 0},                 // 20: X = A
            {LD_MEM, 0, 0, 0},              // 21: A = M[0]
            {ALU_XOR_X, 0, 0, 0},           // 22: A ^= X
            {ST, 0, 0, 0},                  // 23: M[0] = A
            {LD_MEM, 0, 0, 0},              // 24: A = M[0]
            // Mix before the kernel's "% readers": connect() prefers even ports, so the low bits
            // of a plain XOR are all alike.
            {TAX, 0, 0, 0},                 // 25: X = A
            {ALU_RSH_K, 0, 0, 16},          // 26: A >>= 16
            {ALU_XOR_X, 0, 0, 0},           // 27: A ^= X
            {ALU_MUL_K, 0, 0, 0x9E3779B1},  // 28: A *= golden ratio
            {ALU_RSH_K, 0, 0, 16},          // 29: A >>= 16
            {RET_A, 0, 0, 0},               // 30: return A
            {RET_K, 0, 0, 0},               // 31: return 0
        };
        ByteBuffer b = ByteBuffer.allocate(p.length * PacketFilter.INSN_BYTES).order(ByteOrder.nativeOrder());
        for (int[] insn : p) {
            b.putShort((short) insn[0]).put((byte) insn[1]).put((byte) insn[2]).putInt(insn[3]);
        }
        return b.array();
    }
}
