package io.periscope.core.metadata.kubernetes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bearer token, re-read from its file every refresh interval: kubelet rotates bound
 * service-account tokens in place (they expire after about an hour), so a token read once at start
 * would stop working. A failed read keeps the last good token and is counted by the caller.
 */
final class ServiceAccountToken {
    private static final int MAX_TOKEN_BYTES = 64 * 1024;

    private final Path file;
    private final long refreshNanos;
    private String token = "";
    private long readAtNanos;
    private boolean read;

    ServiceAccountToken(Path file, long refreshNanos) {
        this.file = file;
        this.refreshNanos = refreshNanos;
    }

    /** The token to send now; throws when the file cannot be read and no earlier token is known. */
    synchronized String current(long nowNanos) throws IOException {
        if (!read || nowNanos - readAtNanos >= refreshNanos) {
            readAtNanos = nowNanos;
            try {
                byte[] bytes = Files.readAllBytes(file);
                if (bytes.length > MAX_TOKEN_BYTES) {
                    throw new IOException(file + ": " + bytes.length + " bytes is not a token");
                }
                token = new String(bytes, StandardCharsets.US_ASCII).strip();
                read = true;
            } catch (IOException e) {
                if (!read) {
                    throw e;
                }
                throw new StaleTokenException(e);
            }
        }
        return token;
    }

    /** The last token, after a failed re-read: the caller counts it and goes on with {@link #lastGood()}. */
    static final class StaleTokenException extends IOException {
        private static final long serialVersionUID = 1L;

        StaleTokenException(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    synchronized String lastGood() {
        return token;
    }
}
