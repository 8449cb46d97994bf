package io.periscope.sender;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** TLS and mutual TLS to the collector, with certificates made by openssl for this test. */
class TlsExportTest {
    @TempDir
    Path dir;

    private void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("openssl finished").isTrue();
        assertThat(p.exitValue()).as("openssl %s: %s", cmd, out).isZero();
    }

    /** A CA, and a certificate signed by it for {@code name} (with 127.0.0.1 as IP SAN). */
    private void certificates() throws Exception {
        // EC keys: RSA key generation takes seconds on a busy machine.
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=periscope-test-ca");
        for (String name : List.of("server", "client")) {
            openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", name + ".key", "-out", name + ".csr",
                    "-subj", "/CN=" + name);
            Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
            openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext");
        }
    }

    @Test
    void shouldExportOverMutualTls() throws Exception {
        certificates();
        ProcessResource app = ProcessResource.builder("app").build();
        try (OtlpReceiver rx = new OtlpReceiver().tls(dir.resolve("server.pem"), dir.resolve("server.key"),
                dir.resolve("ca.pem")).start()) {
            SenderConfig config = SenderConfig.builder().endpoint("https://127.0.0.1:" + rx.port())
                    .trustCertificates(dir.resolve("ca.pem"))
                    .clientCertificate(dir.resolve("client.pem"), dir.resolve("client.key"))
                    .maxBatchDelay(Duration.ofMillis(10)).metricsInterval(Duration.ofHours(1)).build();
            OtlpExporter e = OtlpExporter.start(config, app);
            e.offer(TestRecords.httpServer("GET", "/secure", "/secure", 200), app);
            assertThat(e.shutdown(Duration.ofSeconds(30)).flushedAll()).isTrue();
            assertThat(e.counters(Signal.TRACES).exported()).isEqualTo(1);
            assertThat(rx.spans()).hasSize(1);
        }
    }

    @Test
    void shouldFailClearlyOnAMissingCertificate() {
        SenderConfig config = SenderConfig.builder().endpoint("https://127.0.0.1:4317")
                .trustCertificates(dir.resolve("nope.pem")).build();
        ProcessResource app = ProcessResource.builder("app").build();
        try {
            OtlpExporter.start(config, app).shutdown(Duration.ofSeconds(1));
            throw new AssertionError("expected a configuration error");
        } catch (IllegalArgumentException expected) {
            assertThat(expected).hasMessageContaining("sender.tls").hasMessageContaining("nope.pem");
        }
    }

    @Test
    void shouldNotDeliverWithoutTheClientCertificateTheCollectorRequires() throws Exception {
        certificates();
        ProcessResource app = ProcessResource.builder("app").build();
        try (OtlpReceiver rx = new OtlpReceiver().tls(dir.resolve("server.pem"), dir.resolve("server.key"),
                dir.resolve("ca.pem")).start()) {
            SenderConfig config = SenderConfig.builder().endpoint("https://127.0.0.1:" + rx.port())
                    .trustCertificates(dir.resolve("ca.pem")).maxBatchDelay(Duration.ofMillis(10))
                    .backoff(Duration.ofMillis(20), Duration.ofMillis(100), 2, 0.2)
                    .metricsInterval(Duration.ofHours(1)).build();
            OtlpExporter e = OtlpExporter.start(config, app);
            e.offer(TestRecords.httpServer("GET", "/secure", "/secure", 200), app);
            SignalCounters t = e.counters(Signal.TRACES);
            Await.until(() -> t.retried() >= 1, t::toString);
            e.shutdown(Duration.ofMillis(200));
            assertThat(rx.spans()).isEmpty();
            assertThat(t.exported()).isZero();
            assertThat(t.failed()).isEqualTo(1);
        }
    }

}
