package io.periscope.sender;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Utf8Check#isValid} agrees with the JDK's strict UTF-8 decoder, whatever the offset and length. */
class Utf8CheckTest {
    private static boolean jdkValid(byte[] b, int offset, int length) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, offset, length));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    @Test
    void agreesWithTheJdkDecoderOnMostlyAsciiText() {
        SplittableRandom rnd = new SplittableRandom(11);
        byte[] samples = "é€😀".getBytes(StandardCharsets.UTF_8);
        int invalid = 0;
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[1 + rnd.nextInt(40)];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) ('a' + rnd.nextInt(26));
            }
            // A non-ASCII byte at any position, well-formed or not, inside and outside the 8-byte strides.
            int kind = rnd.nextInt(4);
            int at = rnd.nextInt(b.length);
            if (kind == 1) {
                b[at] = (byte) (0x80 | rnd.nextInt(0x80));
            } else if (kind == 2) {
                System.arraycopy(samples, 0, b, at, Math.min(2, b.length - at));
            }
            int offset = rnd.nextInt(b.length);
            int length = rnd.nextInt(b.length - offset + 1);
            boolean expected = jdkValid(b, offset, length);
            invalid += expected ? 0 : 1;
            assertThat(Utf8Check.isValid(b, offset, length)).as("round %d", round).isEqualTo(expected);
        }
        assertThat(invalid).isGreaterThan(1000);
    }
}
