package io.periscope.protocols.testing;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Locates the peer corpus; a missing corpus fails the test (it exists wherever tests run). */
public final class PeerCorpus {
    private PeerCorpus() {
    }

    public static Path deepflow(String relative) {
        String root = System.getProperty("periscope.peerCorpus");
        assertThat(root).as("system property periscope.peerCorpus (set by the parent pom)").isNotNull();
        Path p = Path.of(root, "deepflow", relative);
        assertThat(Files.exists(p)).as("peer corpus file %s", p).isTrue();
        return p;
    }
}
