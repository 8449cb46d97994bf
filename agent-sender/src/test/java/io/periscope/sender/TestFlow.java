package io.periscope.sender;

/** A flow record with fixed values, as agent-flowmap would report one. */
record TestFlow(int ipVersion, byte[] clientAddress, int clientPort, byte[] serverAddress, int serverPort,
                int l4Protocol, long bytesClientToServer, long bytesServerToClient, long packetsClientToServer,
                long packetsServerToClient, long retransmissionsClientToServer, long retransmissionsServerToClient,
                long rttNanos, CloseType closeType, long startNanos, long endNanos, int interfaceIndex)
        implements FlowRecord {

    static TestFlow tcp(int serverPort, long bytesC2s, long bytesS2c) {
        return new TestFlow(4, new byte[] {10, 0, 0, 1}, 40000, new byte[] {10, 0, 0, 2}, serverPort, 6,
                bytesC2s, bytesS2c, 10, 12, 1, 2, 250_000, CloseType.FIN, 1_700_000_000_000_000_000L,
                1_700_000_001_000_000_000L, 2);
    }
}
