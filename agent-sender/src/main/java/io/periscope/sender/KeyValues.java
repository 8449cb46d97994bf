package io.periscope.sender;

import io.periscope.sender.internal.ProtoWriter;

import java.nio.charset.StandardCharsets;

/**
 * OTLP {@code KeyValue} attributes written in one pass, their lengths computed up front (no nested
 * marks): {@code field:KeyValue{1:key, 2:AnyValue{1:string | 3:int}}}. Shared by the span and the
 * log encoders, which differ only in the attributes' field number in the enclosing message.
 */
final class KeyValues {
    private static final int KEY_VALUE_KEY = 1;
    private static final int KEY_VALUE_VALUE = 2;
    private static final int ANY_STRING = 1;
    private static final int ANY_INT = 3;
    private static final int ANY_VALUE_TAG = (KEY_VALUE_VALUE << 3) | 2;
    static final int ANY_STRING_TAG = (ANY_STRING << 3) | 2;
    private static final int ANY_INT_TAG = ANY_INT << 3;

    private KeyValues() {
    }

    /** The tag of a KeyValue in field {@code field} of the enclosing message. */
    static int tag(int field) {
        return (field << 3) | 2;
    }

    /** The KeyValue.key field for {@code key}: tag, length, UTF-8 bytes; encoded once per key. */
    static byte[] key(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        ProtoWriter w = new ProtoWriter(k.length + 8);
        w.writeBytes(KEY_VALUE_KEY, k, 0, k.length);
        return w.toByteArray();
    }

    /** Opens a KeyValue whose AnyValue is {@code anyLen} bytes long; the caller writes the value. */
    private static void open(ProtoWriter w, int tag, byte[] key, int anyLen) {
        w.rawVarint32(tag);
        w.rawVarint32(key.length + 1 + ProtoWriter.varint32Size(anyLen) + anyLen);
        w.rawBytes(key, 0, key.length);
        w.rawVarint32(ANY_VALUE_TAG);
        w.rawVarint32(anyLen);
    }

    /** A string attribute of bytes already valid UTF-8. */
    static void string(ProtoWriter w, int tag, byte[] key, byte[] value, int offset, int length) {
        open(w, tag, key, 1 + ProtoWriter.varint32Size(length) + length);
        w.rawVarint32(ANY_STRING_TAG);
        w.rawVarint32(length);
        w.rawBytes(value, offset, length);
    }

    /** A string attribute of ASCII text. */
    static void ascii(ProtoWriter w, int tag, byte[] key, String value) {
        int length = value.length();
        open(w, tag, key, 1 + ProtoWriter.varint32Size(length) + length);
        w.rawAscii(ANY_STRING_TAG, value);
    }

    /** An int attribute. */
    static void integer(ProtoWriter w, int tag, byte[] key, long value) {
        open(w, tag, key, 1 + ProtoWriter.varint64Size(value));
        w.rawVarint32(ANY_INT_TAG);
        w.rawVarint64(value);
    }
}
