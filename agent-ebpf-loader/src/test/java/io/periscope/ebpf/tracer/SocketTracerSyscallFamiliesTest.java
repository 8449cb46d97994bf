package io.periscope.ebpf.tracer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Each syscall family really used by a small C program (compiled here with clang), seen by the tracer. */
@Tag("kernel")
class SocketTracerSyscallFamiliesTest {
    private static final int RW_PORT = 18010;
    private static final int VECTORED_PORT = 18011;
    private static final int SENDTO_PORT = 18012;
    private static final int MSG_PORT = 18013;
    private static final int MMSG_PORT = 18014;
    private static final int DGRAM_PORT = 18015;
    private static final int REUSE_PORT = 18016;
    private static final int REUSE_CONNECTIONS = 6;
    private static final int EXIT_PORT = 18017;
    private static final int EXIT_CONNECTIONS = 8;
    private static final int SHARED_PORT = 18018;
    private static final int LOOP_PORT = 18019;
    private static final int LOOP_CONNECTIONS = 20;
    private static final int LOOP_ROUNDS = 3;
    private static final int LOOP_REOPENED = 5;
    private static final int FAIL_PORT = 18021;

    @TempDir
    static Path dir;
    private static Path helper;
    private static SocketTracer tracer;
    private long staleBefore;

