package io.moeagent.analyzer.stats;

/**
 * The analyses beyond the load-balance counts, fed by the same streaming pass: temporal locality,
 * layer-to-layer paths, vocabulary specialization and expert-parallel load (co-activation comes from the
 * {@link RoutingTally}'s pair counts). Rows with an expert id outside [0, E) never reach them.
 */
public final class RouteAnalyses implements RowTally {
    /** What the analyses are asked for. */
    public record Options(int[] epDegrees, double[] capacityFactors) {
        public static final Options DEFAULT = new Options(new int[] {2, 4, 8}, new double[] {1.0, 1.25, 1.5});
    }

    private final LocalityTally locality;
    private final PathTally paths;
    private final VocabularyTally vocabulary;
    private final ExpertParallelTally expertParallel;
    private final RowTally[] all;

    public RouteAnalyses(int experts, int topK, int[] layersLogged, Options options) {
        int layers = Math.max(1, layersLogged.length);
        // a request or token unseen for 64 steps' worth of route records has finished
        long stale = 64L * layers;
        locality = new LocalityTally(experts, topK, stale);
        paths = new PathTally(experts, topK, layersLogged, stale);
        vocabulary = new VocabularyTally(experts);
        expertParallel = new ExpertParallelTally(experts, options.epDegrees(), options.capacityFactors(),
                ExpertParallelTally.reservoirFor(experts, layers));
        all = new RowTally[] {locality, paths, vocabulary, expertParallel};
    }

    public LocalityTally locality() {
        return locality;
    }

    public PathTally paths() {
        return paths;
    }

    public VocabularyTally vocabulary() {
        return vocabulary;
    }

    public ExpertParallelTally expertParallel() {
        return expertParallel;
    }

    @Override
    public void startRecord(int layer) {
        for (RowTally t : all) {
            t.startRecord(layer);
        }
    }

    @Override
    public void add(AnalysisRow row) {
        locality.add(row);
        paths.add(row);
        vocabulary.add(row);
        expertParallel.add(row);
    }

    @Override
    public void endRecord() {
        for (RowTally t : all) {
            t.endRecord();
        }
    }
}
