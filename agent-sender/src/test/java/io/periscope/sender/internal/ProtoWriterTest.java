package io.periscope.sender.internal;

import com.google.protobuf.CodedOutputStream;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The writer's varint sizes and positional puts agree with protobuf's own encoder. */
class ProtoWriterTest {
    @Test
    void varintSizesAndBytesMatchProtobufAtEveryWidth() throws Exception {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int bits = 0; bits <= 64; bits++) {
            for (int k = 0; k < 50; k++) {
                long value = bits == 0 ? 0 : (rnd.nextLong() >>> (64 - bits)) | (1L << (bits - 1));
                assertThat(ProtoWriter.varint64Size(value))
                        .as("size of %d", value).isEqualTo(CodedOutputStream.computeUInt64SizeNoTag(value));
                byte[] expected = new byte[10];
                CodedOutputStream cos = CodedOutputStream.newInstance(expected);
                cos.writeUInt64NoTag(value);
                byte[] b = new byte[12];
                int end = ProtoWriter.putVarint64(b, 1, value);
                assertThat(end - 1).isEqualTo(cos.getTotalBytesWritten());
                for (int i = 0; i < end - 1; i++) {
                    assertThat(b[1 + i]).isEqualTo(expected[i]);
                }
                if (bits <= 32) {
                    int v = (int) value;
                    byte[] b32 = new byte[6];
                    int end32 = ProtoWriter.putVarint32(b32, 0, v);
                    assertThat(end32).isEqualTo(ProtoWriter.varint32Size(v));
                    assertThat(ProtoWriter.varint32Size(v)).isEqualTo(CodedOutputStream.computeUInt32SizeNoTag(v));
                }
            }
        }
    }

    @Test
    void reservedBytesWrittenInPlaceBecomeTheMessage() {
        ProtoWriter w = new ProtoWriter(1);
        w.writeUInt64(1, 5);
        int before = w.position();
        byte[] b = w.reserve(500);
        assertThat(b.length).isGreaterThanOrEqualTo(before + 500);
        int p = before;
        for (int i = 0; i < 500; i++) {
            b[p++] = (byte) i;
        }
        w.position(p);
        byte[] out = w.toByteArray();
        assertThat(out).hasSize(before + 500);
        assertThat(out[before + 499]).isEqualTo((byte) 499);
    }
}
