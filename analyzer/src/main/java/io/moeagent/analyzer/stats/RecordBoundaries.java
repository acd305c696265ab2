package io.moeagent.analyzer.stats;

/**
 * Finds where one route record (one step in one layer) ends in a JSONL export, which has no step ids: the
 * export writes each record's rows together, so a new record starts when the layer changes, or when a request
 * comes back within the record other than as the next prefill position right after its previous row (a decode
 * step holds one row per request). Two prefill steps of different requests in a one-layer export read as one
 * record; nothing else is ambiguous.
 */
final class RecordBoundaries {
    private final LongCounts requests = new LongCounts(64);
    private boolean started;
    private int layer;
    private long lastRequest;
    private int lastPosition;

    /** @return true when the row starts a new record (always for the first row) */
    boolean startsRecord(AnalysisRow r) {
        boolean fresh = !started || r.layer != layer;
        if (!fresh && requests.get(r.request) != 0) {
            boolean continuesPrefill = r.phase == RoutingTally.Phase.PREFILL && r.request == lastRequest
                    && r.position == lastPosition + 1;
            fresh = !continuesPrefill;
        }
        if (fresh) {
            requests.clear();
            started = true;
            layer = r.layer;
        }
        requests.add(r.request, 1);
        lastRequest = r.request;
        lastPosition = r.position;
        return fresh;
    }
}
