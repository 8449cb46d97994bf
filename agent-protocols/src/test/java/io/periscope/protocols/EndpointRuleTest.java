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
}
