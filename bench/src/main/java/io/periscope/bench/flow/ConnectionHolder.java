package io.periscope.bench.flow;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens and holds many idle TCP connections, for the many-connections scenario: {@code server
 * <ip> <basePort> <ports>} accepts on {@code ports} consecutive ports and keeps every socket;
 * {@code client <ip> <basePort> <ports> <count>} opens {@code count} connections spread over the
 * ports, sends 16 bytes on each (so the flows carry data), prints "held N" and waits to be killed.
 */
public final class ConnectionHolder {
    private ConnectionHolder() {
    }

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: ConnectionHolder server <ip> <basePort> <ports>"
                    + " | client <ip> <basePort> <ports> <count>");
            System.exit(2);
        }
        String ip = args[1];
        int basePort = Integer.parseInt(args[2]);
        int ports = Integer.parseInt(args[3]);
        List<SocketChannel> held = new ArrayList<>();
        if (args[0].equals("server")) {
            Selector selector = Selector.open();
            for (int p = 0; p < ports; p++) {
                ServerSocketChannel server = ServerSocketChannel.open();
                server.bind(new InetSocketAddress(ip, basePort + p), 4096);
                server.configureBlocking(false);
                server.register(selector, SelectionKey.OP_ACCEPT);
            }
            System.out.println("listening");
            while (true) {
                selector.select(1000);
                for (SelectionKey key : selector.selectedKeys()) {
                    SocketChannel c;
                    while ((c = ((ServerSocketChannel) key.channel()).accept()) != null) {
                        held.add(c);
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        int count = Integer.parseInt(args[4]);
        ByteBuffer hello = ByteBuffer.allocate(16);
        for (int i = 0; i < count; i++) {
            try {
                SocketChannel c = SocketChannel.open(new InetSocketAddress(ip, basePort + i % ports));
                hello.clear();
                c.write(hello);
                held.add(c);
            } catch (IOException e) {
                System.out.println("connect " + i + " failed: " + e.getMessage());
                break;
            }
            if ((i + 1) % 10_000 == 0) {
                System.out.println("opened " + (i + 1));
            }
        }
        System.out.println("held " + held.size());
        Thread.sleep(Long.MAX_VALUE);
    }
}
