package io.periscope.protocols.tls;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** ClientHellos and alerts come from the JDK's own TLS engine, so the bytes are what a real client sends. */
class TlsParserTest {
    static byte[] clientHello(String sni, String... alpn) throws Exception {
        SSLEngine client = SSLContext.getDefault().createSSLEngine(sni, 443);
        client.setUseClientMode(true);
        SSLParameters p = client.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(sni)));
        p.setApplicationProtocols(alpn);
        client.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        client.wrap(ByteBuffer.allocate(0), out);
        return Arrays.copyOf(out.array(), out.position());
    }

    /** A TLS 1.3 ServerHello choosing TLS_AES_256_GCM_SHA384 and ALPN "h2". */
    static byte[] serverHello() {
        ByteArrayOutputStream hs = new ByteArrayOutputStream();
        hs.write(3);
        hs.write(3);
        hs.writeBytes(new byte[32]);
        hs.write(0);
        hs.write(0x13);
        hs.write(0x02);
        hs.write(0);
        byte[] ext = {0, 43, 0, 2, 3, 4, 0, 16, 0, 5, 0, 3, 2, 'h', '2'};
        hs.write(0);
        hs.write(ext.length);
        hs.writeBytes(ext);
        byte[] body = hs.toByteArray();
        ByteBuffer b = ByteBuffer.allocate(5 + 4 + body.length);
        b.put((byte) 22).put((byte) 3).put((byte) 3).putShort((short) (4 + body.length));
        b.put((byte) 2).put((byte) 0).putShort((short) body.length).put(body);
        return b.array();
    }

    @Test
    void shouldTimeTheHandshakeAndReadSniAlpnVersionAndCipher() throws Exception {
        byte[] hello = clientHello("api.example.com", "h2", "http/1.1");
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, hello, -1);
        h.advance(2_000_000);
        byte[] encrypted = {23, 3, 3, 0, 4, 1, 2, 3, 4};
        byte[] answer = new byte[serverHello().length + encrypted.length];
        System.arraycopy(serverHello(), 0, answer, 0, serverHello().length);
        System.arraycopy(encrypted, 0, answer, serverHello().length, encrypted.length);
        h.send(Direction.INGRESS, answer, -1);
        h.send(Direction.EGRESS, encrypted, -1);
        RequestLog log = h.only();
        assertThat(log.protocol()).isEqualTo(L7Protocol.TLS);
        assertThat(log.method().toString()).isEqualTo("handshake");
        assertThat(log.host().toString()).isEqualTo("api.example.com");
        assertThat(log.version().toString()).isEqualTo("TLS 1.3");
        assertThat(log.attribute(TlsParser.CIPHER).toString()).isEqualTo("TLS_AES_256_GCM_SHA384");
        assertThat(log.attribute(TlsParser.NEXT_PROTOCOL).toString()).isEqualTo("h2");
        assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
        assertThat(log.durationNanos()).isGreaterThanOrEqualTo(2_000_000);
        assertThat(h.engine().counters().parseErrors(L7Protocol.TLS)).isZero();
    }

    @Test
    void shouldReportARefusedHandshakeWithTheAlert() throws Exception {
        byte[] hello = clientHello("db.internal");
        // fatal (2) handshake_failure (40), as a server with no cipher in common sends it
        byte[] alert = {21, 3, 3, 0, 2, 2, 40};
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, Arrays.copyOfRange(hello, 0, 100), -1);
        h.send(Direction.EGRESS, Arrays.copyOfRange(hello, 100, hello.length), -1);
        h.send(Direction.INGRESS, alert, -1);
        RequestLog log = h.only();
        assertThat(log.host().toString()).isEqualTo("db.internal");
        assertThat(log.statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(log.errorMessage().toString()).isEqualTo("handshake_failure");
        assertThat(log.statusCode()).isEqualTo(40);
    }
}
