package io.moeagent.analyzer.stats;

import java.util.Arrays;

/** Where each expert lives for expert parallelism over D devices. */
public final class ExpertPlacement {
    private ExpertPlacement() {
    }

    /** Expert e on device e mod D. */
    public static int[] roundRobin(int experts, int devices) {
        int[] d = new int[experts];
        for (int e = 0; e < experts; e++) {
            d[e] = e % devices;
        }
        return d;
    }

    /**
     * Greedy balance from recorded loads (longest processing time first, as EPLB places experts without
     * replication): experts by descending load, each onto the least-loaded device that still has fewer than
     * ceil(E / D) experts; ties go to the lower expert and device.
     */
    public static int[] balanced(long[] loads, int devices) {
        int experts = loads.length;
        int slots = (experts + devices - 1) / devices;
        Integer[] order = new Integer[experts];
        for (int e = 0; e < experts; e++) {
            order[e] = e;
        }
        Arrays.sort(order, (a, b) -> loads[a] != loads[b] ? Long.compare(loads[b], loads[a]) : Integer.compare(a, b));
        long[] deviceLoad = new long[devices];
        int[] deviceExperts = new int[devices];
        int[] d = new int[experts];
        for (int e : order) {
            int best = -1;
            for (int x = 0; x < devices; x++) {
                if (deviceExperts[x] < slots && (best < 0 || deviceLoad[x] < deviceLoad[best])) {
                    best = x;
                }
            }
            d[e] = best;
            deviceLoad[best] += loads[e];
            deviceExperts[best]++;
        }
        return d;
    }

    /** max over devices of the device's load, over the mean device load; NaN for no load. */
    public static double imbalance(long[] loads, int[] placement, int devices) {
        long[] dev = new long[devices];
        long total = 0;
        for (int e = 0; e < loads.length; e++) {
            dev[placement[e]] += loads[e];
            total += loads[e];
        }
        if (total == 0) {
            return Double.NaN;
        }
        long max = 0;
        for (long v : dev) {
            max = Math.max(max, v);
        }
        return max * (double) devices / total;
    }
}
