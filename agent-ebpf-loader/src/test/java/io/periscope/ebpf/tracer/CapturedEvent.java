package io.periscope.ebpf.tracer;

/** A copy of one event's fields, so tests can look at events after the handler returned. */
record CapturedEvent(int kind, int pid, int tid, String comm, int fd, long socketId, int direction, int role,
        int l4Protocol, int family, int syscall, int localPort, int remotePort, String localAddress,
        String remoteAddress, long tcpSeq, long enterNanos, long exitNanos, long returnBytes, long traceId,
        int flags, String payload) {

    static CapturedEvent of(SocketEvent e) {
        boolean data = e.kind() == SocketEvent.KIND_DATA;
        return new CapturedEvent(e.kind(), e.pid(), e.tid(), e.comm(), e.fd(), e.socketId(), e.direction(),
                e.role(), e.l4Protocol(), e.family(), e.syscall(), e.localPort(), e.remotePort(),
                data ? e.localAddress().getHostAddress() : "", data ? e.remoteAddress().getHostAddress() : "",
                e.tcpSeq(), e.enterNanos(), e.exitNanos(), e.returnBytes(), e.syscallTraceId(), e.flags(),
                e.payloadAscii());
    }

    boolean isData() {
        return kind == SocketEvent.KIND_DATA;
    }
}
