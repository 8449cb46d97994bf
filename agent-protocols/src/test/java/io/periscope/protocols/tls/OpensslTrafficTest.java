package io.periscope.protocols.tls;

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

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * openssl s_server and s_client (the Debian openssl package): one TLS 1.3 handshake with SNI and
 * ALPN, one refused (a TLS 1.2-only client against a TLS 1.3-only server), captured with tcpdump
 * on lo and read by us and by tshark.
 */
@Tag("kernel")
class OpensslTrafficTest {
    private static final int PORT = 18503;

    @TempDir
    Path dir;

    @Test
    void opensslHandshakesShouldReadAsTsharkReadsThem() throws Exception {
        Path key = dir.resolve("key.pem");
        Path cert = dir.resolve("cert.pem");
        LocalProcess.run(dir, false, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.toString(), "-out", cert.toString(),
                "-subj", "/CN=periscope.test", "-days", "1");
        Path pcap = dir.resolve("tls.pcap");
        try (LocalProcess server = LocalProcess.start(dir.resolve("server.out"), "openssl", "s_server", "-accept",
                "127.0.0.1:" + PORT, "-key", key.toString(), "-cert", cert.toString(), "-tls1_3", "-alpn", "h2",
                "-naccept", "3", "-quiet")) {
            server.awaitPort(PORT, 10_000);
            LocalProcess capture = LocalProcess.capture(pcap, "tcp port " + PORT);
            LocalProcess.run(dir, true, "sh", "-c", "openssl s_client -connect 127.0.0.1:" + PORT
                    + " -servername periscope.test -alpn h2 </dev/null");
            LocalProcess.run(dir, true, "sh", "-c", "openssl s_client -connect 127.0.0.1:" + PORT
                    + " -servername old.periscope.test -tls1_2 </dev/null");
            capture.stopCapture(pcap);
        }

        List<RequestLog> logs = PcapReplay.replay(pcap, ProtocolConfig.defaults());
        assertThat(logs).hasSize(2);
        assertThat(logs).allSatisfy(l -> assertThat(l.protocol()).isEqualTo(L7Protocol.TLS));
        RequestLog ok = logs.get(0);
        assertThat(ok.host().toString()).isEqualTo("periscope.test");
        assertThat(ok.version().toString()).isEqualTo("TLS 1.3");
        assertThat(ok.attribute(TlsParser.NEXT_PROTOCOL).toString()).isEqualTo("h2");
        assertThat(ok.statusClass()).isEqualTo(StatusClass.OK);
        RequestLog refused = logs.get(1);
        assertThat(refused.host().toString()).isEqualTo("old.periscope.test");
        assertThat(refused.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);

        List<String[]> rows = Tshark.fields(pcap, List.of("tcp.port==" + PORT + ",tls"),
                "tls.handshake.extensions_server_name", "tls.handshake.ciphersuite", "tls.alert_message.desc",
                "tls.handshake.type");
        List<String> names = rows.stream().map(r -> r[0]).filter(s -> !s.isEmpty()).toList();
        assertThat(names).containsExactly("periscope.test", "old.periscope.test");
        String cipher = rows.stream().filter(r -> r[3].startsWith("2")).map(r -> r[1]).findFirst().orElseThrow();
        assertThat(ok.attribute(TlsParser.CIPHER).toString()).isEqualTo(cipherName(Integer.decode(cipher)));
        String alert = rows.stream().map(r -> r[2]).filter(s -> !s.isEmpty()).findFirst().orElseThrow();
        assertThat(refused.statusCode()).isEqualTo(Integer.parseInt(alert));
        assertThat(refused.errorMessage().toString()).isEqualTo(TlsParser.alertName(Integer.parseInt(alert)));
    }

    private static String cipherName(int id) {
        return switch (id) {
            case 0x1301 -> "TLS_AES_128_GCM_SHA256";
            case 0x1302 -> "TLS_AES_256_GCM_SHA384";
            case 0x1303 -> "TLS_CHACHA20_POLY1305_SHA256";
            default -> String.format("0x%04X", id);
        };
    }
}
