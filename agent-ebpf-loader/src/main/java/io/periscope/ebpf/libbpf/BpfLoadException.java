package io.periscope.ebpf.libbpf;

import java.util.List;

/** The kernel refused to load a program; carries the program's name and the verifier log's tail. */
public final class BpfLoadException extends BpfException {
    private static final long serialVersionUID = 1L;

    private final String programName;
    private final List<String> verifierLog;

    BpfLoadException(String message, String programName, List<String> verifierLog) {
        super(message);
        this.programName = programName;
        this.verifierLog = List.copyOf(verifierLog);
    }

    /** The program the verifier rejected, or empty when the failure was not a program's (maps, BTF). */
    public String programName() {
        return programName;
    }

    /** The last lines of the verifier log (the ones that say why). */
    public List<String> verifierLog() {
        return verifierLog;
    }
}
