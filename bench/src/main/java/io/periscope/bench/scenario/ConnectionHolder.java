package io.periscope.bench.scenario;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Holds many idle TCP connections open for scenario D (bench/scenarios/connections.sh).
 * {@code server <ip> <port,port,...>} accepts on every port and keeps each accepted socket;
 * {@code client <ip> <port,port,...> <count> <perSecond>} opens {@code count} connections
 * round-robin over the ports at most {@code perSecond} a second (several server ports let one
 * client address exceed the 64K ephemeral ports). Both print progress lines to stdout
 * ({@code listening}, {@code connected N}, {@code holding N} or {@code failed N reason}) and
 * close everything when stdin reaches end of file.
 */
public final class ConnectionHolder {
    private static final int BACKLOG = 4096;
    private static final int PROGRESS_EVERY = 10_000;
    private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);

    private ConnectionHolder() {
    }

    /** Entry point; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        if (args.length == 3 && "server".equals(args[0])) {
            server(args[1], ports(args[2]));
        } else if (args.length == 5 && "client".equals(args[0])) {
            client(args[1], ports(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        } else {
            System.err.println("usage: ConnectionHolder server <ip> <ports> | client <ip> <ports> <count> <perSecond>");
            System.exit(2);
        }
    }

    private static int[] ports(String list) {
        String[] parts = list.split(",");
        int[] ports = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            ports[i] = Integer.parseInt(parts[i].trim());
        }
        return ports;
    }

    private static void server(String ip, int[] ports) throws IOException, InterruptedException {
        ConcurrentLinkedQueue<SocketChannel> held = new ConcurrentLinkedQueue<>();
        AtomicLong accepted = new AtomicLong();
        List<ServerSocketChannel> listeners = new ArrayList<>();
        for (int port : ports) {
            ServerSocketChannel listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(new InetSocketAddress(ip, port), BACKLOG);
            listeners.add(listener);
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        held.add(listener.accept());
                        accepted.incrementAndGet();
                    }
                } catch (IOException e) {
                    // The listener was closed at shutdown, or the fd limit was hit: either way stop accepting.
                    if (listener.isOpen()) {
                        System.out.println("failed " + accepted.get() + " " + e.getMessage());
                    }
                }
            }, "accept-" + port);
            t.setDaemon(true);
            t.start();
        }
        System.out.println("listening");
        System.out.flush();
        awaitEof();
        for (ServerSocketChannel l : listeners) {
            l.close();
        }
        closeAll(held);
        System.out.println("closed " + accepted.get());
    }

    private static void client(String ip, int[] ports, int count, int perSecond) throws IOException {
        List<SocketChannel> held = new ArrayList<>(count);
        long start = System.nanoTime();
        String failure = null;
        for (int i = 0; i < count; i++) {
            // Pace to perSecond: connection i may open no earlier than i / perSecond after start.
            long due = start + i * NANOS_PER_SECOND / perSecond;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                sleepNanos(wait);
            }
            try {
                held.add(SocketChannel.open(new InetSocketAddress(ip, ports[i % ports.length])));
            } catch (IOException e) {
                failure = e.getMessage();
                break;
            }
            if ((i + 1) % PROGRESS_EVERY == 0) {
                System.out.println("connected " + (i + 1));
                System.out.flush();
            }
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println(failure == null ? "holding " + held.size() + " " + millis
                : "failed " + held.size() + " " + millis + " " + failure);
        System.out.flush();
        awaitEof();
        closeAll(held);
    }

    private static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitEof() throws IOException {
        InputStream in = System.in;
        while (in.read() >= 0) {
            // Anything written to stdin is ignored; only its end matters.
        }
    }

    private static void closeAll(Iterable<SocketChannel> channels) {
        for (SocketChannel c : channels) {
            try {
                c.close();
            } catch (IOException e) {
                // Closing an idle socket at exit: nothing to do about a failure.
            }
        }
    }
}
