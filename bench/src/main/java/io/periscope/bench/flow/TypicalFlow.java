package io.periscope.bench.flow;

import io.periscope.sender.FlowRecord;

/** A typical finished TCP flow as the packet pipeline reports it, for the flow export benchmarks. */
public final class TypicalFlow implements FlowRecord {
    private final byte[] client = new byte[16];
    private final byte[] server = new byte[16];
    private int clientPort;
    private long bytes;
    private long start;

    /** Flow number {@code i}: its own client address and port. */
    public static TypicalFlow of(int i) {
        TypicalFlow f = new TypicalFlow();
        f.client[0] = 10;
        f.client[1] = (byte) 202;
        f.client[2] = (byte) (i >> 8);
        f.client[3] = (byte) i;
        f.server[0] = 10;
        f.server[1] = (byte) 202;
        f.server[3] = 2;
        f.clientPort = 30_000 + i;
        f.bytes = 400 + i % 1000;
        f.start = 1_763_800_000_000_000_000L + i * 1_000_000L;
        return f;
    }

    @Override
    public int ipVersion() {
        return 4;
    }

    @Override
    public byte[] clientAddress() {
        return client;
    }

    @Override
    public int clientPort() {
        return clientPort;
    }

    @Override
    public byte[] serverAddress() {
        return server;
    }

    @Override
    public int serverPort() {
        return 18630;
    }

    @Override
    public int l4Protocol() {
        return 6;
    }

    @Override
    public long bytesClientToServer() {
        return bytes + 120;
    }

    @Override
    public long bytesServerToClient() {
        return bytes * 3;
    }

    @Override
    public long packetsClientToServer() {
        return 6;
    }

    @Override
    public long packetsServerToClient() {
        return 5;
    }

    @Override
    public long retransmissionsClientToServer() {
        return 0;
    }

    @Override
    public long retransmissionsServerToClient() {
        return clientPort % 50 == 0 ? 1 : 0;
    }

    @Override
    public long rttNanos() {
        return 48_000 + clientPort % 1000;
    }

    @Override
    public CloseType closeType() {
        return CloseType.FIN;
    }

    @Override
    public long startNanos() {
        return start;
    }

    @Override
    public long endNanos() {
        return start + 2_500_000;
    }

    @Override
    public int interfaceIndex() {
        return 7;
    }
}
