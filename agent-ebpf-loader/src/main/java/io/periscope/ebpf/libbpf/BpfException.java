package io.periscope.ebpf.libbpf;

/** A libbpf or kernel refusal: the message names what failed, why, and what to do. */
public class BpfException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error with its full message. */
    public BpfException(String message) {
        super(message);
    }

    /** An error with its full message and underlying cause. */
    public BpfException(String message, Throwable cause) {
        super(message, cause);
    }
}
