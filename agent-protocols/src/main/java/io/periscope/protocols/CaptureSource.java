package io.periscope.protocols;

/** Where the bytes of a message were observed. */
public enum CaptureSource {
    /** Socket syscalls traced by eBPF. */
    SYSCALL,
    /** Packets captured by AF_PACKET (or read from a pcap). */
    PACKET
}
