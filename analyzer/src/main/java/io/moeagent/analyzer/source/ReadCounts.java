package io.moeagent.analyzer.source;

/** What reading a queue met besides the rows it handed out; commands report the non-zero ones. */
public final class ReadCounts {
    public long records;
    public long stepRecords;
    public long routeRecords;
    /** Token rows of route records that had a step record (including pad rows). */
    public long rows;
    /** Rows the engine marked as padding: a negative request id in the engine's own step context. */
    public long padRows;
    /**
     * Rows with a negative request id or position that the engine did not mark as padding (recorded without a step
     * context and without scopes, by an agent before scopes existed): skipped because they cannot be placed, but
     * they are routing decisions that should have been exported.
     */
    public long unknownRows;
    /** Route records with no step record of the same id before them. */
    public long orphanRouteRecords;
    /** Rows of orphan records, plus rows of a route beyond its step's token count. */
    public long orphanRows;
    public long undecodableRecords;
    /** Schema-2 records whose CRC32C did not match (damaged on disk, or zero-filled by a full disk): never decoded. */
    public long corruptRecords;
    /** One line per queue file found cut short (truncated or partly copied); reading stopped before each cut. */
    public final java.util.List<String> cutFiles = new java.util.ArrayList<>();
    public long extraMetaRecords;
    /** Route records of a run whose meta record was never read (damaged or lost). */
    public long routesWithoutMeta;
    public long repeatedStepIds;
    /** Steps with fewer route records than recorded layers (a truncated queue, or one still being written). */
    public long incompleteSteps;

    public void add(ReadCounts o) {
        records += o.records;
        stepRecords += o.stepRecords;
        routeRecords += o.routeRecords;
        rows += o.rows;
        padRows += o.padRows;
        unknownRows += o.unknownRows;
        orphanRouteRecords += o.orphanRouteRecords;
        orphanRows += o.orphanRows;
        undecodableRecords += o.undecodableRecords;
        corruptRecords += o.corruptRecords;
        cutFiles.addAll(o.cutFiles);
        extraMetaRecords += o.extraMetaRecords;
        routesWithoutMeta += o.routesWithoutMeta;
        repeatedStepIds += o.repeatedStepIds;
        incompleteSteps += o.incompleteSteps;
    }

    /** Whether rows that are real routing decisions were skipped (not padding, not a truncated tail). */
    public boolean skippedRealRows() {
        return unknownRows > 0;
    }

    /** One line naming what was skipped, or null when nothing was. */
    public String skippedSummary() {
        StringBuilder sb = new StringBuilder();
        if (orphanRouteRecords > 0 || orphanRows > 0) {
            sb.append(orphanRouteRecords).append(" route records with no step record before them (")
                    .append(orphanRows).append(" rows without a step row); ");
        }
        if (padRows > 0) {
            sb.append(padRows).append(" pad rows (marked as padding by the engine: negative request id); ");
        }
        if (unknownRows > 0) {
            sb.append(unknownRows).append(" rows with unknown request id or position (recorded without a step"
                    + " context or scopes; re-record with a profile or scope.* agent options); ");
        }
        if (undecodableRecords > 0) {
            sb.append(undecodableRecords).append(" records cut short or undecodable (the queue is truncated or was"
                    + " being written); every complete record was read; ");
        }
        if (corruptRecords > 0) {
            sb.append(corruptRecords).append(" records failed their checksum (damaged on disk, or zero-filled by a"
                    + " full disk): counted, never read as data; ");
        }
        for (String cut : cutFiles) {
            sb.append(cut).append("; ");
        }
        if (incompleteSteps > 0) {
            sb.append(incompleteSteps).append(" steps lack route records for some recorded layers (the queue ends"
                    + " mid-step: truncated, or the host stopped or is still writing); ");
        }
        if (extraMetaRecords > 0) {
            sb.append(extraMetaRecords).append(" further meta records ignored (the first one applies); ");
        }
        if (routesWithoutMeta > 0) {
            sb.append(routesWithoutMeta).append(" route records of a run whose meta record was not read (damaged or"
                    + " lost); ");
        }
        if (sb.length() == 0) {
            return null;
        }
        sb.setLength(sb.length() - 2);
        return "skipped: " + sb;
    }
}
