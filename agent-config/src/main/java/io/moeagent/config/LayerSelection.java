package io.moeagent.config;

import java.util.BitSet;

/** Which layer indices to record: {@code all}, or a list of indices and inclusive ranges such as {@code 0-3,7}. */
public final class LayerSelection {
    private static final String ALLOWED = "'all' or a comma-separated list of layer indices and ranges, e.g. 0-3,7";
    private final BitSet layers;
    private final String text;

    private LayerSelection(BitSet layers, String text) {
        this.layers = layers;
        this.text = text;
    }

    public static LayerSelection all() {
        return new LayerSelection(null, "all");
    }

    public static LayerSelection parse(String key, String value) throws ConfigException {
        String v = value.trim();
        if (v.equalsIgnoreCase("all")) {
            return all();
        }
        if (v.isEmpty()) {
            throw ConfigException.badValue(key, value, ALLOWED);
        }
        BitSet set = new BitSet();
        for (String part : v.split(",")) {
            String p = part.trim();
            int dash = p.indexOf('-', 1);
            try {
                int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).trim());
                int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1).trim());
                if (from < 0 || to < from || to > 1 << 16) {
                    throw ConfigException.badValue(key, value, ALLOWED + " (ranges ascending, indices 0..65536)");
                }
                set.set(from, to + 1);
            } catch (NumberFormatException e) {
                throw ConfigException.badValue(key, value, ALLOWED);
            }
        }
        return new LayerSelection(set, canonical(set));
    }

    private static String canonical(BitSet set) {
        StringBuilder sb = new StringBuilder();
        int i = set.nextSetBit(0);
        while (i >= 0) {
            int end = set.nextClearBit(i) - 1;
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(i);
            if (end > i) {
                sb.append('-').append(end);
            }
            i = set.nextSetBit(end + 1);
        }
        return sb.toString();
    }

    public boolean isAll() {
        return layers == null;
    }

    public boolean includes(int layer) {
        return layers == null ? layer >= 0 : layer >= 0 && layers.get(layer);
    }

    /** The selected layers among {@code candidates} (e.g. the model's MoE layers), in ascending order. */
    public int[] filter(int[] candidates) {
        return java.util.Arrays.stream(candidates).filter(this::includes).sorted().distinct().toArray();
    }

    /** The explicitly listed layers; empty for {@code all}. */
    public int[] listed() {
        return layers == null ? new int[0] : layers.stream().toArray();
    }

    @Override
    public String toString() {
        return text;
    }
}
