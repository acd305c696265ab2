package io.moeagent.analyzer.stats;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Per-request state stays bounded: finished requests are evicted, and a pair is never made across an eviction. */
class BoundedStateTest {
    static AnalysisRow row(long request, int position, int layer, int... ids) {
        AnalysisRow r = new AnalysisRow();
        r.request = request;
        r.position = position;
        r.layer = layer;
        r.ids = ids;
        r.k = ids.length;
        return r;
    }

    @Test
    void finishedRequestsAreEvictedFromLocality() {
        // stale after 4 records, room for 8 states
        LocalityTally t = new LocalityTally(4, 1, 4, 8);
        for (int record = 0; record < 100; record++) {
            t.startRecord(0);
            // request `record` gets two consecutive tokens in this record, then never comes back
            t.add(row(record, 0, 0, 1));
            t.add(row(record, 1, 0, 1));
            t.endRecord();
        }
        assertEquals(100, t.layer(0).pairs());
        assertEquals(100, t.layer(0).sameFirst());
        assertTrue(t.evictedStates() >= 90, "evicted " + t.evictedStates());
        // request 0 was evicted long ago: its next position does not pair with the forgotten one
        t.startRecord(0);
        t.add(row(0, 2, 0, 1));
        t.endRecord();
        assertEquals(100, t.layer(0).pairs());
    }

    @Test
    void pathStateIsDroppedAtTheLastLayer() {
        PathTally p = new PathTally(4, 1, new int[] {0, 1}, 1_000, 4);
        for (int token = 0; token < 1_000; token++) {
            p.startRecord(0);
            p.add(row(7, token, 0, token % 4));
            p.endRecord();
            p.startRecord(1);
            p.add(row(7, token, 1, (token + 1) % 4));
            p.endRecord();
        }
        // 1,000 tokens through a table of 4: each state freed at layer 1, nothing evicted, every path counted
        assertEquals(0, p.evictedStates());
        PathTally.Transition t = p.transitions().get(0);
        assertEquals(1_000, t.tokens);
        assertEquals(250, t.first[0 * 4 + 1]);
        assertEquals(1.0, PathTally.predictability(t, 4).hitRate(), 1e-12);
    }
}
