package io.periscope.ebpf.tracer;

import io.periscope.ebpf.BpfObjects;
import io.periscope.ebpf.libbpf.BpfObject;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SocketEventLayoutTest {
    @Test
    void shouldMatchTheCompiledStructSocketEvent() {
        Map<String, Integer> java = new LinkedHashMap<>();
        java.put("kind", SocketEvent.KIND_OFFSET);
        java.put("direction", SocketEvent.DIRECTION_OFFSET);
        java.put("role", SocketEvent.ROLE_OFFSET);
        java.put("l4_proto", SocketEvent.L4_PROTOCOL_OFFSET);
        java.put("family", SocketEvent.FAMILY_OFFSET);
        java.put("syscall", SocketEvent.SYSCALL_OFFSET);
        java.put("flags", SocketEvent.FLAGS_OFFSET);
        java.put("tgid", SocketEvent.TGID_OFFSET);
        java.put("tid", SocketEvent.TID_OFFSET);
        java.put("fd", SocketEvent.FD_OFFSET);
        java.put("tcp_seq", SocketEvent.TCP_SEQ_OFFSET);
        java.put("socket_id", SocketEvent.SOCKET_ID_OFFSET);
        java.put("enter_ns", SocketEvent.ENTER_NS_OFFSET);
        java.put("exit_ns", SocketEvent.EXIT_NS_OFFSET);
        java.put("syscall_trace_id", SocketEvent.SYSCALL_TRACE_ID_OFFSET);
        java.put("ret", SocketEvent.RETURN_BYTES_OFFSET);
        java.put("local_port", SocketEvent.LOCAL_PORT_OFFSET);
        java.put("remote_port", SocketEvent.REMOTE_PORT_OFFSET);
        java.put("payload_len", SocketEvent.PAYLOAD_LENGTH_OFFSET);
        java.put("local_addr", SocketEvent.LOCAL_ADDR_OFFSET);
        java.put("remote_addr", SocketEvent.REMOTE_ADDR_OFFSET);
        java.put("comm", SocketEvent.COMM_OFFSET);
        java.put("payload", SocketEvent.HEADER_BYTES);
        java.put("sizeof", SocketEvent.HEADER_BYTES + 2 * SocketEvent.MAX_PAYLOAD_BYTES);

        try (BpfObject obj = BpfObject.open("socket_tracer", BpfObjects.load("socket_tracer"))) {
            assertThat(obj.structLayout("socket_event")).containsExactlyEntriesOf(java);
        }
    }

    @Test
    void shouldReadFieldsInPlaceAndRejectShortRecords() {
        UnsafeBuffer buf = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
        int at = 8;
        buf.putShort(at + SocketEvent.KIND_OFFSET, (short) SocketEvent.KIND_DATA, ByteOrder.LITTLE_ENDIAN);
        buf.putInt(at + SocketEvent.TGID_OFFSET, 4242, ByteOrder.LITTLE_ENDIAN);
        buf.putInt(at + SocketEvent.TCP_SEQ_OFFSET, 0xfffffffe, ByteOrder.LITTLE_ENDIAN);
        buf.putShort(at + SocketEvent.LOCAL_PORT_OFFSET, (short) 65000, ByteOrder.LITTLE_ENDIAN);
        buf.putBytes(at + SocketEvent.LOCAL_ADDR_OFFSET, new byte[] {10, 1, 2, 3});
        buf.putInt(at + SocketEvent.PAYLOAD_LENGTH_OFFSET, 5, ByteOrder.LITTLE_ENDIAN);
        buf.putBytes(at + SocketEvent.HEADER_BYTES, "hello".getBytes(StandardCharsets.US_ASCII));
        buf.putBytes(at + SocketEvent.COMM_OFFSET, "nginx\0".getBytes(StandardCharsets.US_ASCII));
        buf.putByte(at + SocketEvent.FAMILY_OFFSET, (byte) SocketEvent.AF_INET);

        SocketEvent e = new SocketEvent().wrap(buf, at, SocketEvent.HEADER_BYTES + 5);

        assertThat(e.isWellFormed()).isTrue();
        assertThat(e.kind()).isEqualTo(SocketEvent.KIND_DATA);
        assertThat(e.pid()).isEqualTo(4242);
        assertThat(e.tcpSeq()).isEqualTo(0xfffffffeL);
        assertThat(e.localPort()).isEqualTo(65000);
        assertThat(e.localIpv4()).isEqualTo((10 << 24) | (1 << 16) | (2 << 8) | 3);
        assertThat(e.localAddress().getHostAddress()).isEqualTo("10.1.2.3");
        assertThat(e.comm()).isEqualTo("nginx");
        assertThat(e.payloadAscii()).isEqualTo("hello");
        assertThat(new SocketEvent().wrap(buf, at, SocketEvent.HEADER_BYTES + 4).isWellFormed()).isFalse();
        assertThat(new SocketEvent().wrap(buf, at, 64).isWellFormed()).isFalse();
    }
}
