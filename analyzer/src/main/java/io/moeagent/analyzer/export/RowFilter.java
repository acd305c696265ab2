package io.moeagent.analyzer.export;

import java.util.Arrays;
import java.util.List;

/** Which rows an export keeps: {@code --layers} and {@code --phase}. */
public final class RowFilter {
    public enum Phase { prefill, decode, all }

    private final boolean[] layers;
    private final Phase phase;

    /** @param layersOrNull the layers to keep, or null for every layer */
    public RowFilter(List<Integer> layersOrNull, Phase phase) {
        if (layersOrNull == null || layersOrNull.isEmpty()) {
            this.layers = null;
        } else {
            int max = layersOrNull.stream().mapToInt(Integer::intValue).max().getAsInt();
            this.layers = new boolean[max + 1];
            for (int l : layersOrNull) {
                if (l < 0) {
                    throw new io.moeagent.analyzer.AnalyzerException("--layers: layer " + l + " is negative");
                }
                this.layers[l] = true;
            }
        }
        this.phase = phase == null ? Phase.all : phase;
    }

    public boolean keeps(int layer, boolean prefill) {
        if (layers != null && (layer < 0 || layer >= layers.length || !layers[layer])) {
            return false;
        }
        return phase == Phase.all || (phase == Phase.prefill) == prefill;
    }

    /** The recorded layers that the filter keeps, in the queue's order. */
    public int[] narrow(int[] recorded) {
        if (layers == null) {
            return recorded.clone();
        }
        return Arrays.stream(recorded).filter(l -> l >= 0 && l < layers.length && layers[l]).toArray();
    }

    public Phase phase() {
        return phase;
    }
}
