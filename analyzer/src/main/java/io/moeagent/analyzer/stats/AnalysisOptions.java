package io.moeagent.analyzer.stats;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.source.TokenTexts;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The routing analyses' options, shared by `stats` and `plot`. */
public final class AnalysisOptions {
    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "The model's tokenizer.json (or its folder), to show token texts in the vocabulary"
                    + " analysis (default: tokenizer.json in the model folder the meta names, if any; else ids).")
    public Path tokenizer;

    @Option(names = "--min-count", defaultValue = "5", paramLabel = "N",
            description = "Rows a token (vocabulary) or an expert (co-activation, paths) needs before its shares"
                    + " are ranked (default: ${DEFAULT-VALUE}).")
    public int minCount;

    @Option(names = "--ep-degrees", split = ",", paramLabel = "D", defaultValue = "2,4,8",
            description = "Expert-parallel degrees to score (default: ${DEFAULT-VALUE}; those above the expert"
                    + " count are left out).")
    public int[] epDegrees;

    @Option(names = "--capacity-factors", split = ",", paramLabel = "CF", defaultValue = "1.0,1.25,1.5",
            description = "Capacity factors for the dropped-token figures (default: ${DEFAULT-VALUE}).")
    public double[] capacityFactors;

    public RouteAnalyses.Options options() {
        for (int d : epDegrees) {
            if (d < 1) {
                throw new AnalyzerException("--ep-degrees " + d + ": give device counts of at least 1, e.g. 2,4,8");
            }
        }
        for (double f : capacityFactors) {
            if (!(f > 0) || Double.isInfinite(f)) {
                throw new AnalyzerException("--capacity-factors " + f + ": give positive factors, e.g. 1.0,1.25,1.5");
            }
        }
        if (minCount < 1) {
            throw new AnalyzerException("--min-count " + minCount + ": give at least 1");
        }
        return new RouteAnalyses.Options(epDegrees, capacityFactors);
    }

    /** The --tokenizer's texts (read before the pass, so that a bad file fails fast), or null. */
    public TokenTexts givenTexts() {
        return tokenizer == null ? null : TokenTexts.read(tokenizer);
    }

    /** The token texts: {@code given}, else the model folder's tokenizer.json, else null (ids only). */
    public static TokenTexts texts(TokenTexts given, String modelId) {
        if (given != null) {
            return given;
        }
        Path found = TokenTexts.inDirectory(modelId);
        return found == null ? null : TokenTexts.read(found);
    }
}
