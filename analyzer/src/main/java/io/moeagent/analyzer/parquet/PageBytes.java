package io.moeagent.analyzer.parquet;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A growable little-endian byte buffer for one page's bytes, with Parquet's value and level encodings: PLAIN for
 * numbers and strings, and the RLE / bit-packing hybrid for levels and dictionary indices.
 */
final class PageBytes {
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private byte[] buf = new byte[1 << 16];
    private int size;

    void clear() {
        size = 0;
    }

    int size() {
        return size;
    }

    byte[] array() {
        return buf;
    }

    void int32(int v) {
        ensure(4);
        INT.set(buf, size, v);
        size += 4;
    }

    void int64(long v) {
        ensure(8);
        LONG.set(buf, size, v);
        size += 8;
    }

    void ints(int[] v, int from, int n) {
        ensure(4 * n);
        for (int i = 0; i < n; i++) {
            INT.set(buf, size, v[from + i]);
            size += 4;
        }
    }

    void longs(long[] v, int from, int n) {
        ensure(8 * n);
        for (int i = 0; i < n; i++) {
            LONG.set(buf, size, v[from + i]);
            size += 8;
        }
    }

    /** A PLAIN byte array: 4-byte length, then the bytes. */
    void binary(byte[] b) {
        ensure(4 + b.length);
        INT.set(buf, size, b.length);
        System.arraycopy(b, 0, buf, size + 4, b.length);
        size += 4 + b.length;
    }

    void put(int b) {
        ensure(1);
        buf[size++] = (byte) b;
    }

    /** Reserves a 4-byte length slot (for a levels block) and returns its position. */
    int lengthSlot() {
        ensure(4);
        size += 4;
        return size - 4;
    }

    /** Fills a slot from {@link #lengthSlot()} with the number of bytes written after it. */
    void fillLength(int slot) {
        INT.set(buf, slot, size - slot - 4);
    }

    /** {@code n} copies of {@code value}, as RLE runs. */
    void rleRun(int value, long n, int bitWidth) {
        while (n > 0) {
            int count = (int) Math.min(n, Integer.MAX_VALUE >> 1);
            varint(((long) count) << 1);
            for (int b = 0; b < (bitWidth + 7) / 8; b++) {
                put(value >>> (8 * b));
            }
            n -= count;
        }
    }

    /**
     * {@code v[0 .. n)} in the RLE / bit-packing hybrid encoding at {@code bitWidth} bits: runs of at least eight
     * equal values become RLE runs, the rest bit-packed groups of eight (the last group padded with zeros, which a
     * reader stops before, knowing the value count).
     */
    void hybrid(int[] v, int n, int bitWidth) {
        int pos = 0;
        int packedFrom = -1;
        int groups = 0;
        while (pos < n) {
            int x = v[pos];
            int end = pos + 1;
            while (end < n && v[end] == x) {
                end++;
            }
            if (end - pos >= 8 || (end == n && groups == 0)) {
                if (groups > 0) {
                    packed(v, packedFrom, groups, n, bitWidth);
                    groups = 0;
                }
                rleRun(x, end - pos, bitWidth);
                pos = end;
            } else {
                if (groups == 0) {
                    packedFrom = pos;
                }
                groups++;
                pos = Math.min(n, pos + 8);
            }
        }
        if (groups > 0) {
            packed(v, packedFrom, groups, n, bitWidth);
        }
    }

    private void packed(int[] v, int from, int groups, int n, int bitWidth) {
        varint((((long) groups) << 1) | 1);
        ensure(groups * bitWidth);
        int mask = bitWidth == 32 ? -1 : (1 << bitWidth) - 1;
        for (int g = 0; g < groups; g++) {
            long acc = 0;
            int bits = 0;
            int base = from + 8 * g;
            for (int j = 0; j < 8; j++) {
                int i = base + j;
                long value = i < n ? (v[i] & mask) & 0xFFFFFFFFL : 0;
                acc |= value << bits;
                bits += bitWidth;
                while (bits >= 8) {
                    buf[size++] = (byte) acc;
                    acc >>>= 8;
                    bits -= 8;
                }
            }
        }
    }

    void varint(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            buf[size++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[size++] = (byte) v;
    }

    /** Bits needed to hold values up to {@code max}. */
    static int bitWidth(int max) {
        return 32 - Integer.numberOfLeadingZeros(max);
    }

    private void ensure(int n) {
        if (size + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
        }
    }
}
