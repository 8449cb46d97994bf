package io.periscope.protocols.amqp;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.LocalProcess;
import io.periscope.protocols.testing.PcapReplay;
import io.periscope.protocols.testing.Tshark;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A real rabbitmq-server (Debian package) as a node of its own (own node name, base dir, config,
 * listener, distribution and epmd ports), driven by the RabbitMQ Java client: exchange, queue and
 * binding declared, two publishes consumed and acknowledged, a basic.get, an unroutable mandatory
 * publish returned (312 NO_ROUTE) and a passive declare of a missing queue refused by
 * channel.close 404. Captured with tcpdump on lo; our records are compared with tshark's AMQP
 * dissection of the same capture, method frame by method frame.
 */
@Tag("kernel")
class RabbitmqTrafficTest {
    private static final int PORT = 18530;
    private static final int DIST_PORT = 18531;
    private static final int EPMD_PORT = 18532;
    /** Erlang boots slowly on a loaded 2-core machine (25 s seen with load average 15). */
    private static final long START_TIMEOUT_MILLIS = 120_000;
    private static final long STOP_WAIT_SECONDS = 30;
    private static final long WAIT_SECONDS = 10;

    @TempDir
    Path dir;

    @Test
    void realRabbitmqShouldReadAsTsharkReadsIt() throws Exception {
        Path pcap = dir.resolve("amqp.pcap");
        Process broker = startBroker();
        try {
            awaitListener(broker);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + PORT);
            drive();
            capture.stopCapture(pcap);
            Path kept = Files.createDirectories(Path.of("target", "real-traffic"));
            Files.copy(pcap, kept.resolve(pcap.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        } finally {
            stopBroker(broker);
        }

        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.defaults());
        assertThat(logs).isNotEmpty().allSatisfy(l -> assertThat(l.protocol()).isEqualTo(L7Protocol.AMQP));

        // tshark: every method frame, in order, with the arguments it shows
        List<String[]> rows = Tshark.fields(pcap, List.of("tcp.port==" + PORT + ",amqp"), "amqp.method.class",
                "amqp.method.method", "amqp.method.arguments.exchange", "amqp.method.arguments.routing_key",
                "amqp.method.arguments.reply_code");
        List<String> tsharkMethods = new ArrayList<>();
        List<String> tsharkMessages = new ArrayList<>();
        List<Integer> tsharkReplyCodes = new ArrayList<>();
        for (String[] r : rows) {
            if (r[0].isEmpty()) {
                continue;
            }
            String[] classes = r[0].split(",");
            String[] methods = r[1].split(",");
            String[] exchanges = r[2].split(",", -1);
            String[] keys = r[3].split(",", -1);
            int e = 0;
            int k = 0;
            for (int i = 0; i < classes.length; i++) {
                // the spec's numbers, named as AMQP 0-9-1 names them
                String name = AmqpParser.name(Integer.parseInt(classes[i]), Integer.parseInt(methods[i]));
                tsharkMethods.add(name);
                boolean message = List.of("basic.publish", "basic.deliver", "basic.return", "basic.get-ok")
                        .contains(name);
                if (message) {
                    tsharkMessages.add(name + " " + exchanges[e] + " " + keys[k]);
                }
                // which method frames carry an exchange and a routing key (fields shared by name)
                if (message || List.of("exchange.declare", "exchange.delete", "queue.bind", "queue.unbind")
                        .contains(name)) {
                    e++;
                }
                if (message || List.of("queue.bind", "queue.unbind").contains(name)) {
                    k++;
                }
            }
            for (String code : r[4].split(",")) {
                if (!code.isEmpty()) {
                    tsharkReplyCodes.add(Integer.parseInt(code));
                }
            }
        }
        // one record per method frame, except the replies (-ok, get-empty), which complete their
        // request's record, and the close-ok that confirms an error close (already reported)
        List<String> expected = tsharkMethods.stream()
                .filter(m -> !m.endsWith("-ok") && !m.equals("basic.get-empty")).toList();
        assertThat(logs).extracting(l -> l.method().toString()).containsExactlyElementsOf(expected);
        assertThat(expected).contains("basic.publish", "basic.deliver", "basic.ack", "basic.get", "basic.return",
                "channel.close", "connection.close");

        List<String> ourMessages = logs.stream().filter(l -> l.method().toString().matches(
                "basic\\.(publish|deliver|return)"))
                .map(l -> l.method() + " " + l.resource() + " " + l.attribute(AmqpParser.ROUTING_KEY)).toList();
        assertThat(ourMessages).containsExactlyElementsOf(tsharkMessages.stream()
                .filter(m -> !m.startsWith("basic.get-ok")).toList());
        assertThat(ourMessages).contains("basic.publish orders created", "basic.deliver orders created",
                "basic.return orders nowhere");

        // reply codes of the closes and the return, as tshark reads them: 312, 404, 200, 200
        List<Integer> ourCodes = logs.stream().filter(l -> l.method().toString()
                .matches("(channel|connection)\\.close|basic\\.return")).map(RequestLog::statusCode).toList();
        assertThat(ourCodes).containsExactlyElementsOf(tsharkReplyCodes).contains(312, 404, 200);

        assertThat(logs).filteredOn(l -> l.method().contentEquals("connection.open")).singleElement()
                .satisfies(l -> assertThat(l.host().toString()).isEqualTo("/"));
        // the refused passive declare: failed by the channel.close that answers it, which is an error too
        assertThat(logs).filteredOn(l -> l.statusClass() != StatusClass.OK).extracting(l -> l.method() + " "
                + l.resource() + " " + l.statusCode() + " " + l.statusClass())
                .containsExactly("basic.return orders 312 CLIENT_ERROR",
                        "queue.declare no-such-queue 404 CLIENT_ERROR", "channel.close  404 CLIENT_ERROR");
        assertThat(logs).filteredOn(l -> l.statusCode() == 404)
                .allSatisfy(l -> assertThat(l.errorMessage().toString()).contains("NOT_FOUND", "no-such-queue"));
        // every synchronous request was paired with its reply (one-way methods carry no response)
        assertThat(logs).filteredOn(l -> !l.method().toString().matches("basic\\.(publish|deliver|ack|return)")
                && !(l.method().contentEquals("channel.close") && l.statusCode() == 404))
                .allSatisfy(l -> assertThat(l.responseBytes()).as("reply of %s", l).isPositive());
    }

