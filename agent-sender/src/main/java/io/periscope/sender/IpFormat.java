package io.periscope.sender;

/** Formats IP addresses as text into a byte array without allocating (RFC 5952 for IPv6). */
final class IpFormat {
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private IpFormat() {
    }

    /**
     * Writes the address at {@code dst[offset]} and returns the number of bytes written.
     * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what dual-stack sockets report) print as IPv4.
     */
    static int format(int ipVersion, byte[] addr, byte[] dst, int offset) {
        if (ipVersion == 4) {
            return v4(addr, 0, dst, offset);
        }
        if (ipVersion != 6) {
            return 0;
        }
        boolean mapped = true;
        for (int i = 0; i < 10; i++) {
            mapped &= addr[i] == 0;
        }
        if (mapped && addr[10] == (byte) 0xff && addr[11] == (byte) 0xff) {
            return v4(addr, 12, dst, offset);
        }
        return v6(addr, dst, offset);
    }

    private static int v4(byte[] addr, int from, byte[] dst, int offset) {
        int n = offset;
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                dst[n++] = '.';
            }
            int v = addr[from + i] & 0xff;
            if (v >= 100) {
                dst[n++] = (byte) ('0' + v / 100);
            }
            if (v >= 10) {
                dst[n++] = (byte) ('0' + (v / 10) % 10);
            }
            dst[n++] = (byte) ('0' + v % 10);
        }
        return n - offset;
    }

    private static int v6(byte[] addr, byte[] dst, int offset) {
        // The longest run of two or more zero groups is shortened to "::" (first one on ties).
        int bestStart = -1;
        int bestLen = 0;
        int runStart = -1;
        for (int g = 0; g <= 8; g++) {
            boolean zero = g < 8 && addr[2 * g] == 0 && addr[2 * g + 1] == 0;
            if (zero && runStart < 0) {
                runStart = g;
            } else if (!zero && runStart >= 0) {
                int len = g - runStart;
                if (len > bestLen && len >= 2) {
                    bestStart = runStart;
                    bestLen = len;
                }
                runStart = -1;
            }
        }
        int n = offset;
        for (int g = 0; g < 8; g++) {
            if (g == bestStart) {
                dst[n++] = ':';
                if (g == 0) {
                    dst[n++] = ':';
                }
                g += bestLen - 1;
                continue;
            }
            if (g > 0) {
                dst[n++] = ':';
            }
            int v = ((addr[2 * g] & 0xff) << 8) | (addr[2 * g + 1] & 0xff);
            boolean started = false;
            for (int shift = 12; shift >= 0; shift -= 4) {
                int d = (v >>> shift) & 0xf;
                if (d != 0 || started || shift == 0) {
                    dst[n++] = HEX[d];
                    started = true;
                }
            }
        }
        return n - offset;
    }
}
