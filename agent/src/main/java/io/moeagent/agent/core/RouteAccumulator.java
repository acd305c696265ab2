package io.moeagent.agent.core;

/**
 * One thread's route record in the making: the rows of every router call inside one step and layer, in call
 * order. Rows are stored best-first when their weights are known (each row's experts sorted by weight, highest
 * first, ties in the engine's order); otherwise in the engine's order, and {@link #engineOrder()} says so.
 */
final class RouteAccumulator {
    private int[] ids = new int[64];
    private float[] weights = new float[64];
    private int rows;
    private int k;
    private int layer;
    private boolean hasWeights;
    private boolean open;
    /** The layer scope call the rows belong to (null without a layer scope). */
    private Object frame;

    boolean isOpen() {
        return open;
    }

    boolean continues(int layerIndex, Object layerFrame) {
        return open && layerIndex == layer && layerFrame != null && layerFrame == frame;
    }

    void begin(int layerIndex, int topK, boolean withWeights, Object layerFrame) {
        open = true;
        layer = layerIndex;
        k = topK;
        hasWeights = withWeights;
        frame = layerFrame;
        rows = 0;
    }

    void close() {
        open = false;
        frame = null;
        rows = 0;
    }

    int layer() {
        return layer;
    }

    int rows() {
        return rows;
    }

    int k() {
        return k;
    }

    int[] ids() {
        return ids;
    }

    /** The weights, or null when the route records none. */
    float[] weights() {
        return hasWeights ? weights : null;
    }

    boolean hasWeights() {
        return hasWeights;
    }

    /** Room for {@code n} more rows; returns the first entry index to write. */
    int reserveRows(int n) {
        int need = (rows + n) * k;
        if (ids.length < need) {
            int size = Math.max(need, 2 * ids.length);
            ids = java.util.Arrays.copyOf(ids, size);
            weights = java.util.Arrays.copyOf(weights, size);
        }
        return rows * k;
    }

    /** Appends {@code n} rows of ids (and, when this route has weights, weights) copied from the engine's arrays. */
    void append(int[] srcIds, float[] srcWeights, int n) {
        int at = reserveRows(n);
        System.arraycopy(srcIds, 0, ids, at, n * k);
        if (hasWeights && srcWeights != null) {
            System.arraycopy(srcWeights, 0, weights, at, n * k);
        }
        rows += n;
    }

    /** Counts {@code n} rows without their data (a route that is not recorded). */
    void countOnly(int n) {
        rows += n;
    }

    /** Rows written in place after {@link #reserveRows} (e.g. gathered weights): counts them and sorts them. */
    void commitRows(int n) {
        int at = rows * k;
        rows += n;
        if (hasWeights) {
            sortRows(ids, weights, at, n, k);
        }
    }

    /** Sorts each of {@code n} rows from entry {@code at} by weight, highest first, stable (insertion sort: k small). */
    static void sortRows(int[] ids, float[] w, int at, int n, int k) {
        for (int r = 0; r < n; r++) {
            int base = at + r * k;
            for (int i = base + 1; i < base + k; i++) {
                float wi = w[i];
                int id = ids[i];
                int j = i - 1;
                while (j >= base && w[j] < wi) {
                    w[j + 1] = w[j];
                    ids[j + 1] = ids[j];
                    j--;
                }
                w[j + 1] = wi;
                ids[j + 1] = id;
            }
        }
    }

    /** Whether each of {@code n} rows of {@code w} is already non-increasing. */
    static boolean bestFirst(float[] w, int n, int k) {
        for (int r = 0; r < n; r++) {
            int base = r * k;
            for (int i = base + 1; i < base + k; i++) {
                if (w[i] > w[i - 1]) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Whether the rows are in the engine's order rather than best-first. */
    boolean engineOrder() {
        return !hasWeights;
    }
}
