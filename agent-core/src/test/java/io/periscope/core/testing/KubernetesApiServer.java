package io.periscope.core.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for kube-apiserver's pod endpoints over real HTTPS (a self-signed certificate made by
 * keytool for 127.0.0.1): answers {@code /api/v1/pods} lists and watches from scripts the test
 * queues, and records every request (query, bearer token). A watch with no script queued stays open
 * and silent, as a real watch with nothing to report.
 */
public final class KubernetesApiServer implements AutoCloseable {
    private static final String STORE_PASSWORD = "periscope-test";
    private static final long HOLD_OPEN_SECONDS = 60;

    /** One request as the server saw it. */
    public record Request(String query, String authorization) {
        public boolean isWatch() {
            return query.contains("watch=1");
        }
    }

    /** What one watch request gets: these lines (JSON objects), then the stream ends or stays open. */
    public record WatchScript(List<String> lines, boolean holdOpen) {
    }

    private final HttpsServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "fake-kube-apiserver");
        thread.setDaemon(true);
        return thread;
    });
    private final Path caPem;
    private final BlockingQueue<String> lists = new LinkedBlockingQueue<>();
    private final BlockingQueue<WatchScript> watches = new LinkedBlockingQueue<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile String lastList = "";

    private KubernetesApiServer(Path dir) throws IOException, InterruptedException, GeneralSecurityException {
        Path keyStore = dir.resolve("apiserver.p12");
        caPem = dir.resolve("ca.crt");
        if (!Files.exists(keyStore)) {
            // keytool is a JVM start or two: tests of one class share the key by passing the same dir.
            selfSigned(keyStore, caPem, "kube-apiserver");
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            store.load(in, STORE_PASSWORD.toCharArray());
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, STORE_PASSWORD.toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keys.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/api/v1/pods", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** Starts a server with its key and certificate in {@code dir} (made there unless already made). */
    public static KubernetesApiServer start(Path dir) throws Exception {
        return new KubernetesApiServer(dir);
    }

    /**
     * Makes a self-signed EC certificate for 127.0.0.1/localhost with the JDK's keytool, the key in a
     * PKCS12 store and the certificate as PEM (what a pod finds in ca.crt).
     */
    public static void selfSigned(Path keyStore, Path pem, String commonName) throws IOException, InterruptedException {
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-alias", "apiserver", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=" + commonName, "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", STORE_PASSWORD);
        run(keytool, "-exportcert", "-rfc", "-alias", "apiserver", "-keystore", keyStore.toString(),
                "-storepass", STORE_PASSWORD, "-file", pem.toString());
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** https://127.0.0.1:port */
    public String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The server certificate as PEM: the CA bundle a client must trust. */
    public Path caPem() {
        return caPem;
    }

    /** The next list answers {@code body} (later lists repeat the last one). */
    public void queueList(String body) {
        lists.add(body);
    }

    /** The next watch request gets {@code script}. */
    public void queueWatch(WatchScript script) {
        watches.add(script);
    }

    public List<Request> requests() {
        return new ArrayList<>(requests);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String query = exchange.getRequestURI().getRawQuery() == null ? "" : exchange.getRequestURI().getRawQuery();
            Request request = new Request(query, exchange.getRequestHeaders().getFirst("Authorization"));
            requests.add(request);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            if (!request.isWatch()) {
                String next = lists.poll();
                if (next != null) {
                    lastList = next;
                }
                byte[] body = lastList.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                return;
            }
            WatchScript script = watches.poll();
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            out.flush();
            if (script != null) {
                for (String line : script.lines()) {
                    out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
            if (script == null || script.holdOpen()) {
                closed.await(HOLD_OPEN_SECONDS, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // The client went away (it was told to stop, or drops the watch on purpose).
        }
    }

    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
