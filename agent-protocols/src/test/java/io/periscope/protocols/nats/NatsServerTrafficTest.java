package io.periscope.protocols.nats;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.nats.client.impl.Headers;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.LocalProcess;
import io.periscope.protocols.testing.PcapReplay;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real nats-server (Debian package) driven by jnats: plain and header publishes (HPUB with a
 * traceparent), subscriptions, request/reply, a verbose connection (every operation answered by
 * +OK) and a publish the server refuses (-ERR 'Permissions Violation'). Captured with tcpdump on
 * lo and replayed through the engine. tshark 4.0 has no NATS dissector, so the independent
 * reading is the server's own protocol trace ({@code trace: true}): every operation it received
 * and every message it sent must be one of our records, with the same subject.
 */
@Tag("kernel")
class NatsServerTrafficTest {
    private static final int PORT = 18520;
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String TRACEPARENT = "00-" + TRACE_ID + "-00f067aa0ba902b7-01";
    /** A trace line: {@code <<- [PUB orders.created 5]} (received) or {@code ->> [MSG ...]} (sent). */
    private static final Pattern TRACE = Pattern.compile("(<<-|->>) \\[([A-Z+-]+)(?: ([^ \\]]+))?");

    @TempDir
    Path dir;

    /** The -ERR texts jnats was told about (instead of its default logging them). */
    private final List<String> clientErrors = new CopyOnWriteArrayList<>();

