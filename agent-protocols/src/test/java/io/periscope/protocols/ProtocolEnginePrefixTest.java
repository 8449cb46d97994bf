package io.periscope.protocols;

import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Readers that take a length prefix alone (the Kafka broker and kafka-clients read 4 bytes, then
 * the body): inference sees the prefix in front of the next bytes of its direction.
 */
class ProtocolEnginePrefixTest {
    /** Metadata v12 from kafka-clients 3.9.2 (correlation id 5) for topic "orders", as captured. */
    private static final byte[] METADATA_V12 = HexFormat.of().parseHex(
            "000000390003000c0000000500127065726973636f70652d636f6e73756d6572"
            + "000200000000000000000000000000000000076f726465727300010000");
    /** The broker's answer as it wrote it (one write). */
    private static final byte[] METADATA_V12_RESPONSE = HexFormat.of().parseHex(
            "0000007500000005000000000002000000010a3132372e302e302e31"
            + "0000486c00001774616b6d5942455454376951495978636152692d564100000001020000076f7264657273b7260d4a2a"
            + "c243a5997cd632783cf3f600020000000000000000000100000000020000000102000000010100800000000000");
    private static final int BROKER_PORT = 18540;

    /** The broker's side of one connection (accept seen): reads prefix, then body; writes the answer. */
    private static EngineHarness brokerReads(ProtocolConfig config) {
        EngineHarness h = new EngineHarness(config).role(Role.SERVER).localPort(BROKER_PORT).serverPort(51000);
        h.send(Direction.INGRESS, METADATA_V12, 0, 4, -1);
        h.send(Direction.INGRESS, METADATA_V12, 4, METADATA_V12.length - 4, -1);
        h.send(Direction.EGRESS, METADATA_V12_RESPONSE, -1);
        return h;
    }

    @Test
    void kafkaBrokerSideIsInferredFromALengthPrefixReadAloneAndTheBodyAfterIt() {
        EngineHarness h = brokerReads(ProtocolConfig.defaults());
        RequestLog log = h.only();
        assertThat(log.protocol()).isEqualTo(L7Protocol.KAFKA);
        assertThat(log.method().toString()).isEqualTo("Metadata");
        assertThat(log.role()).isEqualTo(Role.SERVER);
        assertThat(log.requestBytes()).isEqualTo(METADATA_V12.length);
        assertThat(log.startNanos()).as("the request starts with its prefix").isEqualTo(1_000);
        assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
        assertThat(h.engine().counters().unknownMessages()).as("the prefix, when it came alone").isEqualTo(1);
        assertThat(h.engine().counters().inferred(L7Protocol.KAFKA)).isEqualTo(1);
        assertThat(h.engine().counters().parseErrors(L7Protocol.KAFKA)).isZero();
    }

    @Test
    void aBodyLargerThanTheCarryAfterThePrefixIsStillParsed() {
        // a carry smaller than the body: the prefix is completed from the body's first bytes
        EngineHarness h = brokerReads(ProtocolConfig.builder().maxCarryBytes(24).build());
        assertThat(h.only().method().toString()).isEqualTo("Metadata");
        assertThat(h.engine().counters().carryOverflows(L7Protocol.KAFKA)).isZero();
    }

    @Test
    void aPrefixFollowedByBytesOfNoProtocolIsNotTakenAndTheConnectionGoesOn() {
        EngineHarness h = new EngineHarness().role(Role.SERVER).localPort(BROKER_PORT).serverPort(51001);
        h.send(Direction.INGRESS, new byte[] {0, 0, 0, 9}, -1);
        h.send(Direction.INGRESS, "hello you".getBytes(java.nio.charset.StandardCharsets.US_ASCII), -1);
        assertThat(h.logs()).isEmpty();
        assertThat(h.engine().counters().unknownMessages()).isEqualTo(2);
        // a later whole request on the same connection is still recognised
        h.send(Direction.INGRESS, METADATA_V12, -1).send(Direction.EGRESS, METADATA_V12_RESPONSE, -1);
        assertThat(h.only().method().toString()).isEqualTo("Metadata");
    }

    @Test
    void dnsOverTcpLengthWrittenAlone() {
        // a DNS query for example.com over TCP: 2-byte length, then the message
        byte[] query = HexFormat.of().parseHex("abcd01000001000000000000076578616d706c6503636f6d0000010001");
        byte[] answer = HexFormat.of().parseHex("abcd81800001000100000000076578616d706c6503636f6d0000010001"
                + "c00c000100010000012c00045db8d822");
        EngineHarness h = new EngineHarness().role(Role.CLIENT).serverPort(5353);
        h.send(Direction.EGRESS, new byte[] {0, (byte) query.length}, -1);
        h.send(Direction.EGRESS, query, -1);
        byte[] framed = new byte[answer.length + 2];
        framed[1] = (byte) answer.length;
        System.arraycopy(answer, 0, framed, 2, answer.length);
        h.send(Direction.INGRESS, framed, -1);
        RequestLog log = h.only();
        assertThat(log.protocol()).isEqualTo(L7Protocol.DNS);
        assertThat(log.resource().toString()).isEqualTo("example.com");
    }
}
