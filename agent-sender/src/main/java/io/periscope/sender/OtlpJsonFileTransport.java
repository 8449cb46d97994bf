package io.periscope.sender;

import com.google.protobuf.InvalidProtocolBufferException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes each export request as one line of OTLP/JSON to a file, the format of the Collector's
 * file exporter (readable by its otlpjsonfile receiver). Traces, metrics and logs share the file.
 * When the next line would take the file past {@code maxBytes} it is rotated: {@code path}
 * becomes {@code path.1}, {@code path.1} becomes {@code path.2}, ... up to {@code maxBackups}.
 */
final class OtlpJsonFileTransport implements ExportTransport {
    private static final Logger LOG = LoggerFactory.getLogger(OtlpJsonFileTransport.class);
    /** Export workers are long-lived threads, so each keeps its own writer and buffer. */
    private final ThreadLocal<OtlpJsonWriter> writer = ThreadLocal.withInitial(OtlpJsonWriter::new);

    private final Path path;
    private final long maxBytes;
    private final int maxBackups;
    private OutputStream out;
    private long size;

    OtlpJsonFileTransport(Path path, long maxBytes, int maxBackups) {
        this.path = path;
        this.maxBytes = maxBytes;
        this.maxBackups = maxBackups;
    }

    @Override
    public ExportOutcome export(Signal signal, byte[] request, int length) {
        // Transcoding runs outside the lock, so several trace workers convert in parallel and
        // only take turns for the write itself.
        OtlpJsonWriter json = writer.get();
        int n;
        try {
            n = json.write(signal, request, length);
        } catch (InvalidProtocolBufferException e) {
            return ExportOutcome.fatal("cannot convert " + signal.label() + " to JSON: " + e.getMessage());
        }
        return append(json.array(), n);
    }

    private synchronized ExportOutcome append(byte[] line, int length) {
        try {
            if (out == null) {
                open();
            }
            if (size > 0 && size + length > maxBytes) {
                rotate();
            }
            out.write(line, 0, length);
            out.flush();
            size += length;
            return ExportOutcome.ok(0, "");
        } catch (IOException e) {
            closeQuietly();
            // A full disk or a vanished directory may come back: worth retrying with backoff.
            return ExportOutcome.retryable("cannot write " + path + ": " + e, 0);
        }
    }

    private void open() throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        out = Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
        size = Files.size(path);
    }

    private void rotate() throws IOException {
        out.close();
        out = null;
        if (maxBackups == 0) {
            Files.delete(path);
        } else {
            Files.deleteIfExists(backup(maxBackups));
            for (int i = maxBackups - 1; i >= 1; i--) {
                Path from = backup(i);
                if (Files.exists(from)) {
                    Files.move(from, backup(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(path, backup(1), StandardCopyOption.REPLACE_EXISTING);
        }
        open();
    }

    private Path backup(int i) {
        return path.resolveSibling(path.getFileName() + "." + i);
    }

    private void closeQuietly() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                LOG.debug("closing {}", path, e);
            }
            out = null;
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }
}
