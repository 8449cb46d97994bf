package io.periscope.protocols.pgsql;

import io.periscope.protocols.CaptureSource;
import io.periscope.protocols.CapturedMessage;
import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.ProtocolEngine;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.Role;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.LocalProcess;
import io.periscope.protocols.testing.PacketDecoder;
import io.periscope.protocols.testing.PcapReader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The postgres backend's side of a pooled pgjdbc connection (bench scenario A's database hop):
 * a real postgres 15 and pgjdbc with a reused prepared statement, captured with tcpdump and fed to
 * the engine as the server sees it, from mid-stream and with no role, the way the socket tracer
 * hands over a postgres backend whose accept-time socket id the postmaster's close() ended.
 */
@Tag("kernel")
class PgjdbcServerSideTrafficTest {
    private static final int PG_PORT = 18450;
    private static final int EXECUTIONS = 30;
    private static final String PG_BIN = "/usr/lib/postgresql/15/bin/";
    private static final String STATEMENT = "SELECT v FROM chain WHERE id = ";

    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        // not @TempDir: the postgres user must be able to own it
        dir = Files.createTempDirectory("periscope-pg-");
    }

    @AfterEach
    void removeDir() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void everyExecutionOfAPooledPreparedStatementShouldMakeOneServerRequestFromMidStream() throws Exception {
        Path pcap = capturePgjdbc();
        List<PacketDecoder.Segment> segments = new ArrayList<>();
        for (PcapReader.Packet p : PcapReader.read(pcap)) {
            PacketDecoder.Segment s = PacketDecoder.decode(p);
            if (s != null && s.l4Protocol() == 6 && s.payloadLength() > 0) {
                segments.add(s);
            }
        }
        // from the first Parse of the prepared statement (unnamed, with a parameter type), and from
        // the first batch after prepareThreshold (Bind/Execute/Sync of the named statement only)
        int firstParse = firstClientSegment(segments, 'P', STATEMENT);
        int firstBindOnly = firstClientSegment(segments, 'B', "S_");
        assertThat(firstParse).as("pgjdbc sent the Parse of the prepared statement").isNotNegative();
        assertThat(firstBindOnly).as("pgjdbc switched to a server-side statement").isGreaterThan(firstParse);

        for (int start : new int[] {firstParse, firstBindOnly}) {
            List<RequestLog> logs = replayServerSide(segments.subList(start, segments.size()));
            long batches = segments.subList(start, segments.size()).stream()
                    .filter(s -> s.dstPort() == PG_PORT && endsWithSync(s)).count();
            assertThat(batches).as("client batches from segment %d", start).isGreaterThanOrEqualTo(EXECUTIONS - 5);
            assertThat(logs).as("one server request per client batch from segment %d", start)
                    .hasSize((int) batches)
                    .allSatisfy(l -> {
                        assertThat(l.protocol()).isEqualTo(L7Protocol.POSTGRESQL);
                        assertThat(l.role()).isEqualTo(Role.SERVER);
                        assertThat(l.statusClass()).isEqualTo(StatusClass.OK);
                        assertThat(l.attribute(PostgresParser.DB_ROWS).toString()).isEqualTo("1");
                    });
        }
    }

    private Path capturePgjdbc() throws Exception {
        Path data = dir.resolve("data");
        LocalProcess.run(dir, false, "chown", "postgres:postgres", dir.toString());
        LocalProcess.run(dir, false, "runuser", "-u", "postgres", "--", PG_BIN + "initdb", "-D", data.toString(),
                "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
        Path pcap = dir.resolve("pgjdbc.pcap");
        try (LocalProcess pg = LocalProcess.start(dir.resolve("pg.out"), "runuser", "-u", "postgres", "--",
                PG_BIN + "postgres", "-D", data.toString(), "-p", String.valueOf(PG_PORT), "-k", dir.toString(),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")) {
            pg.awaitPort(PG_PORT, 60_000);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + PG_PORT);
            String url = "jdbc:postgresql://127.0.0.1:" + PG_PORT + "/postgres?user=postgres&sslmode=disable";
            try (Connection db = DriverManager.getConnection(url)) {
                try (Statement s = db.createStatement()) {
                    s.execute("CREATE TABLE chain (id int PRIMARY KEY, v text)");
                    s.execute("INSERT INTO chain VALUES (1, 'value-from-postgresql')");
                }
                try (PreparedStatement q = db.prepareStatement(STATEMENT + "?")) {
                    for (int i = 0; i < EXECUTIONS; i++) {
                        q.setInt(1, 1);
                        try (ResultSet rs = q.executeQuery()) {
                            assertThat(rs.next()).isTrue();
                        }
                    }
                }
            }
            capture.stopCapture(pcap);
        }
        return pcap;
    }

    private static int firstClientSegment(List<PacketDecoder.Segment> segments, char type, String containing) {
        for (int i = 0; i < segments.size(); i++) {
            PacketDecoder.Segment s = segments.get(i);
            String text = new String(s.data(), s.payloadOffset(), s.payloadLength(), StandardCharsets.ISO_8859_1);
            if (s.dstPort() == PG_PORT && text.charAt(0) == type && text.contains(containing)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean endsWithSync(PacketDecoder.Segment s) {
        int end = s.payloadOffset() + s.payloadLength();
        byte[] d = s.data();
        return s.payloadLength() >= 5 && d[end - 5] == 'S' && d[end - 4] == 0 && d[end - 3] == 0 && d[end - 2] == 0
                && d[end - 1] == 4;
    }

    /** Feeds the segments as the server's socket: requests in, answers out, role unknown. */
    private static List<RequestLog> replayServerSide(List<PacketDecoder.Segment> segments) {
        ProtocolEngine engine = new ProtocolEngine(ProtocolConfig.defaults());
        List<RequestLog> logs = new ArrayList<>();
        CapturedMessage msg = new CapturedMessage();
        long nanos = 1_000;
        for (PacketDecoder.Segment s : segments) {
            boolean in = s.dstPort() == PG_PORT;
            msg.clear();
            msg.socketId(7).direction(in ? Direction.INGRESS : Direction.EGRESS).role(Role.UNKNOWN)
                    .captureSource(CaptureSource.SYSCALL).timestampNanos(nanos).l4Protocol(6).ipVersion(4)
                    .localPort(PG_PORT).remotePort(in ? s.srcPort() : s.dstPort());
            msg.payload(new UnsafeBuffer(s.data()), s.payloadOffset(), s.payloadLength(), s.payloadLength());
            engine.onMessage(msg, log -> logs.add(new RequestLog().copyFrom(log)));
            nanos += 1_000;
        }
        engine.onConnectionClosed(7, nanos, log -> logs.add(new RequestLog().copyFrom(log)));
        return logs;
    }
}
