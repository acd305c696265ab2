package io.moeagent.analyzer.parquet;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The write side of Thrift's compact protocol, as far as Parquet's page headers and footer use it: structs with
 * delta-coded field ids, zigzag varints, binaries, lists and booleans.
 *
 * <p>Hand-written (about a hundred lines) rather than taken from libthrift plus parquet-format's generated
 * structs: those bring the Hadoop-era Parquet stack the export avoids, for a dozen field writes.
 */
final class ThriftCompact {
    static final int BOOLEAN_TRUE = 1;
    static final int BOOLEAN_FALSE = 2;
    static final int I32 = 5;
    static final int I64 = 6;
    static final int BINARY = 8;
    static final int LIST = 9;
    static final int STRUCT = 12;

    private byte[] buf = new byte[256];
    private int size;
    private final int[] saved = new int[16];
    private int depth;
    private int lastField;

    /** Starts a new top-level struct (drops what was written). */
    ThriftCompact reset() {
        size = 0;
        depth = 0;
        lastField = 0;
        return this;
    }

    byte[] array() {
        return buf;
    }

    int size() {
        return size;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }

    ThriftCompact i32(int field, int v) {
        header(field, I32);
        varint(zigzag(v));
        return this;
    }

    ThriftCompact i64(int field, long v) {
        header(field, I64);
        varint(zigzag(v));
        return this;
    }

    ThriftCompact bool(int field, boolean v) {
        header(field, v ? BOOLEAN_TRUE : BOOLEAN_FALSE);
        return this;
    }

    ThriftCompact string(int field, String s) {
        return binary(field, s.getBytes(StandardCharsets.UTF_8));
    }

    ThriftCompact binary(int field, byte[] b) {
        header(field, BINARY);
        rawBinary(b);
        return this;
    }

    /** A struct field: its fields follow, then {@link #end()}. */
    ThriftCompact struct(int field) {
        header(field, STRUCT);
        return push();
    }

    /** A list field of {@code n} elements of {@code elementType}; struct elements begin with {@link #element()}. */
    ThriftCompact list(int field, int elementType, int n) {
        header(field, LIST);
        if (n < 15) {
            put((n << 4) | elementType);
        } else {
            put(0xF0 | elementType);
            varint(n);
        }
        return this;
    }

    /** Begins one struct element of a list; {@link #end()} closes it. */
    ThriftCompact element() {
        return push();
    }

    /** One i32 element of a list. */
    ThriftCompact i32Element(int v) {
        varint(zigzag(v));
        return this;
    }

    /** One binary (string) element of a list. */
    ThriftCompact stringElement(String s) {
        rawBinary(s.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** Ends the innermost struct, or the top-level one. */
    ThriftCompact end() {
        put(0);
        if (depth > 0) {
            lastField = saved[--depth];
        }
        return this;
    }

    private ThriftCompact push() {
        saved[depth++] = lastField;
        lastField = 0;
        return this;
    }

    private void header(int field, int type) {
        int delta = field - lastField;
        if (delta > 0 && delta <= 15) {
            put((delta << 4) | type);
        } else {
            put(type);
            varint(zigzag(field));
        }
        lastField = field;
    }

    private void rawBinary(byte[] b) {
        varint(b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, size, b.length);
        size += b.length;
    }

    private static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    private static int zigzag(int v) {
        return (v << 1) ^ (v >> 31);
    }

    private void varint(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            buf[size++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[size++] = (byte) v;
    }

    private void varint(int v) {
        varint(v & 0xFFFFFFFFL);
    }

    private void put(int b) {
        ensure(1);
        buf[size++] = (byte) b;
    }

    private void ensure(int n) {
        if (size + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
        }
    }
}
