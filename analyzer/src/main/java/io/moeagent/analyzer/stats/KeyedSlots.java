package io.moeagent.analyzer.stats;

import java.util.Arrays;

/**
 * A fixed-capacity table from (long, int) keys to slot numbers {@code 0 .. capacity-1}, so that per-key state
 * can live in the caller's flat arrays indexed by slot: bounded memory, no boxing on the per-row path. Every
 * entry carries a stamp (the caller's clock, e.g. route records read so far). {@link #evictOlderThan} drops
 * stale entries; when a new key finds the table full, the older half is dropped first. Evicted slots are reused.
 *
 * <p>Hand-written (open addressing, linear probing, backward-shift deletion): the analyzer carries no
 * primitive-collections library, and pulling one in for one table would add megabytes to the shaded jar.
 */
final class KeyedSlots {
    private final int capacity;
    private final long[] keyA;
    private final int[] keyB;
    private final long[] stamps;
    private final boolean[] live;
    /** Hash index: slot + 1, 0 = empty. */
    private final int[] index;
    private final int mask;
    private final int[] free;
    private int freeTop;
    private int size;
    private long evicted;
    /** The record clock of {@link #startRecord}: an entry unseen for {@code staleRecords} records is dropped. */
    private final long staleRecords;
    private long records;
    private long nextSweep;

    KeyedSlots(int capacity) {
        this(capacity, Long.MAX_VALUE);
    }

    /** A table whose {@link #startRecord} clock drops entries unseen for {@code staleRecords} records (at least 2). */
    KeyedSlots(int capacity, long staleRecords) {
        if (capacity < 2) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.capacity = capacity;
        keyA = new long[capacity];
        keyB = new int[capacity];
        stamps = new long[capacity];
        live = new boolean[capacity];
        int n = Integer.highestOneBit(capacity * 2 - 1) << 1;
        index = new int[n];
        mask = n - 1;
        free = new int[capacity];
        this.staleRecords = Math.max(2, staleRecords);
        nextSweep = this.staleRecords;
        for (int i = 0; i < capacity; i++) {
            free[i] = capacity - 1 - i;
        }
        freeTop = capacity;
    }

    /**
     * Advances the record clock by one route record, dropping stale entries every {@code staleRecords / 2} records;
     * returns the clock, the stamp for entries inserted or touched during this record.
     */
    long startRecord() {
        records++;
        if (records >= nextSweep) {
            evictOlderThan(records - staleRecords);
            nextSweep = records + staleRecords / 2;
        }
        return records;
    }

    int capacity() {
        return capacity;
    }

    int size() {
        return size;
    }

    /** Entries dropped to make room or because they went stale. */
    long evicted() {
        return evicted;
    }

    private static int hash(long a, int b) {
        long h = a * 0x9E3779B97F4A7C15L + b * 0xC2B2AE3D27D4EB4FL;
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 32));
    }

    /** The key's slot, or -1. */
    int find(long a, int b) {
        for (int i = hash(a, b) & mask; ; i = (i + 1) & mask) {
            int v = index[i];
            if (v == 0) {
                return -1;
            }
            int s = v - 1;
            if (keyA[s] == a && keyB[s] == b) {
                return s;
            }
        }
    }

    /** A new slot for a key that {@link #find} did not find, stamped {@code stamp}; may evict older entries. */
    int insert(long a, int b, long stamp) {
        if (freeTop == 0) {
            evictOlderHalf();
        }
        int s = free[--freeTop];
        keyA[s] = a;
        keyB[s] = b;
        stamps[s] = stamp;
        live[s] = true;
        size++;
        int i = hash(a, b) & mask;
        while (index[i] != 0) {
            i = (i + 1) & mask;
        }
        index[i] = s + 1;
        return s;
    }

    void touch(int slot, long stamp) {
        stamps[slot] = stamp;
    }

    /** Frees a slot (its state is finished). */
    void remove(int slot) {
        if (!live[slot]) {
            return;
        }
        int i = hash(keyA[slot], keyB[slot]) & mask;
        while (index[i] != slot + 1) {
            i = (i + 1) & mask;
        }
        deleteAt(i);
        live[slot] = false;
        free[freeTop++] = slot;
        size--;
    }

    private void deleteAt(int pos) {
        int gap = pos;
        for (int j = (pos + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
            int s = index[j] - 1;
            int home = hash(keyA[s], keyB[s]) & mask;
            if (((j - home) & mask) >= ((j - gap) & mask)) {
                index[gap] = index[j];
                gap = j;
            }
        }
        index[gap] = 0;
    }

    /** Drops every entry stamped before {@code stamp}. */
    void evictOlderThan(long stamp) {
        boolean any = false;
        for (int s = 0; s < capacity; s++) {
            if (live[s] && stamps[s] < stamp) {
                live[s] = false;
                free[freeTop++] = s;
                size--;
                evicted++;
                any = true;
            }
        }
        if (any) {
            rebuildIndex();
        }
    }

    private void evictOlderHalf() {
        long[] copy = Arrays.copyOf(stamps, capacity);
        Arrays.sort(copy);
        long median = copy[capacity / 2];
        evictOlderThan(median);
        if (freeTop == 0) {
            // all stamps equal from the median up: drop the lowest-numbered half
            for (int s = 0; s < capacity / 2; s++) {
                live[s] = false;
                free[freeTop++] = s;
                size--;
                evicted++;
            }
            rebuildIndex();
        }
    }

    private void rebuildIndex() {
        Arrays.fill(index, 0);
        for (int s = 0; s < capacity; s++) {
            if (live[s]) {
                int i = hash(keyA[s], keyB[s]) & mask;
                while (index[i] != 0) {
                    i = (i + 1) & mask;
                }
                index[i] = s + 1;
            }
        }
    }
}
