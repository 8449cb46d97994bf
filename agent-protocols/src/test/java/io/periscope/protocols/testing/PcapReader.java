package io.periscope.protocols.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads libpcap (microsecond and nanosecond) and pcapng captures into a list of packets with
 * their link type. Test scope: small files, read whole.
 */
public final class PcapReader {
    private static final int PCAP_MAGIC_US = 0xa1b2c3d4;
    private static final int PCAP_MAGIC_NS = 0xa1b23c4d;
    private static final int PCAPNG_SHB = 0x0A0D0D0A;
    private static final int PCAPNG_IDB = 1;
    private static final int PCAPNG_SPB = 3;
    private static final int PCAPNG_EPB = 6;
    private static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;

    /** One captured frame. */
    public record Packet(long timestampNanos, int linkType, byte[] data, int originalLength) {
    }

    private PcapReader() {
    }

    public static List<Packet> read(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        if (b.remaining() < 24) {
            throw new IOException(file + ": too short for a capture file (" + b.remaining() + " bytes)");
        }
        b.order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt(0);
        if (magic == PCAPNG_SHB) {
            return readPcapng(b, file);
        }
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) {
            order = ByteOrder.BIG_ENDIAN;
            magic = Integer.reverseBytes(magic);
            if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) {
                throw new IOException(file + ": not a pcap or pcapng file (magic "
                        + Integer.toHexString(b.getInt(0)) + ")");
            }
        }
        b.order(order);
        boolean nanos = magic == PCAP_MAGIC_NS;
        int linkType = b.getInt(20) & 0x0FFFFFFF;
        List<Packet> out = new ArrayList<>();
        int pos = 24;
        while (pos + 16 <= b.limit()) {
            long sec = b.getInt(pos) & 0xFFFFFFFFL;
            long frac = b.getInt(pos + 4) & 0xFFFFFFFFL;
            int incl = b.getInt(pos + 8);
            int orig = b.getInt(pos + 12);
            pos += 16;
            if (incl < 0 || pos + incl > b.limit()) {
                break;
            }
            byte[] data = new byte[incl];
            b.get(pos, data);
            pos += incl;
            out.add(new Packet(sec * 1_000_000_000L + (nanos ? frac : frac * 1000), linkType, data, orig));
        }
        return out;
    }

    private static List<Packet> readPcapng(ByteBuffer b, Path file) throws IOException {
        List<Packet> out = new ArrayList<>();
        List<Integer> linkTypes = new ArrayList<>();
        List<Long> tsUnits = new ArrayList<>();
        int pos = 0;
        while (pos + 12 <= b.limit()) {
            int type = b.order(ByteOrder.LITTLE_ENDIAN).getInt(pos);
            if (type == PCAPNG_SHB) {
                int bom = b.getInt(pos + 8);
                b.order(bom == BYTE_ORDER_MAGIC ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
                linkTypes.clear();
                tsUnits.clear();
            } else {
                type = b.getInt(pos);
            }
            ByteOrder order = b.order();
            b.order(order);
            int len = b.getInt(pos + 4);
            if (len < 12 || pos + len > b.limit()) {
                throw new IOException(file + ": bad pcapng block length " + len + " at " + pos);
            }
            if (type == PCAPNG_IDB) {
                linkTypes.add(b.getShort(pos + 8) & 0xFFFF);
                tsUnits.add(idbTsUnitNanos(b, pos + 16, pos + len - 4));
            } else if (type == PCAPNG_EPB) {
                int iface = b.getInt(pos + 8);
                long ts = ((b.getInt(pos + 12) & 0xFFFFFFFFL) << 32) | (b.getInt(pos + 16) & 0xFFFFFFFFL);
                int capLen = b.getInt(pos + 20);
                int orig = b.getInt(pos + 24);
                byte[] data = new byte[capLen];
                b.get(pos + 28, data);
                long unit = iface < tsUnits.size() ? tsUnits.get(iface) : 1000;
                double nanos = unit > 0 ? ts * (double) unit : ts / (double) -unit;
                out.add(new Packet((long) nanos, iface < linkTypes.size() ? linkTypes.get(iface) : 1, data, orig));
            } else if (type == PCAPNG_SPB) {
                int orig = b.getInt(pos + 8);
                int capLen = Math.min(orig, len - 16);
                byte[] data = new byte[capLen];
                b.get(pos + 12, data);
                out.add(new Packet(0, linkTypes.isEmpty() ? 1 : linkTypes.get(0), data, orig));
            }
            pos += len;
        }
        return out;
    }

    /** if_tsresol option: nanoseconds per tick (positive) or ticks per nanosecond (negative). */
    private static long idbTsUnitNanos(ByteBuffer b, int pos, int end) {
        while (pos + 4 <= end) {
            int code = b.getShort(pos) & 0xFFFF;
            int len = b.getShort(pos + 2) & 0xFFFF;
            if (code == 0) {
                break;
            }
            if (code == 9 && len >= 1) {
                int v = b.get(pos + 4) & 0xFF;
                if ((v & 0x80) == 0) {
                    long ticksPerSecond = 1;
                    for (int i = 0; i < v; i++) {
                        ticksPerSecond *= 10;
                    }
                    return ticksPerSecond >= 1_000_000_000L ? -(ticksPerSecond / 1_000_000_000L)
                            : 1_000_000_000L / ticksPerSecond;
                }
                long ticks = 1L << (v & 0x7F);
                return ticks >= 1_000_000_000L ? -(ticks / 1_000_000_000L) : 1_000_000_000L / ticks;
            }
            pos += 4 + ((len + 3) & ~3);
        }
        return 1000;
    }
}