    @BeforeAll
    static void compileHelperAndOpenTracer() throws Exception {
        Path source = dir.resolve("syscall_families.c");
        try (InputStream in = SocketTracerSyscallFamiliesTest.class.getResourceAsStream("syscall_families.c")) {
            Files.write(source, in.readAllBytes());
        }
        helper = dir.resolve("syscall_families");
        Process cc = new ProcessBuilder("clang", "-O2", "-Wall", "-o", helper.toString(), source.toString())
                .redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(cc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(cc.exitValue()).as("clang (needs clang and libc6-dev): " + ccOut).isZero();
        tracer = SocketTracer.open(SocketTracerConfig.builder()
                .ports(RW_PORT, VECTORED_PORT, SENDTO_PORT, MSG_PORT, MMSG_PORT, DGRAM_PORT, REUSE_PORT, EXIT_PORT,
                        SHARED_PORT, LOOP_PORT, FAIL_PORT)
                .build());
    }

    @AfterAll
    static void closeTracer() {
        if (tracer != null) {
            tracer.close();
        }
    }

    @Test
    void shouldCaptureReadAndWrite() throws Exception {
        exchange("rw", RW_PORT, SocketEvent.SYSCALL_WRITE, SocketEvent.SYSCALL_READ);
    }

    @Test
    void shouldGatherPayloadAcrossIovecsOfWritevAndReadv() throws Exception {
        exchange("v", VECTORED_PORT, SocketEvent.SYSCALL_WRITEV, SocketEvent.SYSCALL_READV);
    }

    @Test
    void shouldCaptureSendtoAndRecvfrom() throws Exception {
        exchange("to", SENDTO_PORT, SocketEvent.SYSCALL_SENDTO, SocketEvent.SYSCALL_RECVFROM);
    }

    @Test
    void shouldCaptureSendmsgAndRecvmsg() throws Exception {
        exchange("msg", MSG_PORT, SocketEvent.SYSCALL_SENDMSG, SocketEvent.SYSCALL_RECVMSG);
    }

    @Test
    void shouldEmitOneEventPerDatagramOfSendmmsgAndRecvmmsg() throws Exception {
        List<CapturedEvent> events = run("mmsg", MMSG_PORT, 8);
        String req = "REQ-mmsg-0123456789abcdefghij";
        List<CapturedEvent> sent = events.stream()
                .filter(e -> e.syscall() == SocketEvent.SYSCALL_SENDMMSG && e.remotePort() == MMSG_PORT)
                .collect(Collectors.toList());
        List<CapturedEvent> received = events.stream()
                .filter(e -> e.syscall() == SocketEvent.SYSCALL_RECVMMSG && e.localPort() == MMSG_PORT)
                .collect(Collectors.toList());
        assertThat(sent).extracting(CapturedEvent::payload).containsExactly(req, "+second");
        assertThat(received).extracting(CapturedEvent::payload).containsExactly(req, "+second");
        assertThat(received).allSatisfy(e -> {
            assertThat(e.l4Protocol()).isEqualTo(SocketEvent.IPPROTO_UDP);
            assertThat(e.direction()).isEqualTo(SocketEvent.DIRECTION_INGRESS);
            assertThat(e.tcpSeq()).isZero();
        });
        assertThat(sent.get(0).returnBytes()).isEqualTo(req.length());
        assertThat(sent.get(1).returnBytes()).isEqualTo("+second".length());
        assertThat(sent.get(0).role()).isEqualTo(SocketEvent.ROLE_CLIENT);
    }

    @Test
    void shouldTakeThePeerOfUnconnectedUdpFromTheSyscallAddress() throws Exception {
        // Unconnected sockets have no peer in the sock; the port filter still matches the
        // server's bound port, and the client's side is matched through the peer port.
        List<CapturedEvent> events = run("dgram", DGRAM_PORT, 4);
        CapturedEvent clientSend = only(events, SocketEvent.SYSCALL_SENDTO, "REQ-dgram-0123456789abcdefghij");
        CapturedEvent serverRecv = only(events, SocketEvent.SYSCALL_RECVFROM, "REQ-dgram-0123456789abcdefghij");
        CapturedEvent serverSend = only(events, SocketEvent.SYSCALL_SENDTO, "RSP-dgram-klmnopqrstuvwxyz9876543210");
        CapturedEvent clientRecv = only(events, SocketEvent.SYSCALL_RECVFROM, "RSP-dgram-klmnopqrstuvwxyz9876543210");

        assertThat(clientSend.remotePort()).isEqualTo(DGRAM_PORT);
        assertThat(clientSend.remoteAddress()).isEqualTo("127.0.0.1");
        assertThat(serverRecv.localPort()).isEqualTo(DGRAM_PORT);
        assertThat(serverRecv.remotePort()).isEqualTo(clientSend.localPort()).isNotZero();
        assertThat(serverRecv.remoteAddress()).isEqualTo("127.0.0.1");
        assertThat(serverSend.remotePort()).isEqualTo(clientSend.localPort());
        assertThat(clientRecv.l4Protocol()).isEqualTo(SocketEvent.IPPROTO_UDP);
        assertThat(clientRecv.remotePort()).isEqualTo(DGRAM_PORT);
    }

    @Test
    void shouldGiveEveryConnectionNewSocketIdsWhenClosedSocketsAreReused() throws Exception {
        // One thread opens, uses and closes connections one after another, so a new socket
        // often gets the memory of the one just closed, the socket the thread's last events were
        // on: neither the kernel's socket table nor a per-thread copy may hand it the old id.
        List<CapturedEvent> events = run("reuse", REUSE_PORT, 4 * REUSE_CONNECTIONS);
        List<CapturedEvent> writes = events.stream().filter(e -> e.syscall() == SocketEvent.SYSCALL_WRITE
                && e.role() == SocketEvent.ROLE_CLIENT).collect(Collectors.toList());
        List<CapturedEvent> reads = events.stream().filter(e -> e.syscall() == SocketEvent.SYSCALL_READ
                && e.role() == SocketEvent.ROLE_SERVER).collect(Collectors.toList());
        assertThat(writes).extracting(CapturedEvent::payload).containsExactly(
                IntStream.range(0, REUSE_CONNECTIONS).mapToObj(i -> "REQ-reuse-" + i).toArray(String[]::new));
        assertThat(reads).extracting(CapturedEvent::payload)
                .containsExactlyElementsOf(writes.stream().map(CapturedEvent::payload).collect(Collectors.toList()));
        Set<Long> ids = events.stream().map(CapturedEvent::socketId).collect(Collectors.toSet());
        assertThat(ids).as("socket ids of %s", events).hasSize(2 * REUSE_CONNECTIONS);
        for (int i = 0; i < REUSE_CONNECTIONS; i++) {
            // Event 4i is the client's request, 4i+3 its read of the response: same socket.
            assertThat(events.get(4 * i)).isEqualTo(writes.get(i));
            assertThat(events.get(4 * i + 3).socketId()).isEqualTo(writes.get(i).socketId());
            assertThat(events.get(4 * i + 3).payload()).isEqualTo("RSP");
            assertThat(reads.get(i).remotePort()).isEqualTo(writes.get(i).localPort());
            assertThat(reads.get(i).tcpSeq()).isEqualTo(writes.get(i).tcpSeq());
        }
    }

    @Test
    void shouldNeverGiveTwoConnectionsOneSocketIdWhenProcessesExitWithoutClose() throws Exception {
        // Children connect, talk and exit without close(): the kernel closes their sockets at exit,
        // no close syscall is traced, and the next round's socket tends to get the freed sock's
        // memory (all on one CPU). As with a postgres backend followed by nginx's next accepted
        // socket, the new socket must not inherit the old one's socks entry and id.
        List<CapturedEvent> all = runUntilExit("exit", EXIT_PORT);
        List<CapturedEvent> data = dataOn(all, EXIT_PORT);
        assertThat(data).as("data events").hasSize(4 * EXIT_CONNECTIONS);
        assertRequests(data, "exit");
        assertOneSocketPerIdAfterStaleEnds(data, 2 * EXIT_CONNECTIONS);
        // The exited children's ids were ended by close events (fd -1) when their socks were reused.
        Set<Long> childIds = data.stream().filter(e -> e.role() == SocketEvent.ROLE_CLIENT)
                .map(CapturedEvent::socketId).collect(Collectors.toSet());
        assertThat(all).filteredOn(e -> e.kind() == SocketEvent.KIND_CLOSE && e.fd() == -1
                && childIds.contains(e.socketId())).as("close events ending exited children's ids").isNotEmpty();
    }

    @Test
    void shouldNotHandAThreadsCachedSocketIdToANewSocketAfterAnUntracedEnd() throws Exception {
        // One thread's last event is on a socket whose last reference a child takes away at its
        // exit: no traced close, no epoch bump. The thread's next socket tends to get the same
        // memory, so only the per-thread cache's own inode check keeps the old id away.
        List<CapturedEvent> all = runUntilExit("shared", SHARED_PORT);
        List<CapturedEvent> data = dataOn(all, SHARED_PORT);
        assertThat(data).as("data events").hasSize(4 * EXIT_CONNECTIONS);
        assertRequests(data, "shared");
        assertOneSocketPerIdAfterStaleEnds(data, 2 * EXIT_CONNECTIONS);
    }

    @Test
    void shouldKeepEachSocketsOwnIdWhenOneThreadServesManySockets() throws Exception {
        // An event loop: one thread alternates between 20 connections (40 sockets, more fds than
        // the tracer's per-thread fd cache has slots, so sockets share slots), and 5 of them are
        // closed and opened again on the same fd numbers. Every event must carry its own
        // socket's id and role: the cache is picked by fd but must only ever answer for the
        // very socket it holds.
        List<CapturedEvent> events = run("loop", LOOP_PORT, 4 * LOOP_CONNECTIONS * LOOP_ROUNDS);
        int sockets = 2 * (LOOP_CONNECTIONS + LOOP_REOPENED);
        assertOneSocketPerId(events, sockets);
        Map<String, Set<Long>> idsBySocket = events.stream().collect(Collectors.groupingBy(
                e -> e.localPort() + ">" + e.remotePort(), Collectors.mapping(CapturedEvent::socketId,
                        Collectors.toSet())));
        assertThat(idsBySocket).as("socket ids by socket").hasSize(sockets)
                .allSatisfy((socket, ids) -> assertThat(ids).as("ids of socket %s", socket).hasSize(1));
        assertThat(events).allSatisfy(e -> assertThat(e.role()).as("role of %s", e)
                .isEqualTo(e.localPort() == LOOP_PORT ? SocketEvent.ROLE_SERVER : SocketEvent.ROLE_CLIENT));
        List<String> served = events.stream().filter(e -> e.role() == SocketEvent.ROLE_SERVER
                && e.direction() == SocketEvent.DIRECTION_INGRESS).map(CapturedEvent::payload)
                .collect(Collectors.toList());
        assertThat(served).containsExactlyElementsOf(IntStream.range(0, LOOP_ROUNDS).boxed()
                .flatMap(r -> IntStream.range(0, LOOP_CONNECTIONS).mapToObj(i -> "REQ-loop-" + i + "-" + r))
                .collect(Collectors.toList()));
    }

    @Test
    void shouldGiveNoEventForFailedCallsAndPairEachDataCallWithItsOwnEnter() throws Exception {
        // The server's non-blocking socket fails recvfrom and read with EAGAIN three times each
        // before the request arrives, and its last recvfrom sees EOF. The exit of a failed call
        // leaves before touching the thread's state (its in-flight flag stays set), so the
        // successful recvfrom must still carry its own enter time: one thread plays both ends,
        // so that enter follows the client write's exit, while every failed call's came before.
        List<CapturedEvent> events = run("fail", FAIL_PORT, 4);
        CapturedEvent clientSend = only(events, SocketEvent.SYSCALL_WRITE, "REQ-fail-0");
        CapturedEvent serverRecv = only(events, SocketEvent.SYSCALL_RECVFROM, "REQ-fail-0");
        CapturedEvent serverSend = only(events, SocketEvent.SYSCALL_WRITE, "RSP-fail-0");
        CapturedEvent clientRecv = only(events, SocketEvent.SYSCALL_READ, "RSP-fail-0");
        assertThat(events).allSatisfy(e -> assertThat(e.returnBytes()).isEqualTo(10));
        assertThat(serverRecv.enterNanos()).isGreaterThan(clientSend.exitNanos());
        assertThat(serverRecv.exitNanos()).isGreaterThanOrEqualTo(serverRecv.enterNanos());
        assertThat(serverSend.enterNanos()).isGreaterThan(serverRecv.exitNanos());
        assertThat(clientRecv.enterNanos()).isGreaterThan(serverSend.exitNanos());
        assertThat(serverRecv.role()).isEqualTo(SocketEvent.ROLE_SERVER);
        assertThat(serverRecv.direction()).isEqualTo(SocketEvent.DIRECTION_INGRESS);
        assertThat(serverRecv.tcpSeq()).isEqualTo(clientSend.tcpSeq());
        assertThat(clientRecv.tcpSeq()).isEqualTo(serverSend.tcpSeq());
        assertThat(serverSend.traceId()).isEqualTo(serverRecv.traceId()).isNotZero();
    }

    private List<CapturedEvent> runUntilExit(String mode, int port) throws IOException, InterruptedException {
        staleBefore = tracer.staleSocketEntries();
        Process p = new ProcessBuilder(helper.toString(), mode, Integer.toString(port))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        int pid = (int) p.pid();
        return new EventCollector(tracer).until(e -> e.pid() == pid && e.kind() == SocketEvent.KIND_EXIT);
    }

    private static List<CapturedEvent> dataOn(List<CapturedEvent> all, int port) {
        return all.stream().filter(e -> e.isData() && (e.localPort() == port || e.remotePort() == port))
                .collect(Collectors.toList());
    }

    private static void assertRequests(List<CapturedEvent> data, String mode) {
        List<String> sent = data.stream().filter(e -> e.syscall() == SocketEvent.SYSCALL_WRITE
                && e.role() == SocketEvent.ROLE_CLIENT).map(CapturedEvent::payload).collect(Collectors.toList());
        assertThat(sent).containsExactly(IntStream.range(0, EXIT_CONNECTIONS).mapToObj(i -> "REQ-" + mode + "-" + i)
                .toArray(String[]::new));
    }

    /** A socket is its (local port, remote port) on loopback: {@code sockets} ids, one socket per id. */
    private static void assertOneSocketPerId(List<CapturedEvent> data, int sockets) {
        Map<Long, Set<String>> socketsById = data.stream().collect(Collectors.groupingBy(
                CapturedEvent::socketId, Collectors.mapping(e -> e.localPort() + ">" + e.remotePort(),
                        Collectors.toSet())));
        assertThat(socketsById).as("sockets (local>remote port) by socket id").hasSize(sockets)
                .allSatisfy((id, ports) -> assertThat(ports).as("sockets of id %d", id).hasSize(1));
    }

    /** As {@link #assertOneSocketPerId}, in a scenario that must have replaced stale socket entries. */
    private void assertOneSocketPerIdAfterStaleEnds(List<CapturedEvent> data, int sockets) {
        assertOneSocketPerId(data, sockets);
        // The scenario really reused sockets that ended untraced (else this test could not fail).
        assertThat(tracer.staleSocketEntries() - staleBefore).as("stale socket entries replaced").isPositive();
    }

    private void exchange(String mode, int port, int sendSyscall, int recvSyscall) throws Exception {
        List<CapturedEvent> events = run(mode, port, 4);
        String req = "REQ-" + mode + "-0123456789abcdefghij";
        String rsp = "RSP-" + mode + "-klmnopqrstuvwxyz9876543210";

        CapturedEvent clientSend = only(events, sendSyscall, req);
        CapturedEvent serverRecv = only(events, recvSyscall, req);
        CapturedEvent serverSend = only(events, sendSyscall, rsp);
        CapturedEvent clientRecv = only(events, recvSyscall, rsp);

        assertThat(clientSend.direction()).isEqualTo(SocketEvent.DIRECTION_EGRESS);
        assertThat(clientSend.role()).isEqualTo(SocketEvent.ROLE_CLIENT);
        assertThat(clientSend.remotePort()).isEqualTo(port);
        assertThat(clientSend.returnBytes()).isEqualTo(req.length());
        assertThat(serverRecv.direction()).isEqualTo(SocketEvent.DIRECTION_INGRESS);
        assertThat(serverRecv.role()).isEqualTo(SocketEvent.ROLE_SERVER);
        assertThat(serverRecv.localPort()).isEqualTo(port);
        assertThat(serverRecv.remotePort()).isEqualTo(clientSend.localPort());
        assertThat(serverRecv.socketId()).isEqualTo(serverSend.socketId()).isNotEqualTo(clientSend.socketId());
        assertThat(serverRecv.tcpSeq()).isEqualTo(clientSend.tcpSeq());
        assertThat(clientRecv.tcpSeq()).isEqualTo(serverSend.tcpSeq());
        // One thread plays both ends: each read after a write opens a new trace id.
        assertThat(serverRecv.traceId()).isNotZero();
        assertThat(clientRecv.traceId()).isGreaterThan(serverRecv.traceId());
        assertThat(serverSend.traceId()).isEqualTo(serverRecv.traceId());
        assertThat(events).allSatisfy(e -> assertThat(e.comm()).isEqualTo("syscall_familie"));
    }

    private static CapturedEvent only(List<CapturedEvent> events, int syscall, String payload) {
        List<CapturedEvent> matching = events.stream()
                .filter(e -> e.syscall() == syscall && e.payload().equals(payload)).collect(Collectors.toList());
        assertThat(matching).as("events with syscall %d and payload %s among %s", syscall, payload, events)
                .hasSize(1);
        return matching.get(0);
    }

    private List<CapturedEvent> run(String mode, int port, int expectedDataEvents)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(helper.toString(), mode, Integer.toString(port)).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        int pid = (int) p.pid();
        List<CapturedEvent> all = new EventCollector(tracer).until(
                e -> e.pid() == pid && e.kind() == SocketEvent.KIND_EXIT);
        List<CapturedEvent> mine = all.stream().filter(e -> e.pid() == pid && e.isData())
                .collect(Collectors.toList());
        assertThat(mine).as("data events of %s", mode).hasSize(expectedDataEvents);
        return mine;
    }
}
