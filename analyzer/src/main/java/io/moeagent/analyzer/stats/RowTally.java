package io.moeagent.analyzer.stats;

/**
 * One analysis fed by the single streaming pass over the routes. Rows of one route record (one step, one layer)
 * come between {@link #startRecord} and {@link #endRecord}; every row's expert ids are valid ({@code [0, E)}).
 */
public interface RowTally {
    /** A route record (one step in one layer) begins. */
    default void startRecord(int layer) {
    }

    void add(AnalysisRow row);

    /** The rows of the record begun last are all in. */
    default void endRecord() {
    }
}
