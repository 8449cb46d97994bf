package io.periscope.protocols;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The unchecked fast paths of {@link AsciiBytes} against plain byte-by-byte answers. */
class AsciiBytesTest {
    /** Line feeds among bytes that fool a sloppy zero-byte test (0x0B, 0x01, 0x00) and high bytes. */
    private static final byte[] ALPHABET =
            {'\n', '\r', 0x0b, 1, 0, 'a', '-', ':', 'Z', '9', ' ', (byte) 0x80, (byte) 0xff};

    private static int naiveIndexOf(byte[] a, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void scansShouldAgreeWithByteByByteOnRandomBytesOnHeapAndOffHeap() {
        Random random = new Random(42);
        for (int round = 0; round < 20_000; round++) {
            // up to 90 bytes: the sixteen-byte step, the word step and the byte tail all meet line feeds
            byte[] a = new byte[1 + random.nextInt(round % 2 == 0 ? 40 : 90)];
            for (int i = 0; i < a.length; i++) {
                a[i] = ALPHABET[random.nextInt(ALPHABET.length)];
            }
            ByteBuffer direct = ByteBuffer.allocateDirect(a.length);
            direct.put(a);
            int from = random.nextInt(a.length + 1);
            int to = from + random.nextInt(a.length - from + 1);
            for (UnsafeBuffer buf : new UnsafeBuffer[] {new UnsafeBuffer(a), new UnsafeBuffer(direct)}) {
                assertThat(AsciiBytes.indexOfLf(buf, from, to)).isEqualTo(naiveIndexOf(a, from, to, (byte) '\n'));
                assertThat(AsciiBytes.indexOf(buf, from, to, (byte) ':'))
                        .isEqualTo(naiveIndexOf(a, from, to, (byte) ':'));
            }
        }
    }

    @Test
    void scansShouldStillFailOnARangeOutsideTheBuffer() {
        UnsafeBuffer buf = new UnsafeBuffer(new byte[16]);
        assertThatThrownBy(() -> AsciiBytes.indexOfLf(buf, 8, 40)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> AsciiBytes.indexOf(buf, -1, 4, (byte) 'x'))
                .isInstanceOf(IndexOutOfBoundsException.class);
        UnsafeBuffer digits = new UnsafeBuffer("1111111111111111".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> AsciiBytes.parseDecimal(digits, 14, 4))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(AsciiBytes.indexOfLf(buf, 10, 4)).isEqualTo(-1);
        assertThat(AsciiBytes.fits(buf, 0, 16)).isTrue();
        assertThat(AsciiBytes.fits(buf, 1, 17)).isFalse();
        assertThat(AsciiBytes.fits(buf, 5, 4)).isFalse();
    }

    @Test
    void numbersPrefixesAndIdsShouldReadAsBefore() {
        UnsafeBuffer buf = new UnsafeBuffer("x12345 HTTP/1.1 0af7651916cd43dd8448eb211c80319c 1z".getBytes(
                StandardCharsets.US_ASCII));
        assertThat(AsciiBytes.parseDecimal(buf, 1, 5)).isEqualTo(12345);
        assertThat(AsciiBytes.parseDecimal(buf, 0, 3)).isEqualTo(-1);
        assertThat(AsciiBytes.startsWith(buf, 7, 8, "HTTP/1.".getBytes(StandardCharsets.US_ASCII))).isTrue();
        assertThat(AsciiBytes.startsWith(buf, 7, 8, "HTTP/2".getBytes(StandardCharsets.US_ASCII))).isFalse();
        byte[] id = new byte[16];
        assertThat(AsciiBytes.decodeHexId(buf, 16, 32, id)).isTrue();
        assertThat(id).isEqualTo(java.util.HexFormat.of().parseHex("0af7651916cd43dd8448eb211c80319c"));
        byte[] shortId = new byte[8];
        assertThat(AsciiBytes.decodeHexId(buf, 17, 3, shortId)).isTrue();
        assertThat(shortId).isEqualTo(new byte[] {0, 0, 0, 0, 0, 0, 0x0a, (byte) 0xf7});
        assertThat(AsciiBytes.decodeHexId(buf, 49, 2, shortId)).isFalse();
    }

    /** Hex digits and every byte next to their ranges ('/', ':', '@', 'G', '`', 'g'), case pairs, 0x10-0x19. */
    private static final byte[] HEX_ALPHABET = {'0', '5', '9', 'a', 'f', 'A', 'F', 'c', 'D',
        '/', ':', '@', 'G', '`', 'g', 0x10, 0x19, (byte) 0x80, (byte) 0xb0, (byte) 0xe1, 0, ' '};

    private static boolean naiveHexId(byte[] a, int off, int len, byte[] out) {
        if (len <= 0 || len > out.length * 2) {
            return false;
        }
        byte[] tmp = new byte[out.length];
        int o = out.length - 1;
        for (int i = off + len - 1; i >= off; i -= 2) {
            int lo = Character.digit(a[i] & 0xFF, 16);
            int hi = i - 1 >= off ? Character.digit(a[i - 1] & 0xFF, 16) : 0;
            boolean ascii = a[i] >= 0 && (i - 1 < off || a[i - 1] >= 0);
            if (lo < 0 || hi < 0 || !ascii) {
                return false;
            }
            tmp[o--] = (byte) ((hi << 4) | lo);
        }
        System.arraycopy(tmp, 0, out, 0, out.length);
        return true;
    }

    @Test
    void hexIdsShouldDecodeAsDigitByDigitOnRandomBytes() {
        Random random = new Random(7);
        for (int round = 0; round < 50_000; round++) {
            byte[] a = new byte[40];
            for (int i = 0; i < a.length; i++) {
                // mostly hex digits so that whole ids decode, sometimes one bad byte among them
                a[i] = random.nextInt(8) == 0 ? HEX_ALPHABET[random.nextInt(HEX_ALPHABET.length)]
                        : HEX_ALPHABET[random.nextInt(9)];
            }
            int off = random.nextInt(8);
            int len = random.nextInt(33);
            byte[] expected = new byte[16];
            boolean ok = naiveHexId(a, off, len, expected);
            byte[] got = new byte[16];
            java.util.Arrays.fill(got, (byte) 0x55);
            assertThat(AsciiBytes.decodeHexId(new UnsafeBuffer(a), off, len, got)).as("round %d", round).isEqualTo(ok);
            if (ok) {
                assertThat(got).as("round %d", round).isEqualTo(expected);
            }
        }
    }

    /**
     * The traceparent's straight-line decoder against the two general decodes it replaces, on
     * random ids (upper and lower case, sometimes a bad byte anywhere), on heap and off heap:
     * the same answer and the same bytes left in both arrays, bad input included.
     */
    @Test
    void traceparentIdsShouldDecodeAsTheGeneralDecoder() {
        Random random = new Random(55);
        UnsafeBuffer offHeap = new UnsafeBuffer(ByteBuffer.allocateDirect(60));
        for (int round = 0; round < 50_000; round++) {
            byte[] a = new byte[60];
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextInt(40) == 0 ? (byte) random.nextInt(256)
                        : random.nextInt(16) == 0 ? HEX_ALPHABET[random.nextInt(HEX_ALPHABET.length)]
                        : (byte) "0123456789abcdefABCDEF".charAt(random.nextInt(22));
            }
            int off = random.nextInt(a.length - 49 + 1);
            a[off + 32] = '-';
            byte[] start = new byte[24];
            random.nextBytes(start);
            byte[] traceExpected = java.util.Arrays.copyOfRange(start, 0, 16);
            byte[] spanExpected = java.util.Arrays.copyOfRange(start, 16, 24);
            UnsafeBuffer heap = new UnsafeBuffer(a);
            boolean ok = AsciiBytes.decodeHexId(heap, off, 32, traceExpected)
                    && AsciiBytes.decodeHexId(heap, off + 33, 16, spanExpected);
            offHeap.putBytes(0, a);
            for (UnsafeBuffer buf : new UnsafeBuffer[] {heap, offHeap}) {
                byte[] trace = java.util.Arrays.copyOfRange(start, 0, 16);
                byte[] span = java.util.Arrays.copyOfRange(start, 16, 24);
                assertThat(AsciiBytes.decodeTraceparentIds(buf, off, trace, span)).as("round %d", round).isEqualTo(ok);
                assertThat(trace).as("round %d trace id", round).isEqualTo(traceExpected);
                assertThat(span).as("round %d span id", round).isEqualTo(spanExpected);
            }
        }
    }
}
