package io.moeagent.agent.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeagent.agent.bridge.RouteBridge;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/** Accumulation, best-first ordering, per-expert gathers and scope nesting, in-process. */
class RouteAccumulatorTest {
    @Test
    void rowsAccumulateInCallOrderAndEachRowIsSortedByWeightStably() {
        RouteAccumulator a = new RouteAccumulator();
        Object frame = new Object();
        a.begin(3, 3, true, frame);
        a.append(new int[] {4, 1, 7}, new float[] {.1f, .5f, .1f}, 1);
        a.commitRows(0);
        RouteAccumulator.sortRows(a.ids(), a.weights(), 0, 1, 3);
        int at = a.reserveRows(2);
        System.arraycopy(new int[] {0, 1, 2, 5, 6, 7}, 0, a.ids(), at, 6);
        System.arraycopy(new float[] {.2f, .3f, .5f, .9f, .05f, .05f}, 0, a.weights(), at, 6);
        a.commitRows(2);
        assertEquals(3, a.rows());
        // row 0: 1 (.5) then the tie 4, 7 in the engine's order
        assertArrayEquals(new int[] {1, 4, 7, 2, 1, 0, 5, 6, 7}, java.util.Arrays.copyOf(a.ids(), 9));
        assertTrue(a.continues(3, frame));
        assertFalse(a.continues(4, frame));
        assertFalse(a.continues(3, new Object()));
        assertFalse(a.engineOrder());
        a.close();
        assertFalse(a.isOpen());
        a.begin(0, 2, false, null);
        assertTrue(a.engineOrder());
        assertNull(a.weights());
        assertFalse(a.continues(0, null), "without a layer scope every call is its own record");
    }

    @Test
    void bestFirstCheck() {
        assertTrue(RouteAccumulator.bestFirst(new float[] {.5f, .5f, .3f, .2f}, 2, 2));
        assertFalse(RouteAccumulator.bestFirst(new float[] {.5f, .4f, .3f, .6f}, 2, 2));
    }

    public static final class Tensor {
        private final float[] v = {.1f, .2f, .3f, .4f};

        public float get(int i) {
            return v[i];
        }
    }

    @Test
    void gatherReadsArraysBuffersAndGetters() throws Throwable {
        WeightGather g = new WeightGather("pointcut.weights=x[ids]");
        int[] ids = {3, 0};
        float[] out = new float[3];
        g.gather(new float[] {.1f, .2f, .3f, .4f}, ids, 0, 2, out, 1);
        assertArrayEquals(new float[] {0, .4f, .1f}, out);
        g.gather(new double[] {.1, .2, .3, .4}, ids, 1, 1, out, 0);
        assertEquals(.1f, out[0]);
        g.gather(FloatBuffer.wrap(new float[] {.1f, .2f, .3f, .4f}), ids, 0, 1, out, 0);
        assertEquals(.4f, out[0]);
        g.gather(DoubleBuffer.wrap(new double[] {.1, .2, .3, .4}), ids, 0, 1, out, 0);
        assertEquals(.4f, out[0]);
        g.gather(new Tensor(), ids, 0, 2, out, 0);
        assertArrayEquals(new float[] {.4f, .1f}, java.util.Arrays.copyOf(out, 2));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> g.gather(new float[2], ids, 0, 1, out, 0));
        assertTrue(e.getMessage().contains("expert id 3 outside"), e.getMessage());
        IllegalStateException s = assertThrows(IllegalStateException.class,
                () -> g.gather("not per expert", ids, 0, 1, out, 0));
        assertTrue(s.getMessage().contains("java.lang.String is not a float[]"), s.getMessage());
    }

    @Test
    void scopesNestAndPathsSeeTheRightFrame() {
        ScopeTracker t = new ScopeTracker();
        ScopeTracker.Frame outer = t.enter(RouteBridge.STEP, "model", new Object[] {1, 10});
        assertTrue(ScopeTracker.began(outer));
        ScopeTracker.Frame inner = t.enter(RouteBridge.STEP, "model", new Object[] {2, 20});
        assertFalse(ScopeTracker.began(inner));
        ScopeTracker.Frame l1 = t.enter(RouteBridge.LAYER, "block0", new Object[0]);
        ScopeTracker.Frame l2 = t.enter(RouteBridge.LAYER, "block0-inner", new Object[0]);
        assertEquals(10, t.frame(RouteBridge.STEP).arguments[1], "step paths read the outermost call");
        assertEquals("block0-inner", t.frame(RouteBridge.LAYER).self, "layer paths read the innermost call");
        assertEquals(l1, t.outermost(RouteBridge.LAYER));
        assertFalse(t.exit(l2));
        assertTrue(t.exit(l1), "the outermost exit ends the scope");
        assertFalse(t.active(RouteBridge.LAYER));
        assertFalse(t.exit(inner));
        assertTrue(t.active(RouteBridge.STEP));
        assertFalse(t.exit(l1), "a frame that is not running changes nothing");
        assertTrue(t.exit(outer));
        assertFalse(t.active(RouteBridge.STEP));
    }
}
