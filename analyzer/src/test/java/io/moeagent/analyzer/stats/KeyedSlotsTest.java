package io.moeagent.analyzer.stats;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyedSlotsTest {
    /** Random inserts, finds and removes against a HashMap, in a table far smaller than the keys (no eviction). */
    @Test
    void behavesLikeAMap() {
        KeyedSlots t = new KeyedSlots(64);
        Map<Long, Integer> model = new HashMap<>();
        Random rnd = new Random(5);
        for (int i = 0; i < 200_000; i++) {
            long a = rnd.nextInt(40);
            int b = rnd.nextInt(2);
            long key = a * 2 + b;
            int s = t.find(a, b);
            assertEquals(model.containsKey(key) ? model.get(key) : -1, s);
            if (s < 0) {
                if (model.size() < 64) {
                    model.put(key, t.insert(a, b, i));
                }
            } else if (rnd.nextInt(3) == 0) {
                t.remove(s);
                model.remove(key);
            }
            assertEquals(model.size(), t.size());
        }
        assertEquals(0, t.evicted());
    }

    @Test
    void staleAndOverflowEntriesAreEvicted() {
        KeyedSlots t = new KeyedSlots(8);
        for (int i = 0; i < 8; i++) {
            t.insert(i, 0, i);
        }
        t.evictOlderThan(3);
        assertEquals(3, t.evicted());
        assertEquals(-1, t.find(0, 0));
        assertTrue(t.find(3, 0) >= 0);
        for (int i = 8; i < 11; i++) {
            t.insert(i, 0, i);
        }
        assertEquals(8, t.size());
        // full: the next key drops the older half (stamps 3..6) first
        t.insert(11, 0, 11);
        assertEquals(-1, t.find(3, 0));
        assertTrue(t.find(10, 0) >= 0);
        assertTrue(t.find(11, 0) >= 0);
        assertEquals(5, t.size());
    }
}
