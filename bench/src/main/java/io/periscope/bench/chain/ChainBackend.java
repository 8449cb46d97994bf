package io.periscope.bench.chain;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The backend of scenario A (bench/scenarios/chain.sh): nginx proxies to it, and for every request
 * it does one redis GET (RESP over a plain socket) and one postgresql SELECT (pgjdbc, a prepared
 * statement), then answers 200 with both values. Each worker thread keeps its own redis socket and
 * database connection, as a pooled service would.
 *
 * <p>{@code ChainBackend <httpPort> <redisPort> <pgPort> <threads>}, all on 127.0.0.1. It seeds the
 * key and the table, prints {@code listening ...}, and serves {@code GET /} (the chain),
 * {@code GET /stats} (requests served and failed, as JSON) and {@code GET /reset} (every worker
 * reconnects to redis and postgresql before its next request, so connections start after the agent
 * does and it sees them from their first byte).
 */
public final class ChainBackend implements AutoCloseable {
    private static final String KEY = "chain:key";
    private static final String VALUE = "value-from-redis";
    private static final byte[] GET_COMMAND = ("*2\r\n$3\r\nGET\r\n$" + KEY.length() + "\r\n" + KEY + "\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    private static final int BACKLOG = 1024;
    private static final int STATUS_OK = 200;
    private static final int STATUS_ERROR = 500;
    private static final int STATUS_NOT_FOUND = 404;

    private final int redisPort;
    private final String jdbcUrl;
    private final AtomicInteger generation = new AtomicInteger();
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final ThreadLocal<Backends> backends = new ThreadLocal<>();

    private ChainBackend(int redisPort, int pgPort) {
        this.redisPort = redisPort;
        this.jdbcUrl = "jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres?user=postgres&sslmode=disable";
    }

    private HttpServer http;
    private ExecutorService workers;

    /** Entry point; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: ChainBackend <httpPort> <redisPort> <pgPort> <threads>");
            System.exit(2);
        }
        int httpPort = Integer.parseInt(args[0]);
        int threads = Integer.parseInt(args[3]);
        start(httpPort, Integer.parseInt(args[1]), Integer.parseInt(args[2]), threads);
        System.out.println("listening http=127.0.0.1:" + httpPort + " threads=" + threads);
        System.out.flush();
    }

    /** Seeds redis and postgresql, then serves HTTP on 127.0.0.1:{@code httpPort} with {@code threads} workers. */
    public static ChainBackend start(int httpPort, int redisPort, int pgPort, int threads)
            throws IOException, SQLException {
        // The JDK server writes the response headers and body separately; with Nagle on, the body
        // waits for nginx's delayed ACK (40 ms), which capped 20 connections at ~450 req/s.
        // Read once, when the server classes load, so it must be set before the first create().
        System.setProperty("sun.net.httpserver.nodelay", "true");
        ChainBackend backend = new ChainBackend(redisPort, pgPort);
        backend.seed();
        backend.workers = Executors.newFixedThreadPool(threads, r -> new Thread(r, "chain-worker"));
        backend.http = HttpServer.create(new InetSocketAddress("127.0.0.1", httpPort), BACKLOG);
        backend.http.setExecutor(backend.workers);
        backend.http.createContext("/", backend::serve);
        backend.http.start();
        return backend;
    }

    /** Stops serving; the workers' connections close with their threads. */
    @Override
    public void close() {
        http.stop(0);
        workers.shutdownNow();
    }

    private void seed() throws IOException, SQLException {
        try (Socket redis = new Socket("127.0.0.1", redisPort)) {
            byte[] set = ("*3\r\n$3\r\nSET\r\n$" + KEY.length() + "\r\n" + KEY + "\r\n$" + VALUE.length() + "\r\n"
                    + VALUE + "\r\n").getBytes(StandardCharsets.US_ASCII);
            redis.getOutputStream().write(set);
            String reply = readLine(new BufferedInputStream(redis.getInputStream()));
            if (!"+OK".equals(reply)) {
                throw new IOException("redis SET answered " + reply);
            }
        }
        try (Connection db = DriverManager.getConnection(jdbcUrl); Statement s = db.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS chain (id int PRIMARY KEY, v text NOT NULL)");
            s.execute("INSERT INTO chain VALUES (1, 'value-from-postgresql') ON CONFLICT (id) DO NOTHING");
        }
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            String path = exchange.getRequestURI().getPath();
            if ("/stats".equals(path)) {
                respond(exchange, STATUS_OK, "{\"served\":" + served.get() + ",\"failed\":" + failed.get() + "}\n");
            } else if ("/reset".equals(path)) {
                generation.incrementAndGet();
                respond(exchange, STATUS_OK, "reset\n");
            } else if ("/".equals(path)) {
                chain(exchange);
            } else {
                respond(exchange, STATUS_NOT_FOUND, "not found\n");
            }
        }
    }

