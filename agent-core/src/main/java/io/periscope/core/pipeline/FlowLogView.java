package io.periscope.core.pipeline;

import io.periscope.flowmap.FlowLog;
import io.periscope.flowmap.TcpState;
import io.periscope.sender.FlowRecord;

/**
 * agent-flowmap's {@link FlowLog} seen as the sender's {@link FlowRecord}: a reusable view,
 * pointed at each record in turn on the flow table's thread (the sender copies what it keeps).
 */
public final class FlowLogView implements FlowRecord {
    private final byte[] client = new byte[16];
    private final byte[] server = new byte[16];
    private FlowLog log;

    /** Points this view at {@code flowLog}; returns this. */
    public FlowLogView wrap(FlowLog flowLog) {
        log = flowLog;
        FlowLog.writeAddress(client, flowLog.ipVersion(), flowLog.clientAddressHigh(), flowLog.clientAddressLow());
        FlowLog.writeAddress(server, flowLog.ipVersion(), flowLog.serverAddressHigh(), flowLog.serverAddressLow());
        return this;
    }

    @Override
    public int ipVersion() {
        return log.ipVersion();
    }

    @Override
    public byte[] clientAddress() {
        return client;
    }

    @Override
    public int clientPort() {
        return log.clientPort();
    }

    @Override
    public byte[] serverAddress() {
        return server;
    }

    @Override
    public int serverPort() {
        return log.serverPort();
    }

    @Override
    public int l4Protocol() {
        return log.protocol();
    }

    @Override
    public long bytesClientToServer() {
        return log.bytes(FlowLog.CLIENT_TO_SERVER);
    }

    @Override
    public long bytesServerToClient() {
        return log.bytes(FlowLog.SERVER_TO_CLIENT);
    }

    @Override
    public long packetsClientToServer() {
        return log.packets(FlowLog.CLIENT_TO_SERVER);
    }

    @Override
    public long packetsServerToClient() {
        return log.packets(FlowLog.SERVER_TO_CLIENT);
    }

    @Override
    public long retransmissionsClientToServer() {
        return log.retransmissions(FlowLog.CLIENT_TO_SERVER);
    }

    @Override
    public long retransmissionsServerToClient() {
        return log.retransmissions(FlowLog.SERVER_TO_CLIENT);
    }

    /** The mean data RTT of the interval when sampled, else the handshake RTT, else -1. */
    @Override
    public long rttNanos() {
        if (log.dataRttCount() > 0) {
            return log.dataRttSumNanos() / log.dataRttCount();
        }
        long handshake = log.handshakeRttNanos();
        return handshake == FlowLog.NO_RTT ? -1 : handshake;
    }

    @Override
    public CloseType closeType() {
        return map(log.closeType(), log.isFinal(), log.tcpState());
    }

    /** (The flow table's close type is named in full: inside this class CloseType is the sender's.) */
    static FlowRecord.CloseType map(io.periscope.flowmap.CloseType type, boolean isFinal, TcpState state) {
        if (!isFinal || type == io.periscope.flowmap.CloseType.FLUSHED) {
            // Flushed at shutdown: the connection itself is still open.
            return FlowRecord.CloseType.ONGOING;
        }
        switch (type) {
            case FIN:
                return FlowRecord.CloseType.FIN;
            case RST_BY_CLIENT:
                return FlowRecord.CloseType.CLIENT_RST;
            case RST_BY_SERVER:
                return FlowRecord.CloseType.SERVER_RST;
            case EVICTED:
                return FlowRecord.CloseType.EVICTED;
            case TIMEOUT:
                return state == TcpState.OPENING || state == TcpState.HALF_OPEN
                        ? FlowRecord.CloseType.HANDSHAKE_FAILED : FlowRecord.CloseType.TIMEOUT;
            default:
                // PORT_REUSE: a new SYN on the same 5-tuple ended the old flow without a close.
                return FlowRecord.CloseType.TIMEOUT;
        }
    }

    @Override
    public long startNanos() {
        return log.intervalStartNanos();
    }

    @Override
    public long endNanos() {
        return log.intervalEndNanos();
    }

    @Override
    public int interfaceIndex() {
        return log.ifindex();
    }
}
