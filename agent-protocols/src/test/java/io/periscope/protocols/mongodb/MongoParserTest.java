package io.periscope.protocols.mongodb;

import io.periscope.protocols.Direction;
import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class MongoParserTest {
    /** A BSON document of string, int32, double and binary elements, built by hand. */
    static final class Doc {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private Doc name(int type, String n) {
            out.write(type);
            out.writeBytes(n.getBytes(StandardCharsets.UTF_8));
            out.write(0);
            return this;
        }

        Doc str(String n, String v) {
            byte[] b = v.getBytes(StandardCharsets.UTF_8);
            name(2, n);
            out.writeBytes(le(b.length + 1));
            out.writeBytes(b);
            out.write(0);
            return this;
        }

        Doc i32(String n, int v) {
            name(0x10, n);
            out.writeBytes(le(v));
            return this;
        }

        Doc dbl(String n, double v) {
            name(1, n);
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(v).array());
            return this;
        }

        Doc bin(String n, int size) {
            name(5, n);
            out.writeBytes(le(size));
            out.write(0);
            out.writeBytes(new byte[size]);
            return this;
        }

        byte[] bytes() {
            byte[] body = out.toByteArray();
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            o.writeBytes(le(body.length + 5));
            o.writeBytes(body);
            o.write(0);
            return o.toByteArray();
        }
    }

    static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] opMsg(int requestId, int responseTo, byte[] doc) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(le(16 + 4 + 1 + doc.length));
        o.writeBytes(le(requestId));
        o.writeBytes(le(responseTo));
        o.writeBytes(le(2013));
        o.writeBytes(le(0));
        o.write(0);
        o.writeBytes(doc);
        return o.toByteArray();
    }

    @Test
    void shouldReadCommandCollectionAndDatabase() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, opMsg(7, 0, new Doc().str("insert", "users").i32("ordered", 1)
                .str("$db", "shop").bytes()), -1);
        h.send(Direction.INGRESS, opMsg(99, 7, new Doc().i32("n", 1).dbl("ok", 1.0).bytes()), -1);
        RequestLog log = h.only();
        assertThat(log.protocol()).isEqualTo(L7Protocol.MONGODB);
        assertThat(log.method().toString()).isEqualTo("insert");
        assertThat(log.resource().toString()).isEqualTo("users");
        assertThat(log.host().toString()).isEqualTo("shop");
        assertThat(log.statusClass()).isEqualTo(StatusClass.OK);
    }

    @Test
    void shouldReportCommandErrorsAndPairOutOfOrder() {
        EngineHarness h = new EngineHarness();
        h.send(Direction.EGRESS, opMsg(1, 0, new Doc().str("find", "a").str("$db", "d").bytes()), -1);
        h.send(Direction.EGRESS, opMsg(2, 0, new Doc().str("drop", "b").str("$db", "d").bytes()), -1);
        h.send(Direction.INGRESS, opMsg(50, 2, new Doc().dbl("ok", 0).str("errmsg", "ns not found").i32("code", 26)
                .str("codeName", "NamespaceNotFound").bytes()), -1);
        h.send(Direction.INGRESS, opMsg(51, 1, new Doc().dbl("ok", 0).str("errmsg", "not primary")
                .i32("code", 10107).bytes()), -1);
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("drop", "find");
        assertThat(h.logs().get(0).statusCode()).isEqualTo(26);
        assertThat(h.logs().get(0).statusClass()).isEqualTo(StatusClass.CLIENT_ERROR);
        assertThat(h.logs().get(0).errorMessage().toString()).isEqualTo("ns not found");
        assertThat(h.logs().get(1).statusClass()).isEqualTo(StatusClass.SERVER_ERROR);
    }

    @Test
    void shouldSkipLargeDocumentsAcrossSegments() {
        byte[] insert = opMsg(3, 0, new Doc().str("insert", "blobs").bin("data", 100_000).str("$db", "x").bytes());
        EngineHarness h = new EngineHarness();
        for (int off = 0; off < insert.length; off += 1448) {
            h.send(Direction.EGRESS, Arrays.copyOfRange(insert, off, Math.min(insert.length, off + 1448)), -1);
        }
        h.send(Direction.INGRESS, opMsg(4, 3, new Doc().dbl("ok", 1).bytes()), -1);
        RequestLog log = h.only();
        assertThat(log.resource().toString()).isEqualTo("blobs");
        assertThat(log.requestBytes()).isEqualTo(insert.length);
        assertThat(h.engine().counters().parseErrors(L7Protocol.MONGODB)).isZero();
    }
}
