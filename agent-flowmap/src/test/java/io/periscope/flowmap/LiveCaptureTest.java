package io.periscope.flowmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real traffic between two network namespaces (nginx + curl, iperf3 TCP and UDP, a burst of short
 * connections) captured on the veth with the AF_PACKET ring and accounted by the flow table;
 * checked against what the senders themselves report.
 */
@Tag("kernel")
class LiveCaptureTest {
    private static final int HTTP_PORT = 18120;
    private static final int IPERF_TCP_PORT = 18121;
    private static final int IPERF_UDP_PORT = 18122;
    private static final int FILE_BYTES = 300_000;
    private static final int SHORT_CONNECTIONS = 40;
    private static final int FLOOD_PORT = 18130;
    private static final int FLOOD_FLOWS = 3000;
    private static final int FLOOD_CAPACITY = 256;

    private static Netns netns;
    private static Process nginx;

    @TempDir
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        netns = Netns.create();
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("file.bin"), new byte[FILE_BYTES]);
        Files.writeString(www.resolve("small.txt"), "hello from psf-a\n");
        String conf = """
                daemon off;
                master_process off;
                worker_processes 1;
                user root;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log;
                events { worker_connections 256; }
                http {
                    access_log off;
                    client_body_temp_path %1$s/body;
                    proxy_temp_path %1$s/proxy;
                    fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi;
                    scgi_temp_path %1$s/scgi;
                    server {
                        listen %2$s:%3$d;
                        root %1$s/www;
                    }
                }
                """.formatted(dir, Netns.SERVER_IP, HTTP_PORT);
        Files.writeString(dir.resolve("nginx.conf"), conf);
        nginx = Netns.startInNs(Netns.NS_SERVER, dir.resolve("nginx.out"), "nginx", "-c",
                dir.resolve("nginx.conf").toString(), "-p", dir.toString());
        Netns.awaitListening(Netns.NS_SERVER, HTTP_PORT);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (nginx != null) {
            nginx.destroy();
            nginx.waitFor();
        }
        if (netns != null) {
            netns.close();
        }
    }

    private static String curl(String path) throws Exception {
        return Netns.inNs(Netns.NS_CLIENT, "curl", "-sS", "-o", "/dev/null", "-w",
                "%{local_port} %{size_request} %{size_header} %{size_download}\n",
                "http://" + Netns.SERVER_IP + ":" + HTTP_PORT + path);
    }

    private static long jsonLong(String json, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.DOTALL).matcher(json);
        assertThat(m.find()).as("iperf3 JSON has %s", regex).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void shouldAccountRealHttpIperfAndShortConnections() throws Exception {
        FlowCapture capture = new FlowCapture(Netns.CAPTURE_IFACE, "net 10.201.0.0/24",
                FlowTableConfig.builder().maxFlows(4096).build());
        capture.awaitReady();

        String[] big = curl("/file.bin").trim().split(" ");
        List<String[]> shorts = new ArrayList<>();
        for (int i = 0; i < SHORT_CONNECTIONS; i++) {
            shorts.add(curl("/small.txt").trim().split(" "));
        }

        Process iperfTcp = Netns.startInNs(Netns.NS_SERVER, dir.resolve("iperf-tcp.out"), "iperf3", "-s", "-1",
                "-B", Netns.SERVER_IP, "-p", String.valueOf(IPERF_TCP_PORT));
        Netns.awaitListening(Netns.NS_SERVER, IPERF_TCP_PORT);
        String tcpJson = Netns.inNs(Netns.NS_CLIENT, "iperf3", "-J", "-c", Netns.SERVER_IP, "-p",
                String.valueOf(IPERF_TCP_PORT), "-n", "20M");
        iperfTcp.waitFor();

        Process iperfUdp = Netns.startInNs(Netns.NS_SERVER, dir.resolve("iperf-udp.out"), "iperf3", "-s", "-1",
                "-B", Netns.SERVER_IP, "-p", String.valueOf(IPERF_UDP_PORT));
        Netns.awaitListening(Netns.NS_SERVER, IPERF_UDP_PORT);
        String udpJson = Netns.inNs(Netns.NS_CLIENT, "iperf3", "-J", "-u", "-c", Netns.SERVER_IP, "-p",
                String.valueOf(IPERF_UDP_PORT), "-b", "50M", "-n", "2M", "-l", "1200");
        iperfUdp.waitFor();

        List<FlowTableTest.Snapshot> records = capture.stop();
        current = capture;
        assertThat(capture.capture.kernelDrops()).as("kernel ring drops").isZero();
        assertThat(capture.table.packetsDropped()).isZero();
        Map<Integer, List<FlowTableTest.Snapshot>> byClientPort = records.stream()
                .collect(Collectors.groupingBy(r -> r.clientPort() << 16 | r.serverPort()));

        // The big download: bytes in both directions equal curl's own counts.
        FlowTableTest.Snapshot download = single(byClientPort, Integer.parseInt(big[0]), HTTP_PORT);
        assertThat(download.serverPort()).isEqualTo(HTTP_PORT);
        assertStreamBytes(download, 0, Long.parseLong(big[1]), "request bytes (curl size_request)");
        assertStreamBytes(download, 1, Long.parseLong(big[2]) + Long.parseLong(big[3]),
                "response bytes (curl size_header + size_download)");
        assertThat(Long.parseLong(big[3])).isEqualTo(FILE_BYTES);
        assertThat(download.serverRtt()).isPositive();
        assertThat(download.clientRtt()).isPositive();
        assertThat(download.dataRttCount()).isPositive();
        assertThat(download.state()).isEqualTo(TcpState.CLOSED);
        assertThat(download.closeType()).isEqualTo(CloseType.FIN);

        // The burst of short connections: one closed flow each, with a measured handshake.
        for (String[] s : shorts) {
            FlowTableTest.Snapshot flow = single(byClientPort, Integer.parseInt(s[0]), HTTP_PORT);
            assertStreamBytes(flow, 0, Long.parseLong(s[1]), "short request");
            assertStreamBytes(flow, 1, Long.parseLong(s[2]) + Long.parseLong(s[3]), "short response");
            assertThat(flow.closeType()).isEqualTo(CloseType.FIN);
            assertThat(flow.serverRtt() + flow.clientRtt()).isPositive();
        }

        // iperf3 TCP: the data connection carries the sender's bytes plus iperf3's 37-byte cookie.
        // The server may end the test (TEST_END on the control connection) and reset the data
        // connection while the client's last writes are still in its send buffer: those bytes
        // never reach the wire. Then the wire count lies between what the server read and what
        // the client wrote, both as iperf3 reports them.
        long tcpSent = jsonLong(tcpJson, "\"sum_sent\"\\s*:\\s*\\{[^}]*?\"bytes\"\\s*:\\s*(\\d+)");
        long tcpReceived = jsonLong(tcpJson, "\"sum_received\"\\s*:\\s*\\{[^}]*?\"bytes\"\\s*:\\s*(\\d+)");
        int tcpDataPort = (int) jsonLong(tcpJson,
                "\"connected\"\\s*:\\s*\\[\\s*\\{[^}]*?\"local_port\"\\s*:\\s*(\\d+)");
        FlowTableTest.Snapshot tcpData = single(byClientPort, tcpDataPort, IPERF_TCP_PORT);
        assertThat(tcpData.serverPort()).isEqualTo(IPERF_TCP_PORT);
        if (tcpData.closeType() == CloseType.FIN) {
            assertStreamBytes(tcpData, 0, tcpSent + 37, "iperf3 TCP bytes sent + cookie");
        } else {
            assertThat(tcpData.closeType()).isEqualTo(CloseType.RST_BY_SERVER);
            assertThat(tcpData.payload()[0]).as("iperf3 TCP bytes on the wire, reset by the server")
                    .isBetween(tcpReceived + 37, tcpSent + 37 + tcpData.retrans()[0] * 65_536);
        }
        assertThat(tcpData.serverRtt()).isPositive();
        assertThat(tcpData.dataRttCount()).isPositive();
        assertThat(tcpData.closeType()).isIn(CloseType.FIN, CloseType.RST_BY_CLIENT, CloseType.RST_BY_SERVER);

        // iperf3 UDP: every datagram the sender counted, plus its 4-byte connect handshake.
        long udpBytes = jsonLong(udpJson, "\"sum_sent\"\\s*:\\s*\\{[^}]*?\"bytes\"\\s*:\\s*(\\d+)");
        long udpPackets = jsonLong(udpJson, "\"sum_sent\"\\s*:\\s*\\{[^}]*?\"packets\"\\s*:\\s*(\\d+)");
        FlowTableTest.Snapshot udp = records.stream()
                .filter(r -> r.serverPort() == IPERF_UDP_PORT && r.payload()[0] >= udpBytes)
                .findFirst().orElseThrow();
        assertThat(udp.state()).isEqualTo(TcpState.NONE);
        assertThat(udp.payload()[0] - udpBytes).as("UDP bytes beyond the sender's count").isBetween(0L, 16L);
        assertThat(udp.packets()[0] - udpPackets).as("UDP datagrams beyond the sender's count").isBetween(0L, 4L);

        assertThat(capture.endpointPackets).as("endpoint metrics per interval").isNotEmpty();
        assertThat(capture.endpointPackets.stream().filter(e -> e[0] == HTTP_PORT).mapToLong(e -> e[3]).sum())
                .as("new HTTP flows in the endpoint metrics").isEqualTo(SHORT_CONNECTIONS + 1);
    }

    /**
     * Payload bytes seen equal the sender's count exactly when nothing was retransmitted; a veth
     * can drop under a burst (its backlog queue), and a retransmitted segment's payload counts
     * again, so then the excess is bounded by one maximum (GSO) segment per retransmission.
     */
    private static FlowCapture current;

    @Test
    void shouldDropOrEvictAFloodOfDistinctFlowsBeyondCapacity() throws Exception {
        for (FlowTableConfig.FullPolicy policy : FlowTableConfig.FullPolicy.values()) {
            FlowCapture capture = new FlowCapture(Netns.CAPTURE_IFACE, "udp port " + FLOOD_PORT,
                    FlowTableConfig.builder().maxFlows(FLOOD_CAPACITY).fullPolicy(policy).build());
            capture.awaitReady();
            long memory = capture.table.memoryBytes();
            // Every redirect opens a new UDP socket: a new source port, so a new flow.
            Netns.inNs(Netns.NS_CLIENT, "bash", "-c", "for i in $(seq " + FLOOD_FLOWS + "); do echo -n x > /dev/udp/"
                    + Netns.SERVER_IP + "/" + FLOOD_PORT + "; done");
            Thread.sleep(200);
            int sizeBeforeStop = capture.table.size();
            long created = capture.table.flowsCreated();
            List<FlowTableTest.Snapshot> records = capture.stop();
            assertThat(capture.capture.kernelDrops()).isZero();
            assertThat(sizeBeforeStop).as("live flows never exceed the capacity").isEqualTo(FLOOD_CAPACITY);
            assertThat(capture.table.memoryBytes()).as("table memory is fixed").isEqualTo(memory);
            long distinct = capture.decoder.count(PacketDecoder.OK);
            assertThat(distinct).as("flood packets captured").isGreaterThan(FLOOD_FLOWS * 9L / 10);
            if (policy == FlowTableConfig.FullPolicy.DROP_NEW) {
                assertThat(capture.table.flowsDropped()).as("new flows dropped")
                        .isGreaterThanOrEqualTo(FLOOD_FLOWS / 2);
                assertThat(capture.table.packetsDropped()).isEqualTo(capture.table.flowsDropped());
                assertThat(capture.table.flowsEvicted()).isZero();
                assertThat(created).isEqualTo(FLOOD_CAPACITY);
            } else {
                assertThat(capture.table.flowsDropped()).isZero();
                assertThat(capture.table.flowsEvicted()).as("flows evicted").isGreaterThanOrEqualTo(FLOOD_FLOWS / 2);
                assertThat(records.stream().filter(r -> r.closeType() == CloseType.EVICTED).count())
                        .isEqualTo(capture.table.flowsEvicted());
                assertThat(created - capture.table.flowsEvicted()).isEqualTo(FLOOD_CAPACITY);
            }
        }
    }

    private static void assertStreamBytes(FlowTableTest.Snapshot flow, int dir, long senderBytes, String what0) {
        String what = what0 + " " + flow + " " + current.describe();
        long retrans = flow.retrans()[dir];
        if (retrans == 0) {
            assertThat(flow.payload()[dir]).as(what).isEqualTo(senderBytes);
        } else {
            assertThat(flow.payload()[dir]).as(what + " with %d retransmissions", retrans)
                    .isBetween(senderBytes, senderBytes + retrans * 65_536);
        }
    }

    private static FlowTableTest.Snapshot single(Map<Integer, List<FlowTableTest.Snapshot>> byPorts, int port,
                                                 int serverPort) {
        List<FlowTableTest.Snapshot> flows = byPorts.get(port << 16 | serverPort);
        assertThat(flows).as("flow records of client port %d", port).isNotNull().hasSize(1);
        return flows.get(0);
    }
}
