package io.periscope.protocols;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The one-pass {@link EndpointRule#apply} against a plain segment-by-segment reading of the rule. */
class EndpointRuleTest {
    private static final String ALPHABET = "//////??##--0123456789abcdefABCDEFxyzXYZ_.%";

    /** The rule read literally: split on '/', stop at '?' or '#', keep N segments, ids become {id}. */
    private static String reference(String path, int segments, boolean replaceIds, int capacity) {
        int stop = path.length();
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '?' || path.charAt(i) == '#') {
                stop = i;
                break;
            }
        }
        StringBuilder out = new StringBuilder();
        int kept = 0;
        for (String segment : path.substring(0, stop).split("/")) {
            if (segment.isEmpty() || kept == segments) {
                continue;
            }
            byte[] b = segment.getBytes(StandardCharsets.ISO_8859_1);
            out.append('/').append(replaceIds && EndpointRule.looksLikeId(b, 0, b.length) ? "{id}" : segment);
            kept++;
        }
        if (out.length() == 0 && path.startsWith("/")) {
            out.append('/');
        }
        return out.length() > capacity ? out.substring(0, capacity) : out.toString();
    }

    @Test
    void onePassShouldAgreeWithThePlainRuleOnRandomPaths() {
        Random random = new Random(11);
        TextField out = new TextField(24);
        for (int round = 0; round < 50_000; round++) {
            StringBuilder path = new StringBuilder();
            int n = random.nextInt(60);
            for (int i = 0; i < n; i++) {
                path.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            if (random.nextInt(4) == 0) {
                path.append('/').append(java.util.UUID.randomUUID());
            }
            if (random.nextInt(4) == 0) {
                path.append("/0123456789abcdef0123".substring(0, 1 + random.nextInt(20)));
            }
            String p = path.toString();
            int segments = 1 + random.nextInt(4);
            boolean replaceIds = random.nextBoolean();
            byte[] bytes = p.getBytes(StandardCharsets.ISO_8859_1);
            new EndpointRule(segments, replaceIds).apply(bytes, 0, bytes.length, out);
            String expected = reference(p, segments, replaceIds, out.capacity());
            assertThat(out.toString()).as("%s, %d segments, ids %s", p, segments, replaceIds).isEqualTo(expected);
            assertThat(out.truncated()).as(p).isEqualTo(reference(p, segments, replaceIds, 1 << 20).length()
                    > out.capacity());
        }
    }

    /**
     * Paths inside bigger arrays (as in a record's resource field or the rule's scratch) take the
     * word-at-a-time path, which reads past the path's end: the bytes there, slashes and ids
     * included, must not change the answer. Bytes above 0x7F and NUL are in the alphabet too.
     */
    @Test
    void wordAtATimeShouldAgreeWithThePlainRuleWhateverFollowsThePath() {
        String alphabet = ALPHABET + "\u0000\u00e9\u00ff\u00b0-/1a";
        Random random = new Random(13);
        TextField out = new TextField(24);
        for (int round = 0; round < 50_000; round++) {
            StringBuilder path = new StringBuilder();
            int n = random.nextInt(60);
            for (int i = 0; i < n; i++) {
                path.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            if (random.nextInt(4) == 0) {
                path.append('/').append(java.util.UUID.randomUUID());
            }
            String p = path.toString();
            byte[] bytes = p.getBytes(StandardCharsets.ISO_8859_1);
            int offset = random.nextInt(9);
            byte[] padded = new byte[offset + bytes.length + 8 + random.nextInt(9)];
            for (int i = 0; i < padded.length; i++) {
                padded[i] = (byte) alphabet.charAt(random.nextInt(alphabet.length()));
            }
            System.arraycopy(bytes, 0, padded, offset, bytes.length);
            int segments = 1 + random.nextInt(4);
            boolean replaceIds = random.nextBoolean();
            new EndpointRule(segments, replaceIds).apply(padded, offset, bytes.length, out);
            String expected = reference(p, segments, replaceIds, out.capacity());
            // bytes, not UTF-8: the alphabet has Latin-1 bytes that are no UTF-8 on their own
            assertThat(new String(out.array(), 0, out.length(), StandardCharsets.ISO_8859_1))
                    .as("%s, %d segments, ids %s", p, segments, replaceIds).isEqualTo(expected);
            assertThat(out.truncated()).as(p).isEqualTo(reference(p, segments, replaceIds, 1 << 20).length()
                    > out.capacity());
        }
    }
}
