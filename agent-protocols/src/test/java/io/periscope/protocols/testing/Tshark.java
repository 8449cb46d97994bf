package io.periscope.protocols.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs tshark's field extraction on a capture: the independent reading our parsers are compared with. */
public final class Tshark {
    private static final long TIMEOUT_SECONDS = 60;

    private Tshark() {
    }

    /**
     * One row per packet that has at least one of the fields, the fields in order ("" when
     * absent; repeated fields joined by ',').
     *
     * @param decodeAs extra "-d" rules such as {@code tcp.port==18201,http}; may be empty
     */
    public static List<String[]> fields(Path capture, List<String> decodeAs, String... fields)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tshark", "-n", "-r", capture.toString(), "-T", "fields",
                "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"));
        for (String d : decodeAs) {
            cmd.add("-d");
            cmd.add(d);
        }
        for (String f : fields) {
            cmd.add("-e");
            cmd.add(f);
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("tshark did not finish in " + TIMEOUT_SECONDS + " s on " + capture);
        }
        if (p.exitValue() != 0) {
            throw new IOException("tshark failed (exit " + p.exitValue() + ") on " + capture + ": " + cmd);
        }
        List<String[]> rows = new ArrayList<>();
        for (String line : new String(out, StandardCharsets.UTF_8).split("\n")) {
            String[] cols = Arrays.copyOf(line.split("\\|", -1), fields.length);
            boolean any = false;
            for (int i = 0; i < cols.length; i++) {
                if (cols[i] == null) {
                    cols[i] = "";
                }
                any |= !cols[i].isEmpty();
            }
            if (any) {
                rows.add(cols);
            }
        }
        return rows;
    }
}
