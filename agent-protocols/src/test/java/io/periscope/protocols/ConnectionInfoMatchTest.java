package io.periscope.protocols;

import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ConnectionInfo.matches} runs on every request, so it is a place later changes may try to
 * trim: a difference in any single field, in any byte of the addresses or the comm, must say no.
 */
class ConnectionInfoMatchTest {
    private static CapturedMessage message() {
        CapturedMessage m = new CapturedMessage().socketId(77).role(Role.CLIENT).captureSource(CaptureSource.SYSCALL)
                .pid(1000).fd(9).ipVersion(6).localPort(40000).remotePort(6379).interfaceIndex(0).l4Protocol(6);
        m.comm().setAscii("redis-cli");
        for (int i = 0; i < 16; i++) {
            m.localAddress()[i] = (byte) (i + 1);
            m.remoteAddress()[i] = (byte) (100 + i);
        }
        return m;
    }

    private static boolean matchesAfter(Consumer<CapturedMessage> change) {
        return matchesAfter(m -> { }, change);
    }

    private static boolean matchesAfter(Consumer<CapturedMessage> base, Consumer<CapturedMessage> change) {
        ConnectionInfo info = new ConnectionInfo();
        CapturedMessage first = message();
        base.accept(first);
        info.set(first, Direction.EGRESS);
        CapturedMessage other = message();
        base.accept(other);
        change.accept(other);
        return info.matches(other);
    }

    @Test
    void shouldMatchOnlyEqualFields() {
        assertThat(matchesAfter(m -> { })).isTrue();
        assertThat(matchesAfter(m -> m.socketId(78))).isFalse();
        assertThat(matchesAfter(m -> m.socketId(77 | 1L << 40))).as("high half of the socket id").isFalse();
        assertThat(matchesAfter(m -> m.pid(1001))).isFalse();
        assertThat(matchesAfter(m -> m.fd(-1))).isFalse();
        assertThat(matchesAfter(m -> m.ipVersion(4))).isFalse();
        assertThat(matchesAfter(m -> m.localPort(40001))).isFalse();
        assertThat(matchesAfter(m -> m.remotePort(6380))).isFalse();
        assertThat(matchesAfter(m -> m.interfaceIndex(2))).isFalse();
        assertThat(matchesAfter(m -> m.l4Protocol(17))).isFalse();
        assertThat(matchesAfter(m -> m.role(Role.SERVER))).isFalse();
        assertThat(matchesAfter(m -> m.role(Role.UNKNOWN))).isFalse();
        assertThat(matchesAfter(m -> m.captureSource(CaptureSource.PACKET))).isFalse();
        assertThat(matchesAfter(m -> m.comm().setAscii("redis-cl"))).as("shorter comm").isFalse();
        assertThat(matchesAfter(m -> m.comm().setAscii("redis-clj"))).as("other last byte").isFalse();
        assertThat(matchesAfter(m -> m.comm().setAscii("abcdefghijklmnop"), m -> m.comm().appendAscii("q")))
                .as("the same 16 bytes, cut").isFalse();
        assertThat(matchesAfter(m -> m.comm().setAscii("abcdefghijklmnop"), m -> { })).isTrue();
        for (int i = 0; i < 16; i++) {
            int at = i;
            assertThat(matchesAfter(m -> m.localAddress()[at] ^= 0x40)).as("local address byte %d", at).isFalse();
            assertThat(matchesAfter(m -> m.remoteAddress()[at] ^= 1)).as("remote address byte %d", at).isFalse();
        }
    }

    @Test
    void shouldMatchNothingUntilSetAndAfterInvalidate() {
        ConnectionInfo info = new ConnectionInfo();
        assertThat(info.matches(message())).isFalse();
        info.set(message(), Direction.EGRESS);
        assertThat(info.matches(message())).isTrue();
        info.invalidate();
        assertThat(info.matches(message())).isFalse();
    }
}
