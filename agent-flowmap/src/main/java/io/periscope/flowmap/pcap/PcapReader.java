package io.periscope.flowmap.pcap;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * A small reader of libpcap (.pcap, microsecond and nanosecond variants, both byte orders) and
 * pcapng (section header, interface description, enhanced and simple packet blocks) files: what
 * {@code periscope replay} and the tests read captures with. Reads the whole file into memory and
 * hands out packets in place; a malformed file is an IOException naming the file and offset.
 */
public final class PcapReader {
    /** Link type of Ethernet frames. */
    public static final int LINKTYPE_ETHERNET = 1;
    /** Link type of raw IP packets. */
    public static final int LINKTYPE_RAW = 101;

    private static final int PCAP_MAGIC_MICROS = 0xA1B2C3D4;
    private static final int PCAP_MAGIC_NANOS = 0xA1B23C4D;
    private static final int PCAPNG_SHB = 0x0A0D0D0A;
    private static final int PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    private static final int PCAPNG_IDB = 1;
    private static final int PCAPNG_SPB = 3;
    private static final int PCAPNG_EPB = 6;
    private static final int MAX_INTERFACES = 64;

    /** Receives packets in file order. */
    public interface Handler {
        void onPacket(UnsafeBuffer buffer, int offset, int capturedLength, int wireLength, long timestampNanos,
                      int linkType);
    }

    private PcapReader() {
    }

    /** Reads every packet of the file; returns the number of packets. */
    public static int read(Path file, Handler handler) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        if (bytes.length < 24) {
            throw new IOException(file + ": too short for a capture file header (" + bytes.length + " bytes)");
        }
        int magicLe = buffer.getInt(0, ByteOrder.LITTLE_ENDIAN);
        int magicBe = buffer.getInt(0, ByteOrder.BIG_ENDIAN);
        if (magicLe == PCAPNG_SHB) {
            return readPcapng(file, buffer, bytes.length, handler);
        }
        ByteOrder order;
        boolean nanos;
        if (magicLe == PCAP_MAGIC_MICROS || magicLe == PCAP_MAGIC_NANOS) {
            order = ByteOrder.LITTLE_ENDIAN;
            nanos = magicLe == PCAP_MAGIC_NANOS;
        } else if (magicBe == PCAP_MAGIC_MICROS || magicBe == PCAP_MAGIC_NANOS) {
            order = ByteOrder.BIG_ENDIAN;
            nanos = magicBe == PCAP_MAGIC_NANOS;
        } else {
            throw new IOException(file + ": not a pcap or pcapng file (magic " + Integer.toHexString(magicBe) + ")");
        }
        int linkType = buffer.getInt(20, order) & 0x0FFF_FFFF;
        int pos = 24;
        int count = 0;
        while (pos + 16 <= bytes.length) {
            long seconds = buffer.getInt(pos, order) & 0xFFFF_FFFFL;
            long fraction = buffer.getInt(pos + 4, order) & 0xFFFF_FFFFL;
            int captured = buffer.getInt(pos + 8, order);
            int wire = buffer.getInt(pos + 12, order);
            if (captured < 0 || pos + 16 + captured > bytes.length) {
                throw new IOException(file + ": record " + count + " at byte " + pos + " runs past the end");
            }
            long ts = seconds * 1_000_000_000L + (nanos ? fraction : fraction * 1_000L);
            handler.onPacket(buffer, pos + 16, captured, wire, ts, linkType);
            pos += 16 + captured;
            count++;
        }
        return count;
    }

    private static int readPcapng(Path file, UnsafeBuffer buffer, int length, Handler handler) throws IOException {
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        int[] linkTypes = new int[MAX_INTERFACES];
        long[] unitsPerSecond = new long[MAX_INTERFACES];
        int interfaces = 0;
        int pos = 0;
        int count = 0;
        while (pos + 12 <= length) {
            int type = buffer.getInt(pos, order);
            if (type == PCAPNG_SHB) {
                int bom = buffer.getInt(pos + 8, ByteOrder.LITTLE_ENDIAN);
                order = bom == PCAPNG_BYTE_ORDER_MAGIC ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
                interfaces = 0;
            }
            int blockLength = buffer.getInt(pos + 4, order);
            if (blockLength < 12 || pos + blockLength > length) {
                throw new IOException(file + ": pcapng block at byte " + pos + " has bad length " + blockLength);
            }
            if (type == PCAPNG_IDB && interfaces < MAX_INTERFACES) {
                linkTypes[interfaces] = buffer.getShort(pos + 8, order) & 0xFFFF;
                unitsPerSecond[interfaces] = tsResolution(buffer, pos + 16, pos + blockLength - 4, order);
                interfaces++;
            } else if (type == PCAPNG_EPB) {
                int iface = buffer.getInt(pos + 8, order);
                if (iface < 0 || iface >= interfaces) {
                    throw new IOException(file + ": packet block at byte " + pos + " names unknown interface " + iface);
                }
                long units = ((buffer.getInt(pos + 12, order) & 0xFFFF_FFFFL) << 32)
                        | (buffer.getInt(pos + 16, order) & 0xFFFF_FFFFL);
                int captured = buffer.getInt(pos + 20, order);
                int wire = buffer.getInt(pos + 24, order);
                long perSecond = unitsPerSecond[iface];
                long ts = (units / perSecond) * 1_000_000_000L + (units % perSecond) * 1_000_000_000L / perSecond;
                handler.onPacket(buffer, pos + 28, captured, wire, ts, linkTypes[iface]);
                count++;
            } else if (type == PCAPNG_SPB && interfaces > 0) {
                int wire = buffer.getInt(pos + 8, order);
                int captured = Math.min(wire, blockLength - 16);
                handler.onPacket(buffer, pos + 12, captured, wire, 0, linkTypes[0]);
                count++;
            }
            pos += blockLength;
        }
        return count;
    }

    /** The if_tsresol option of an interface block: units per second (default microseconds). */
    private static long tsResolution(UnsafeBuffer buffer, int pos, int end, ByteOrder order) {
        while (pos + 4 <= end) {
            int code = buffer.getShort(pos, order) & 0xFFFF;
            int len = buffer.getShort(pos + 2, order) & 0xFFFF;
            if (code == 0) {
                break;
            }
            if (code == 9 && len >= 1) {
                int v = buffer.getByte(pos + 4) & 0xFF;
                long units = 1;
                for (int i = 0; i < (v & 0x7F); i++) {
                    units *= (v & 0x80) != 0 ? 2 : 10;
                }
                return units;
            }
            pos += 4 + ((len + 3) & ~3);
        }
        return 1_000_000L;
    }
}