    private void chain(HttpExchange exchange) throws IOException {
        String body;
        try {
            Backends b = backends();
            body = b.redisGet() + " " + b.select() + "\n";
        } catch (IOException | SQLException | RuntimeException e) {
            failed.incrementAndGet();
            closeBackends();
            respond(exchange, STATUS_ERROR, "backend error: " + e + "\n");
            return;
        }
        served.incrementAndGet();
        respond(exchange, STATUS_OK, body);
    }

    private Backends backends() throws IOException, SQLException {
        Backends b = backends.get();
        int g = generation.get();
        if (b != null && b.generation != g) {
            closeBackends();
            b = null;
        }
        if (b == null) {
            b = new Backends(g, new Socket("127.0.0.1", redisPort), DriverManager.getConnection(jdbcUrl));
            backends.set(b);
        }
        return b;
    }

    private void closeBackends() {
        Backends b = backends.get();
        backends.remove();
        if (b != null) {
            b.close();
        }
    }

    private static void respond(HttpExchange exchange, int status, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("redis closed the connection");
            }
            if (c == '\r') {
                if (in.read() != '\n') {
                    throw new IOException("redis reply line without LF");
                }
                return line.toString();
            }
            line.append((char) c);
        }
    }

    /** One worker's connections: a redis socket and a database connection with its statement. */
    private final class Backends {
        final int generation;
        final Socket redis;
        final InputStream redisIn;
        final OutputStream redisOut;
        final Connection db;
        final PreparedStatement query;

        Backends(int generation, Socket redis, Connection db) throws IOException, SQLException {
            this.generation = generation;
            this.redis = redis;
            redis.setTcpNoDelay(true);
            this.redisIn = new BufferedInputStream(redis.getInputStream());
            this.redisOut = redis.getOutputStream();
            this.db = db;
            this.query = db.prepareStatement("SELECT v FROM chain WHERE id = ?");
        }

        String redisGet() throws IOException {
            redisOut.write(GET_COMMAND);
            String header = readLine(redisIn);
            if (header.isEmpty() || header.charAt(0) != '$') {
                throw new IOException("redis GET answered " + header);
            }
            int length = Integer.parseInt(header.substring(1));
            if (length < 0) {
                throw new IOException("redis key " + KEY + " missing");
            }
            byte[] value = redisIn.readNBytes(length + 2);
            if (value.length != length + 2) {
                throw new IOException("redis closed the connection mid-reply");
            }
            return new String(value, 0, length, StandardCharsets.UTF_8);
        }

        String select() throws SQLException {
            query.setInt(1, 1);
            try (ResultSet rows = query.executeQuery()) {
                if (!rows.next()) {
                    throw new SQLException("row 1 missing from table chain");
                }
                return rows.getString(1);
            }
        }

        void close() {
            try {
                redis.close();
            } catch (IOException e) {
                // Reconnecting is what matters; a failed close of a dead socket changes nothing.
            }
            try {
                db.close();
            } catch (SQLException e) {
                // Same: the next request opens a fresh connection.
            }
        }
    }
}