    /** The client's side of the story; each step checks what the broker answered. */
    private void drive() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        factory.setPort(PORT);
        factory.setVirtualHost("/");
        factory.setConnectionTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        factory.setAutomaticRecoveryEnabled(false);
        try (Connection conn = factory.newConnection("periscope-amqp")) {
            Channel ch = conn.createChannel();
            ch.exchangeDeclare("orders", "direct");
            ch.queueDeclare("orders.created", false, false, false, null);
            ch.queueBind("orders.created", "orders", "created");

            ch.basicPublish("orders", "created", null, "order 1".getBytes(StandardCharsets.UTF_8));
            ch.basicPublish("orders", "created", null, "order 2".getBytes(StandardCharsets.UTF_8));
            BlockingQueue<String> delivered = new ArrayBlockingQueue<>(4);
            String tag = ch.basicConsume("orders.created", false, (consumerTag, d) -> {
                ch.basicAck(d.getEnvelope().getDeliveryTag(), false);
                delivered.add(d.getEnvelope().getRoutingKey() + " " + new String(d.getBody(), StandardCharsets.UTF_8));
            }, consumerTag -> { });
            assertThat(delivered.poll(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("created order 1");
            assertThat(delivered.poll(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("created order 2");
            ch.basicCancel(tag);

            ch.basicPublish("orders", "created", null, "order 3".getBytes(StandardCharsets.UTF_8));
            GetResponse got = null;
            for (int i = 0; i < 100 && got == null; i++) {
                got = ch.basicGet("orders.created", true);
                if (got == null) {
                    Thread.sleep(20);
                }
            }
            assertThat(got).as("basic.get of order 3").isNotNull();

            // mandatory and unroutable: the broker returns it (312 NO_ROUTE)
            BlockingQueue<Integer> returned = new ArrayBlockingQueue<>(1);
            ch.addReturnListener(r -> returned.add(r.getReplyCode()));
            ch.basicPublish("orders", "nowhere", true, null, "lost".getBytes(StandardCharsets.UTF_8));
            assertThat(returned.poll(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(312);

            // a passive declare of a missing queue: channel.close 404 NOT_FOUND
            Channel doomed = conn.createChannel();
            assertThatThrownBy(() -> doomed.queueDeclarePassive("no-such-queue")).isInstanceOf(IOException.class)
                    .hasStackTraceContaining("NOT_FOUND");
            ch.close();
        }
    }

    private Process startBroker() throws IOException {
        Path conf = dir.resolve("rabbitmq.conf");
        Files.writeString(conf, "listeners.tcp.default = 127.0.0.1:" + PORT + "\n");
        Path plugins = Files.writeString(dir.resolve("enabled_plugins"), "[].\n");
        Path envFile = Files.writeString(dir.resolve("rabbitmq-env.conf"), "");
        ProcessBuilder pb = new ProcessBuilder("/usr/lib/rabbitmq/bin/rabbitmq-server").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("rabbitmq.out").toFile());
        Map<String, String> env = pb.environment();
        // everything the node reads or writes is ours: nothing under /etc/rabbitmq or /var/lib/rabbitmq
        env.put("HOME", dir.toString());
        env.put("RABBITMQ_CONF_ENV_FILE", envFile.toString());
        env.put("RABBITMQ_NODENAME", "periscope-test@localhost");
        env.put("RABBITMQ_BASE", dir.toString());
        env.put("RABBITMQ_CONFIG_FILE", conf.toString());
        env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
        env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
        env.put("RABBITMQ_LOGS", "-");
        env.put("RABBITMQ_ENABLED_PLUGINS_FILE", plugins.toString());
        env.put("RABBITMQ_DIST_PORT", String.valueOf(DIST_PORT));
        env.put("ERL_EPMD_PORT", String.valueOf(EPMD_PORT));
        env.put("ERL_EPMD_ADDRESS", "127.0.0.1");
        return pb.start();
    }

    private void awaitListener(Process broker) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            if (!broker.isAlive()) {
                throw new IOException("rabbitmq-server exited with " + broker.exitValue() + ":\n" + brokerOutput());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", PORT), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new IOException("rabbitmq-server did not listen on " + PORT + " within " + START_TIMEOUT_MILLIS
                + " ms:\n" + brokerOutput());
    }

    private String brokerOutput() throws IOException {
        return Files.readString(dir.resolve("rabbitmq.out"), StandardCharsets.UTF_8);
    }

    /**
     * SIGTERM makes the script stop the node cleanly; whatever is left (the Erlang VM, and the
     * epmd it started on our port) is killed so that nothing outlives the test.
     */
    private void stopBroker(Process broker) throws IOException, InterruptedException {
        List<ProcessHandle> family = new ArrayList<>(broker.descendants().toList());
        broker.destroy();
        if (!broker.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
            broker.destroyForcibly();
        }
        for (ProcessHandle p : family) {
            p.destroyForcibly();
        }
        LocalProcess.run(dir, true, "epmd", "-port",
                String.valueOf(EPMD_PORT), "-kill");
    }
}