    @Test
    void realNatsServerShouldReadAsItsOwnTraceSays() throws Exception {
        Path serverLog = dir.resolve("nats-server.log");
        Path conf = dir.resolve("nats.conf");
        Files.writeString(conf, "host: 127.0.0.1\nport: " + PORT + "\ntrace: true\nlogfile: \"" + serverLog + "\"\n"
                + "authorization {\n  users = [\n    {user: app, password: s3cret, permissions: "
                + "{publish: {deny: [\"forbidden.>\"]}}}\n  ]\n}\n");
        Path pcap = dir.resolve("nats.pcap");
        try (LocalProcess server = LocalProcess.start(dir.resolve("nats-server.out"), "nats-server", "-c",
                conf.toString())) {
            server.awaitPort(PORT, 10_000);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + PORT);
            // jnats' Connection.close() throws InterruptedException: closed by hand, not by try-with-resources
            Connection plain = Nats.connect(options("periscope-plain").build());
            Connection verbose = Nats.connect(options("periscope-verbose").verbose().build());
            try {
                // the verbose connection serves requests: every SUB/PUB it sends is acknowledged
                Dispatcher echo = verbose.createDispatcher(m -> verbose.publish(m.getReplyTo(), m.getHeaders(),
                        ("echo " + new String(m.getData(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
                echo.subscribe("svc.echo");
                verbose.flush(WAIT);

                Subscription orders = plain.subscribe("orders.>");
                plain.flush(WAIT);
                plain.publish("orders.created", "order 1".getBytes(StandardCharsets.UTF_8));
                Headers headers = new Headers().add("traceparent", TRACEPARENT).add("tenant", "acme");
                plain.publish("orders.traced", headers, "order 2".getBytes(StandardCharsets.UTF_8));
                Message first = orders.nextMessage(WAIT);
                Message second = orders.nextMessage(WAIT);
                assertThat(first).as("MSG orders.created").isNotNull();
                assertThat(second).as("HMSG orders.traced").isNotNull();
                assertThat(second.getHeaders().getFirst("traceparent")).isEqualTo(TRACEPARENT);

                Message reply = plain.request("svc.echo", new Headers().add("traceparent", TRACEPARENT),
                        "ping".getBytes(StandardCharsets.UTF_8), WAIT);
                assertThat(reply).as("reply to svc.echo").isNotNull();
                assertThat(new String(reply.getData(), StandardCharsets.UTF_8)).isEqualTo("echo ping");

                // refused: -ERR 'Permissions Violation ...' (the connection stays open)
                plain.publish("forbidden.plain", "x".getBytes(StandardCharsets.UTF_8));
                plain.flush(WAIT);
                verbose.publish("forbidden.verbose", "y".getBytes(StandardCharsets.UTF_8));
                verbose.flush(WAIT);
                // jnats hands -ERR to the listener on another thread
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (clientErrors.size() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                orders.unsubscribe();
                plain.flush(WAIT);
            } finally {
                plain.close();
                verbose.close();
            }
            capture.stopCapture(pcap);
        }

        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.defaults());
        assertThat(logs).isNotEmpty().allSatisfy(l -> assertThat(l.protocol()).isEqualTo(L7Protocol.NATS));

        // the server's trace: what it received from clients and the messages it sent them
        List<String> traced = new ArrayList<>();
        int oks = 0;
        int errs = 0;
        for (String line : Files.readAllLines(serverLog)) {
            Matcher m = TRACE.matcher(line);
            if (!m.find()) {
                continue;
            }
            String op = m.group(2);
            boolean received = m.group(1).equals("<<-");
            if (!received && op.equals("OK")) {
                oks++;
            } else if (!received && op.equals("-ERR")) {
                errs++;
            } else if (received ? List.of("CONNECT", "PUB", "HPUB", "SUB", "UNSUB", "PING").contains(op)
                    : List.of("MSG", "HMSG").contains(op)) {
                // UNSUB names a subscription id, not a subject: we keep no resource for it
                traced.add(List.of("CONNECT", "PING", "UNSUB").contains(op) ? op : op + " " + m.group(3));
            }
        }
        assertThat(errs).as("the server refused both forbidden publishes").isEqualTo(2);
        assertThat(clientErrors).hasSize(2).allSatisfy(e -> assertThat(e).contains("Permissions Violation"));
        List<String> ours = logs.stream().filter(l -> !l.method().contentEquals("-ERR"))
                .map(l -> l.resource().isEmpty() ? l.method().toString() : l.method() + " " + l.resource())
                .sorted().toList();
        assertThat(ours).isEqualTo(traced.stream().sorted().toList());
        assertThat(ours).contains("PUB orders.created", "HPUB orders.traced", "MSG orders.created",
                "HMSG orders.traced", "HPUB svc.echo", "HMSG svc.echo", "SUB orders.>", "SUB svc.echo",
                "UNSUB", "PUB forbidden.plain", "PUB forbidden.verbose");

        // trace context from the headers of HPUB and of the HMSG the server delivered
        assertThat(logs).filteredOn(l -> l.method().contentEquals("HPUB") || l.method().contentEquals("HMSG"))
                .hasSizeGreaterThanOrEqualTo(4)
                .allSatisfy(l -> {
                    assertThat(l.hasTraceContext()).as("trace context of %s", l).isTrue();
                    assertThat(HexFormat.of().formatHex(l.traceId())).isEqualTo(TRACE_ID);
                });
        // request/reply: the request names the inbox its reply goes to, and the reply is sent there
        RequestLog request = logs.stream().filter(l -> l.method().contentEquals("HPUB")
                && l.resource().contentEquals("svc.echo")).findFirst().orElseThrow();
        String inbox = request.attribute(NatsParser.REPLY_TO).toString();
        assertThat(inbox).startsWith("_INBOX.");
        assertThat(logs).anySatisfy(l -> {
            assertThat(l.method().toString()).isEqualTo("HPUB");
            assertThat(l.resource().toString()).isEqualTo(inbox);
        });

        // a non-verbose connection's refusal is a record of its own; a verbose one's fails the PUB
        assertThat(logs).filteredOn(l -> l.method().contentEquals("-ERR")).singleElement().satisfies(l -> {
            assertThat(l.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
            assertThat(l.errorMessage().toString()).contains("Permissions Violation", "forbidden.plain");
        });
        assertThat(logs).filteredOn(l -> l.resource().contentEquals("forbidden.verbose")).singleElement()
                .satisfies(l -> {
                    assertThat(l.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
                    assertThat(l.errorMessage().toString()).contains("Permissions Violation");
                    assertThat(l.responseBytes()).isPositive();
                });
        // every +OK the server sent answered one verbose operation: as many acknowledged records
        long acknowledged = logs.stream().filter(l -> l.statusClass() == StatusClass.OK
                && !l.method().contentEquals("PING") && l.responseBytes() > 0).count();
        assertThat(acknowledged).isEqualTo(oks).isPositive();
        assertThat(logs).filteredOn(l -> !l.method().contentEquals("-ERR")
                && !l.resource().toString().startsWith("forbidden."))
                .allSatisfy(l -> assertThat(l.statusClass()).isEqualTo(StatusClass.OK));
    }

    private Options.Builder options(String name) {
        return new Options.Builder().errorListener(new ErrorListener() {
            @Override
            public void errorOccurred(Connection conn, String error) {
                clientErrors.add(error);
            }
        }).server("nats://127.0.0.1:" + PORT).userInfo("app", "s3cret")
                .connectionName(name).connectionTimeout(WAIT).noReconnect();
    }
}
