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

    /**
     * Puts the start of a KeyValue whose AnyValue is {@code anyLen} bytes long at {@code p}; the
     * caller puts the value. Each writer below reserves its whole attribute once and keeps the
     * position in a local: a field update per byte was a fifth of a span's encoding.
     */
    private static int open(byte[] b, int p, int tag, byte[] key, int anyLen) {
        p = ProtoWriter.putVarint32(b, p, tag);
        p = ProtoWriter.putVarint32(b, p, key.length + 1 + ProtoWriter.varint32Size(anyLen) + anyLen);
        System.arraycopy(key, 0, b, p, key.length);
        p += key.length;
        b[p++] = (byte) ANY_VALUE_TAG;
        return ProtoWriter.putVarint32(b, p, anyLen);
    }

    /** A string attribute of bytes already valid UTF-8. */
    static void string(ProtoWriter w, int tag, byte[] key, byte[] value, int offset, int length) {
        // tag, KeyValue length, AnyValue tag + length, string tag + length: at most 22 bytes.
        byte[] b = w.reserve(key.length + length + 24);
        int p = open(b, w.position(), tag, key, 1 + ProtoWriter.varint32Size(length) + length);
        b[p++] = (byte) ANY_STRING_TAG;
        p = ProtoWriter.putVarint32(b, p, length);
        System.arraycopy(value, offset, b, p, length);
        w.position(p + length);
    }

    /** A string attribute of ASCII text. */
    static void ascii(ProtoWriter w, int tag, byte[] key, String value) {
        int length = value.length();
        byte[] b = w.reserve(key.length + length + 24);
        int p = open(b, w.position(), tag, key, 1 + ProtoWriter.varint32Size(length) + length);
        b[p++] = (byte) ANY_STRING_TAG;
        p = ProtoWriter.putVarint32(b, p, length);
        for (int i = 0; i < length; i++) {
            b[p++] = (byte) value.charAt(i);
        }
        w.position(p);
    }

    /** An int attribute. */
    static void integer(ProtoWriter w, int tag, byte[] key, long value) {
        // As string's 22 bytes, with a varint of up to 10 bytes in place of the string.
        byte[] b = w.reserve(key.length + 32);
        int p = open(b, w.position(), tag, key, 1 + ProtoWriter.varint64Size(value));
        b[p++] = (byte) ANY_INT_TAG;
        w.position(ProtoWriter.putVarint64(b, p, value));
    }
}
