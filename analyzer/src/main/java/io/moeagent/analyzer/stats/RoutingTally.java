package io.moeagent.analyzer.stats;

import java.util.Arrays;

/**
 * Counts expert selections per phase and layer: selections per expert, co-selected pairs, rows and the sum of
 * each row's top-k weights. The per-row path allocates nothing, so that it keeps up with a queue being read
 * at memory speed.
 */
public final class RoutingTally {
    public enum Phase { PREFILL, DECODE, UNKNOWN }

    private static final int PHASES = Phase.values().length;

    private final int experts;
    private int[] slotOfLayer = new int[0];
    private int[] layerOfSlot = new int[0];
    private Counts[][] slots = new Counts[PHASES][0];
    private long invalidRows;

    public RoutingTally(int experts) {
        if (experts < 1) {
            throw new IllegalArgumentException("experts " + experts);
        }
        this.experts = experts;
    }

    public int experts() {
        return experts;
    }

    /** Rows skipped because an expert id was outside [0, experts). */
    public long invalidRows() {
        return invalidRows;
    }

    /** Counts of one phase and layer (or a sum of them). */
    public static final class Counts {
        final int experts;
        public final long[] selections;
        /** {@code pairs[a * experts + b]} for a &lt; b: rows that selected both a and b. */
        public final long[] pairs;
        public long rows;
        public double weightSum;
        public long weightRows;

        Counts(int experts) {
            this.experts = experts;
            this.selections = new long[experts];
            this.pairs = new long[experts * experts];
        }

        void addAll(Counts o) {
            for (int i = 0; i < selections.length; i++) {
                selections[i] += o.selections[i];
            }
            for (int i = 0; i < pairs.length; i++) {
                pairs[i] += o.pairs[i];
            }
            rows += o.rows;
            weightSum += o.weightSum;
            weightRows += o.weightRows;
        }

        public int experts() {
            return experts;
        }
    }

    /**
     * Adds one row: {@code k} expert ids from {@code ids[offset..]}, weights from the same offset unless null.
     *
     * @return false when the row was not counted (an expert id outside [0, experts))
     */
    public boolean add(int layer, Phase phase, int[] ids, int offset, int k, float[] weightsOrNull) {
        for (int j = 0; j < k; j++) {
            int e = ids[offset + j];
            if (e < 0 || e >= experts) {
                invalidRows++;
                return false;
            }
        }
        Counts c = counts(phase, layer);
        c.rows++;
        long[] sel = c.selections;
        long[] pairs = c.pairs;
        for (int j = 0; j < k; j++) {
            int a = ids[offset + j];
            sel[a]++;
            for (int m = j + 1; m < k; m++) {
                int b = ids[offset + m];
                if (a < b) {
                    pairs[a * experts + b]++;
                } else if (b < a) {
                    pairs[b * experts + a]++;
                }
            }
        }
        if (weightsOrNull != null) {
            float sum = 0;
            for (int j = 0; j < k; j++) {
                sum += weightsOrNull[offset + j];
            }
            c.weightSum += sum;
            c.weightRows++;
        }
        return true;
    }

    private Counts counts(Phase phase, int layer) {
        int slot = layer >= 0 && layer < slotOfLayer.length ? slotOfLayer[layer] : -1;
        if (slot < 0) {
            slot = newSlot(layer);
        }
        Counts c = slots[phase.ordinal()][slot];
        if (c == null) {
            c = new Counts(experts);
            slots[phase.ordinal()][slot] = c;
        }
        return c;
    }

    private int newSlot(int layer) {
        if (layer < 0) {
            throw new IllegalArgumentException("negative layer " + layer);
        }
        if (layer >= slotOfLayer.length) {
            int old = slotOfLayer.length;
            slotOfLayer = Arrays.copyOf(slotOfLayer, Math.max(layer + 1, old * 2));
            Arrays.fill(slotOfLayer, old, slotOfLayer.length, -1);
        }
        int slot = layerOfSlot.length;
        layerOfSlot = Arrays.copyOf(layerOfSlot, slot + 1);
        layerOfSlot[slot] = layer;
        slotOfLayer[layer] = slot;
        for (int p = 0; p < PHASES; p++) {
            slots[p] = Arrays.copyOf(slots[p], slot + 1);
        }
        return slot;
    }

    /** The layers seen, ascending. */
    public int[] layers() {
        int[] l = layerOfSlot.clone();
        Arrays.sort(l);
        return l;
    }

    /** Counts of one layer in the given phases (all phases when none are given). */
    public Counts layer(int layer, Phase... phases) {
        Counts sum = new Counts(experts);
        if (layer < 0 || layer >= slotOfLayer.length || slotOfLayer[layer] < 0) {
            return sum;
        }
        int slot = slotOfLayer[layer];
        for (Phase p : phases.length == 0 ? Phase.values() : phases) {
            Counts c = slots[p.ordinal()][slot];
            if (c != null) {
                sum.addAll(c);
            }
        }
        return sum;
    }

    /** Counts over every layer in the given phases (all phases when none are given). */
    public Counts overall(Phase... phases) {
        Counts sum = new Counts(experts);
        for (int layer : layerOfSlot) {
            sum.addAll(layer(layer, phases));
        }
        return sum;
    }

    public boolean hasRows(Phase phase) {
        for (Counts c : slots[phase.ordinal()]) {
            if (c != null && c.rows > 0) {
                return true;
            }
        }
        return false;
    }
}
