package io.periscope.ebpf.internal;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects libbpf's messages (warnings about relocations, BTF, attach failures) into a small
 * bounded history so errors can quote them, instead of letting libbpf write to stderr.
 */
public final class LibBpfLog {
    private static final int HISTORY_LINES = 64;
    private static final int LINE_BYTES = 1024;
    /** libbpf print levels: 0 warn, 1 info, 2 debug; debug is too chatty to keep. */
    private static final int LEVEL_DEBUG = 2;
    /** libbpf starts every message with this; our errors already say "libbpf:". */
    private static final String PREFIX = "libbpf: ";

    private static final ArrayDeque<String> HISTORY = new ArrayDeque<>();
    /** Held strongly: libbpf keeps the function pointer forever. */
    private static final LibBpf.PrintFn PRINT = LibBpfLog::print;

    private LibBpfLog() {
    }

    static void install() {
        LibBpf.libbpfSetPrint(PRINT);
    }

    private static int print(int level, String format, Pointer args) {
        if (level >= LEVEL_DEBUG) {
            return 0;
        }
        byte[] buf = new byte[LINE_BYTES];
        // On x86_64 a va_list argument is passed as a pointer, so it can be handed on unchanged.
        LibC.vsnprintf(buf, buf.length, format, args);
        String line = Native.toString(buf).strip();
        if (line.startsWith(PREFIX)) {
            line = line.substring(PREFIX.length());
        }
        if (line.contains("ulimit -l")) {
            // libbpf's guess for any EPERM; wrong on memcg-accounted kernels (>= 5.11), where
            // RLIMIT_MEMLOCK plays no part, so it would send the user the wrong way.
            return 0;
        }
        synchronized (HISTORY) {
            if (HISTORY.size() == HISTORY_LINES) {
                HISTORY.removeFirst();
            }
            HISTORY.addLast(line);
        }
        return 0;
    }

    /** Drains the messages collected since the last call (oldest first). */
    public static List<String> drain() {
        synchronized (HISTORY) {
            List<String> out = new ArrayList<>(HISTORY);
            HISTORY.clear();
            return out;
        }
    }
}
