package io.periscope.protocols.realtraffic;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.dns.DnsParser;
import io.periscope.protocols.mysql.MysqlParser;
import io.periscope.protocols.pgsql.PostgresParser;
import io.periscope.protocols.testing.LocalProcess;
import io.periscope.protocols.testing.PcapReplay;
import io.periscope.protocols.testing.Tshark;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import javax.naming.Context;
import javax.naming.NamingException;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Hashtable;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real PostgreSQL (psql, pgbench extended protocol), MariaDB (mysql client, plain and
 * compressed) and dnsmasq (the JDK's DNS client) on loopback, captured with tcpdump; our records
 * are compared with tshark's reading of the same capture.
 */
@Tag("kernel")
class DatabaseDnsTrafficTest {
    private static final int PG_PORT = 18204;
    private static final int MYSQL_PORT = 18205;
    private static final int DNS_PORT = 18206;
    private static final String PG_BIN = "/usr/lib/postgresql/15/bin/";

    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        // not @TempDir: the postgres user must be able to own it
        dir = Files.createTempDirectory("periscope-proto-");
    }

    @AfterEach
    void removeDir() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void postgresShouldReadAsTsharkReadsIt() throws Exception {
        Path data = dir.resolve("data");
        LocalProcess.run(dir, false, "chown", "postgres:postgres", dir.toString());
        LocalProcess.run(dir, false, "runuser", "-u", "postgres", "--", PG_BIN + "initdb", "-D", data.toString(),
                "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
        Path pcap = dir.resolve("pg.pcap");
        Path script = dir.resolve("bench.sql");
        Files.writeString(script, "\\set id 7\nSELECT :id AS answer, 'x' AS label;\n");
        try (LocalProcess pg = LocalProcess.start(dir.resolve("pg.out"), "runuser", "-u", "postgres", "--",
                PG_BIN + "postgres", "-D", data.toString(), "-p", String.valueOf(PG_PORT), "-k", dir.toString(),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")) {
            pg.awaitPort(PG_PORT, 60_000);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + PG_PORT);
            String conn = "host=127.0.0.1 port=" + PG_PORT + " user=postgres dbname=postgres sslmode=disable";
            LocalProcess.run(dir, true, "psql", conn, "-c", "CREATE TABLE t (id int, name text)",
                    "-c", "INSERT INTO t VALUES (1, 'alice')", "-c", "SELECT name FROM t WHERE id = 1",
                    "-c", "SELECT * FROM nope");
            LocalProcess.run(dir, false, PG_BIN + "pgbench", "-n", "-M", "extended", "-t", "2", "-f",
                    script.toString(), "-h", "127.0.0.1", "-p", String.valueOf(PG_PORT), "-U", "postgres",
                    "postgres");
            capture.stopCapture(pcap);
        }
        NginxRedisTrafficTest.keep(pcap);

        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.builder().obfuscate(false).build())
                .stream().filter(l -> l.protocol() == L7Protocol.POSTGRESQL).toList();
        List<String[]> rows = Tshark.fields(pcap, List.of("tcp.port==" + PG_PORT + ",pgsql"), "pgsql.query",
                "pgsql.code");
        List<String> queries = new ArrayList<>();
        List<String> codes = new ArrayList<>();
        for (String[] r : rows) {
            if (!r[0].isEmpty()) {
                queries.add(r[0].replaceAll(";$", ""));
            }
            if (!r[1].isEmpty()) {
                codes.add(r[1]);
            }
        }
        List<String> ours = logs.stream().map(l -> l.resource().toString()).filter(s -> !s.isEmpty()).toList();
        assertThat(ours).containsExactlyElementsOf(queries);
        assertThat(queries).contains("SELECT name FROM t WHERE id = 1", "SELECT $1 AS answer, 'x' AS label");
        assertThat(logs.stream().map(l -> l.attribute(PostgresParser.DB_STATUS_CODE)).filter(a -> a != null)
                .map(Object::toString).toList()).containsExactlyElementsOf(codes).containsExactly("42P01");
        RequestLog insert = logs.stream().filter(l -> l.method().contentEquals("INSERT")).findFirst().orElseThrow();
        assertThat(insert.attribute(PostgresParser.DB_ROWS).toString()).isEqualTo("1");
        assertThat(insert.attribute(PostgresParser.DB_NAMESPACE).toString()).isEqualTo("postgres");
        assertThat(logs.stream().filter(l -> l.statusClass() == StatusClass.CLIENT_ERROR).count()).isEqualTo(1);
        assertThat(logs).noneMatch(l -> l.statusClass() == StatusClass.TIMEOUT);
    }

    @Test
    void mariadbShouldReadAsTsharkReadsItPlainAndCompressed() throws Exception {
        Path data = dir.resolve("data");
        LocalProcess.run(dir, false, "mariadb-install-db", "--no-defaults", "--datadir=" + data, "--user=root",
                "--auth-root-authentication-method=normal", "--skip-test-db");
        Path pcap = dir.resolve("mysql.pcap");
        try (LocalProcess db = LocalProcess.start(dir.resolve("mariadb.out"), "mariadbd", "--no-defaults",
                "--datadir=" + data, "--port=" + MYSQL_PORT, "--bind-address=127.0.0.1",
                "--socket=" + dir.resolve("mysql.sock"), "--user=root", "--skip-grant-tables",
                "--pid-file=" + dir.resolve("mariadb.pid"), "--skip-log-bin", "--innodb-buffer-pool-size=16M")) {
            db.awaitPort(MYSQL_PORT, 60_000);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + MYSQL_PORT);
            String[] client = {"mysql", "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P",
                String.valueOf(MYSQL_PORT), "-u", "root"};
            LocalProcess.run(dir, true, concat(client, "-e", "CREATE DATABASE shop; USE shop; "
                    + "CREATE TABLE t (id INT, name VARCHAR(20)); INSERT INTO t VALUES (1, 'alice'); "
                    + "SELECT name FROM t WHERE id = 1; SELECT * FROM nope"));
            LocalProcess.run(dir, false, concat(client, "-C", "-e", "SELECT 42 AS compressed_answer"));
            capture.stopCapture(pcap);
        }
        NginxRedisTrafficTest.keep(pcap);

        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.builder().obfuscate(false).build())
                .stream().filter(l -> l.protocol() == L7Protocol.MYSQL).toList();
        List<String[]> rows = Tshark.fields(pcap, List.of("tcp.port==" + MYSQL_PORT + ",mysql"), "mysql.query",
                "mysql.error_code");
        List<String> queries = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (String[] r : rows) {
            if (!r[0].isEmpty()) {
                queries.add(r[0]);
            }
            if (!r[1].isEmpty()) {
                errors.add(r[1]);
            }
        }
        // USE (COM_INIT_DB) is a schema name to tshark, not a query
        List<String> ours = logs.stream().filter(l -> !l.method().contentEquals("LOGIN")
                        && !l.method().contentEquals("USE") && !l.resource().isEmpty())
                .map(l -> l.resource().toString()).toList();
        // tshark does not decode the compressed connection; everything it does read, we read the same
        assertThat(ours.subList(0, queries.size())).containsExactlyElementsOf(queries);
        assertThat(queries).contains("SELECT name FROM t WHERE id = 1");
        assertThat(ours).contains("SELECT 42 AS compressed_answer");
        assertThat(logs.stream().filter(l -> l.statusClass() == StatusClass.CLIENT_ERROR
                || l.statusClass() == StatusClass.SERVER_ERROR).map(l -> String.valueOf(l.statusCode())).toList())
                .containsExactlyElementsOf(errors).containsExactly("1146");
        RequestLog error = logs.stream().filter(l -> l.statusCode() == 1146).findFirst().orElseThrow();
        assertThat(error.attribute(MysqlParser.DB_STATUS_CODE).toString()).isEqualTo("42S02");
        assertThat(logs.stream().filter(l -> l.method().contentEquals("LOGIN")).count()).isEqualTo(2);
        assertThat(logs).noneMatch(l -> l.statusClass() == StatusClass.TIMEOUT);
    }

    @Test
    void dnsmasqShouldReadAsTsharkReadsIt() throws Exception {
        Path pcap = dir.resolve("dns.pcap");
        try (LocalProcess dnsmasq = LocalProcess.start(dir.resolve("dnsmasq.out"), "dnsmasq", "-d",
                "--port=" + DNS_PORT, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--address=/example.test/10.1.2.3", "--user=root", "--pid-file=" + dir.resolve("dnsmasq.pid"))) {
            dnsmasq.awaitPort(DNS_PORT, 10_000);
            LocalProcess capture = LocalProcess.capture(pcap, "port " + DNS_PORT);
            Hashtable<String, String> env = new Hashtable<>();
            env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
            env.put(Context.PROVIDER_URL, "dns://127.0.0.1:" + DNS_PORT);
            DirContext ctx = new InitialDirContext(env);
            Attributes a = ctx.getAttributes("www.example.test", new String[] {"A"});
            assertThat(a.get("A").get().toString()).isEqualTo("10.1.2.3");
            // dnsmasq has no upstream for these: an error answer is the point
            query(ctx, "nothing.invalid", "A");
            query(ctx, "mail.example.test", "AAAA");
            ctx.close();
            capture.stopCapture(pcap);
        }
        NginxRedisTrafficTest.keep(pcap);

        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.defaults()).stream()
                .filter(l -> l.protocol() == L7Protocol.DNS).toList();
        List<String[]> rows = Tshark.fields(pcap, List.of("udp.port==" + DNS_PORT + ",dns",
                "tcp.port==" + DNS_PORT + ",dns"), "dns.flags.response", "dns.qry.name", "dns.flags.rcode");
        List<String> answers = rows.stream().filter(r -> r[0].equals("1") || r[0].equals("True"))
                .map(r -> r[1] + " " + r[2]).toList();
        assertThat(answers).hasSizeGreaterThanOrEqualTo(3);
        assertThat(logs).extracting(l -> l.resource() + " " + l.statusCode()).containsExactlyElementsOf(answers);
        assertThat(logs.get(0).attribute(DnsParser.QUESTION_TYPE).toString()).isEqualTo("A");
        assertThat(logs.get(0).statusClass()).isEqualTo(StatusClass.OK);
        assertThat(logs.get(1).statusClass()).isNotEqualTo(StatusClass.OK);
        assertThat(logs).anyMatch(l -> l.attribute(DnsParser.QUESTION_TYPE).contentEquals("AAAA"));
    }

    private static void query(DirContext ctx, String name, String type) {
        try {
            ctx.getAttributes(name, new String[] {type});
        } catch (NamingException expected) {
            // the answer was an error code; what matters is what went over the wire
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
