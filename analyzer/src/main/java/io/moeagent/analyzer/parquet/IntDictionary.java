package io.moeagent.analyzer.parquet;

import java.util.Arrays;

/**
 * A row group's dictionary of integer values, built when the group is written: the distinct values in order of
 * first appearance and each value's index. Gives up past {@link #LIMIT} distinct values, where PLAIN is as good.
 */
final class IntDictionary {
    /** At most this many distinct values (indices of up to 14 bits). */
    static final int LIMIT = 1 << 14;
    private static final int SLOTS = LIMIT * 4;
    private static final int SHIFT = 64 - Integer.numberOfTrailingZeros(SLOTS);

    private final long[] keys = new long[SLOTS];
    private final int[] slotIndex = new int[SLOTS];
    private long[] values = new long[256];
    private int size;
    private int[] indices = new int[1024];

    /** Builds the dictionary of {@code v[0 .. n)}; false when there are more than LIMIT distinct values. */
    boolean build(int[] v, int n) {
        begin(n);
        for (int i = 0; i < n; i++) {
            int ix = indexOf(v[i]);
            if (ix < 0) {
                return false;
            }
            indices[i] = ix;
        }
        return true;
    }

    boolean build(long[] v, int n) {
        begin(n);
        for (int i = 0; i < n; i++) {
            int ix = indexOf(v[i]);
            if (ix < 0) {
                return false;
            }
            indices[i] = ix;
        }
        return true;
    }

    int size() {
        return size;
    }

    long value(int i) {
        return values[i];
    }

    int[] indices() {
        return indices;
    }

    /** Index bits: at least 1. */
    int bitWidth() {
        return Math.max(1, PageBytes.bitWidth(size - 1));
    }

    /** Whether dictionary encoding is smaller than PLAIN for {@code n} values of {@code plainBytes} each. */
    boolean pays(int n, int plainBytes) {
        return (long) size * plainBytes + ((long) n * bitWidth() + 7) / 8 < (long) n * plainBytes;
    }

    private void begin(int n) {
        Arrays.fill(slotIndex, -1);
        size = 0;
        if (indices.length < n) {
            indices = new int[Math.max(n, indices.length * 2)];
        }
    }

    private int indexOf(long v) {
        int slot = (int) ((v * 0x9E3779B97F4A7C15L) >>> SHIFT);
        while (true) {
            int ix = slotIndex[slot];
            if (ix < 0) {
                if (size == LIMIT) {
                    return -1;
                }
                keys[slot] = v;
                slotIndex[slot] = size;
                if (size == values.length) {
                    values = Arrays.copyOf(values, size * 2);
                }
                values[size] = v;
                return size++;
            }
            if (keys[slot] == v) {
                return ix;
            }
            slot = (slot + 1) & (SLOTS - 1);
        }
    }
}
