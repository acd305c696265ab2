package io.moeagent.analyzer.stats;

import java.util.Arrays;

/**
 * A growable map from long keys to long counts (open addressing, linear probing; {@code Long.MIN_VALUE} is not a
 * valid key). Hand-written for the same reason as {@link KeyedSlots}: no boxing on the per-row path, no
 * primitive-collections library in the jar.
 */
final class LongCounts {
    private static final long EMPTY = Long.MIN_VALUE;
    private long[] keys;
    private long[] values;
    private int size;
    private int mask;

    LongCounts(int initialCapacity) {
        int n = Integer.highestOneBit(Math.max(16, initialCapacity) * 2 - 1);
        keys = new long[n];
        values = new long[n];
        Arrays.fill(keys, EMPTY);
        mask = n - 1;
    }

    int size() {
        return size;
    }

    void clear() {
        if (size > 0) {
            Arrays.fill(keys, EMPTY);
            size = 0;
        }
    }

    /** MurmurHash3's 64-bit finaliser: every key bit reaches the low bits the table indexes by. */
    private static int hash(long k) {
        long h = k;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) h;
    }

    void add(long key, long delta) {
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                values[i] += delta;
                return;
            }
            if (k == EMPTY) {
                keys[i] = key;
                values[i] = delta;
                if (++size * 2 > keys.length) {
                    grow();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /** Sets the key's value to the larger of its value (0 when absent) and {@code v}. */
    void max(long key, long v) {
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                values[i] = Math.max(values[i], v);
                return;
            }
            if (k == EMPTY) {
                add(key, v);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    long get(long key) {
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == EMPTY) {
                return 0;
            }
            i = (i + 1) & mask;
        }
    }

    interface EntryVisitor {
        void visit(long key, long value);
    }

    void forEach(EntryVisitor v) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                v.visit(keys[i], values[i]);
            }
        }
    }

    private void grow() {
        long[] oldK = keys;
        long[] oldV = values;
        keys = new long[oldK.length * 2];
        values = new long[oldK.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        for (int i = 0; i < oldK.length; i++) {
            if (oldK[i] != EMPTY) {
                int j = hash(oldK[i]) & mask;
                while (keys[j] != EMPTY) {
                    j = (j + 1) & mask;
                }
                keys[j] = oldK[i];
                values[j] = oldV[i];
            }
        }
    }
}
