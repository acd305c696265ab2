package io.moeagent.analyzer.stats;

import static io.moeagent.analyzer.stats.StatsReport.field;
import static io.moeagent.analyzer.stats.StatsReport.number;

import com.fasterxml.jackson.core.JsonGenerator;
import io.moeagent.analyzer.source.TokenTexts;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The routing analyses of one pass as text sections and as the {@code analyses} object of stats.json: temporal
 * locality, co-activation, layer-to-layer paths, expert-parallel load and vocabulary specialization. Each text
 * section ends in one headline line ({@code locality: ...}, {@code co-activation: ...}, {@code paths: ...},
 * {@code expert parallel: ...}, {@code vocabulary: ...}).
 */
public final class AnalysesReport {
    private final RoutingTally tally;
    private final RouteAnalyses a;
    private final int top;
    private final int minCount;
    private final TokenTexts texts;
    private final int topK;

    private final List<LocalityTally.Layer> locality = new ArrayList<>();
    private final LocalityTally.Layer localityAll;
    private final List<PathTally.Transition> transitions;
    private final List<ExpertParallelTally.Layer> ep;
    private final List<VocabularyTally.Layer> vocabulary;

    /**
     * @param minCount rows a token (vocabulary) or an expert (co-activation) needs before its shares are ranked
     * @param texts    token texts, or null for ids only
     */
    public AnalysesReport(RoutingTally tally, RouteAnalyses analyses, int topK, int top, int minCount,
                          TokenTexts texts) {
        this.tally = tally;
        this.a = analyses;
        this.top = top;
        this.minCount = minCount;
        this.texts = texts;
        this.topK = topK;
        for (int layer : tally.layers()) {
            LocalityTally.Layer l = a.locality().layer(layer);
            if (l != null) {
                locality.add(l);
            }
        }
        localityAll = pooled(locality, tally.experts());
        transitions = a.paths().transitions();
        ep = a.expertParallel().layers();
        vocabulary = a.vocabulary().layers(minCount, top);
    }

    public List<LocalityTally.Layer> locality() {
        return locality;
    }

    /** Locality pooled over layers (chance levels averaged over layers, weighted by pairs); null without rows. */
    public LocalityTally.Layer localityAll() {
        return localityAll;
    }

    public List<ExpertParallelTally.Layer> expertParallel() {
        return ep;
    }

    public List<PathTally.Transition> transitions() {
        return transitions;
    }

    public List<VocabularyTally.Layer> vocabulary() {
        return vocabulary;
    }

    static LocalityTally.Layer pooled(List<LocalityTally.Layer> layers, int experts) {
        if (layers.isEmpty()) {
            return null;
        }
        long rows = 0, pairs = 0, firstPairs = 0, same = 0, any = 0;
        double overlap = 0, mf = 0, ua = 0, uo = 0, mo = 0, w = 0;
        for (LocalityTally.Layer l : layers) {
            rows += l.rows();
            pairs += l.pairs();
            firstPairs += l.firstPairs();
            same += l.sameFirst();
            any += l.anyOverlap();
            if (l.pairs() > 0) {
                overlap += l.meanOverlap() * l.pairs();
                mf += (Double.isNaN(l.marginalFirst()) ? 0 : l.marginalFirst()) * l.pairs();
                ua += l.uniformAny() * l.pairs();
                uo += l.uniformOverlap() * l.pairs();
                mo += l.marginalOverlap() * l.pairs();
                w += l.pairs();
            }
        }
        LocalityTally.Layer first = layers.get(0);
        return new LocalityTally.Layer(-1, rows, pairs, firstPairs, same, any,
                firstPairs == 0 ? Double.NaN : (double) same / firstPairs, pairs == 0 ? Double.NaN : (double) any / pairs,
                w == 0 ? Double.NaN : overlap / w, 1.0 / experts, w == 0 ? Double.NaN : mf / w,
                w == 0 ? first.uniformAny() : ua / w, w == 0 ? first.uniformOverlap() : uo / w,
                w == 0 ? Double.NaN : mo / w);
    }

    // ---------------------------------------------------------------- text

    public void printText(PrintWriter out) {
        printLocality(out);
        printCoActivation(out);
        printPaths(out);
        printExpertParallel(out);
        printVocabulary(out);
    }

    private void printLocality(PrintWriter out) {
        out.printf(Locale.ROOT, "%n== temporal locality: consecutive tokens of a request (position p, p+1) in the"
                + " same layer (Mixtral, section 5) ==%n");
        out.printf(Locale.ROOT, "%5s %9s %9s %8s %8s %9s %8s %8s %8s%n", "layer", "pairs", "same 1st", "1/E",
                "sum p^2", "share any", "chance", "overlap", "k/E");
        for (LocalityTally.Layer l : locality) {
            localityRow(out, Integer.toString(l.layer()), l);
        }
        if (locality.size() > 1) {
            localityRow(out, "all", localityAll);
        }
        LocalityTally.Layer s = localityAll;
        if (s == null || s.pairs() == 0) {
            out.println("locality: no consecutive tokens of one request in one layer (requests of one token, or"
                    + " no rows)");
        } else {
            out.printf(Locale.ROOT, "locality: first choice repeats for %s of consecutive tokens (chance 1/E %s,"
                            + " from the layer's shares %s); top-%d sets share an expert for %s (chance %s);"
                            + " %,d pairs%n", pct(s.firstRepeatRate()), pct(s.uniformFirst()),
                    pct(s.marginalFirst()), topK, pct(s.anyOverlapRate()), pct(s.uniformAny()), s.pairs());
        }
    }

    private static void localityRow(PrintWriter out, String layer, LocalityTally.Layer l) {
        out.printf(Locale.ROOT, "%5s %,9d %9s %8s %8s %9s %8s %8s %8s%n", layer, l.pairs(), pct(l.firstRepeatRate()),
                pct(l.uniformFirst()), pct(l.marginalFirst()), pct(l.anyOverlapRate()), pct(l.uniformAny()),
                pct(l.meanOverlap()), pct(l.uniformOverlap()));
    }

    private void printCoActivation(PrintWriter out) {
        out.printf(Locale.ROOT, "%n== co-activation: P(j | i), j selected in the same top-%d as i (OLMoE, section 5);"
                + " strongest pairs, experts i with >= %d rows ==%n", topK, minCount);
        for (int layer : tally.layers()) {
            out.printf(Locale.ROOT, "%5d  %s%n", layer, pairsText(CoActivation.strongest(tally.layer(layer), top,
                    minCount)));
        }
        RoutingTally.Counts all = tally.overall();
        List<CoActivation.Pair> pooled = CoActivation.strongest(all, top, minCount);
        if (tally.layers().length > 1) {
            out.printf(Locale.ROOT, "%5s  %s%n", "all", pairsText(pooled));
        }
        if (topK < 2) {
            out.println("co-activation: top-1 routing selects one expert per token; no pairs");
        } else if (pooled.isEmpty()) {
            out.println("co-activation: no expert pairs with enough rows");
        } else {
            CoActivation.Pair p = pooled.get(0);
            out.printf(Locale.ROOT, "co-activation: strongest P(%d | %d) = %s (%,d of %,d rows, lift %.2f)%n",
                    p.expert(), p.given(), pct(p.probability()), p.count(), p.givenRows(), p.lift());
        }
    }

    private static String pairsText(List<CoActivation.Pair> pairs) {
        if (pairs.isEmpty()) {
            return "none";
        }
        List<String> s = new ArrayList<>();
        for (CoActivation.Pair p : pairs) {
            s.add(String.format(Locale.ROOT, "%d|%d %s (%,d/%,d, lift %.2f)", p.expert(), p.given(),
                    pct(p.probability()), p.count(), p.givenRows(), p.lift()));
        }
        return String.join(", ", s);
    }

    private void printPaths(PrintWriter out) {
        out.printf(Locale.ROOT, "%n== layer-to-layer paths: the same token's first choice at the next logged layer"
                + " ==%n");
        out.printf(Locale.ROOT, "%9s %10s %9s %9s %9s %9s %9s  %s%n", "from->to", "tokens", "hit rate", "baseline",
                "H(J|I)", "H(J)", "MI bits", "most frequent paths P(j at to | i at from)");
        double hitSum = 0;
        double baseSum = 0;
        double miSum = 0;
        long n = 0;
        for (PathTally.Transition t : transitions) {
            PathTally.Predictability p = PathTally.predictability(t, tally.experts());
            out.printf(Locale.ROOT, "%9s %,10d %9s %9s %9s %9s %9s  %s%n", t.from + "->" + t.to, t.tokens,
                    pct(p.hitRate()), pct(p.baselineHitRate()), num(p.conditionalEntropyBits(), 3),
                    num(p.nextEntropyBits(), 3), num(p.mutualInformationBits(), 3), strongestPathsText(t));
            if (p.tokens() > 0) {
                hitSum += p.hitRate() * p.tokens();
                baseSum += p.baselineHitRate() * p.tokens();
                miSum += p.mutualInformationBits() * p.tokens();
                n += p.tokens();
            }
        }
        if (n == 0) {
            out.println("paths: no token seen in two consecutive logged layers");
        } else {
            out.printf(Locale.ROOT, "paths: next layer's first choice predicted from this layer's for %s of tokens"
                    + " (always the most common: %s); mutual information %.3f bits; %d transitions%n",
                    pct(hitSum / n), pct(baseSum / n), miSum / n, transitions.size());
        }
    }

    /** The strongest i -> j paths by P(j in next set | i in this set), i with >= minCount tokens. */
    List<long[]> strongestPaths(PathTally.Transition t) {
        int e = tally.experts();
        List<long[]> all = new ArrayList<>();
        for (int i = 0; i < e; i++) {
            long from = t.fromSelections[i];
            if (from == 0 || from < minCount) {
                continue;
            }
            for (int j = 0; j < e; j++) {
                long c = t.sets[i * e + j];
                if (c > 0) {
                    all.add(new long[] {i, j, c, from});
                }
            }
        }
        all.sort((x, y) -> {
            int c = Double.compare((double) y[2] / y[3], (double) x[2] / x[3]);
            if (c != 0) {
                return c;
            }
            c = Long.compare(y[2], x[2]);
            return c != 0 ? c : x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]);
        });
        return all.subList(0, Math.min(top, all.size()));
    }

    private String strongestPathsText(PathTally.Transition t) {
        List<String> s = new ArrayList<>();
        for (long[] p : strongestPaths(t)) {
            s.add(String.format(Locale.ROOT, "%d->%d %s", p[0], p[1], pct((double) p[2] / p[3])));
        }
        return s.isEmpty() ? "-" : String.join(", ", s);
    }

    private void printExpertParallel(PrintWriter out) {
        int[] degrees = a.expertParallel().degrees();
        double[] factors = a.expertParallel().factors();
        out.printf(Locale.ROOT, "%n== expert-parallel load per step and layer: busiest expert / mean (peak), tokens"
                + " dropped at capacity factor cf, busiest device / mean for D devices, round-robin (rr) and"
                + " balanced from the recorded loads (bal) ==%n");
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%5s %8s %7s %7s", "layer", "steps",
                "peak", "max"));
        for (double f : factors) {
            h.append(String.format(Locale.ROOT, " %8s", "drop@" + trim(f)));
        }
        for (int d : degrees) {
            h.append(String.format(Locale.ROOT, " %7s %7s", "D" + d + " rr", "D" + d + " bal"));
        }
        out.println(h);
        for (ExpertParallelTally.Layer l : ep) {
            StringBuilder r = new StringBuilder(String.format(Locale.ROOT, "%5d %,8d %7.3f %7.3f", l.layer(),
                    l.records(), l.meanPeak(), l.maxPeak()));
            for (double d : l.droppedShare()) {
                r.append(String.format(Locale.ROOT, " %8s", pct(d)));
            }
            for (ExpertParallelTally.Degree d : l.degrees()) {
                r.append(String.format(Locale.ROOT, " %7.3f %7.3f", d.roundRobin().mean(), d.balanced().mean()));
            }
            out.println(r);
        }
        EpSummary s = epSummary();
        if (s == null) {
            out.println("expert parallel: no steps");
            return;
        }
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                "expert parallel: busiest expert %.2fx the mean per step (max %.2fx)", s.meanPeak, s.maxPeak));
        if (factors.length > 0) {
            List<String> cf = new ArrayList<>();
            List<String> dropped = new ArrayList<>();
            for (int f = 0; f < factors.length; f++) {
                cf.add(trim(factors[f]));
                dropped.add(pct(s.dropped[f]));
            }
            line.append("; dropped at capacity factor ").append(String.join("/", cf)).append(": ")
                    .append(String.join("/", dropped));
        }
        if (degrees.length > 0) {
            List<String> ds = new ArrayList<>();
            List<String> rr = new ArrayList<>();
            List<String> bal = new ArrayList<>();
            for (int d = 0; d < degrees.length; d++) {
                ds.add(Integer.toString(degrees[d]));
                rr.add(String.format(Locale.ROOT, "%.3f", s.rr[d]));
                bal.add(String.format(Locale.ROOT, "%.3f", s.bal[d]));
            }
            line.append("; busiest of D=").append(String.join("/", ds)).append(" devices ")
                    .append(String.join("/", rr)).append("x the mean round-robin, ").append(String.join("/", bal))
                    .append("x balanced");
        }
        out.println(line);
        if (ep.stream().anyMatch(l -> l.sampledRecords() < l.records())) {
            out.println("(balanced figures from a sample of each layer's steps; see stats.json sampled_records)");
        }
    }

    /** Means over layers, weighted by each layer's steps. */
    record EpSummary(double meanPeak, double maxPeak, double[] dropped, double[] rr, double[] bal) {
    }

    EpSummary epSummary() {
        if (ep.isEmpty()) {
            return null;
        }
        int nd = a.expertParallel().degrees().length;
        int nf = a.expertParallel().factors().length;
        double peak = 0, max = 0, steps = 0, selections = 0;
        double[] dropped = new double[nf];
        double[] rr = new double[nd];
        double[] bal = new double[nd];
        for (ExpertParallelTally.Layer l : ep) {
            peak += l.meanPeak() * l.records();
            max = Math.max(max, l.maxPeak());
            steps += l.records();
            selections += l.selections();
            for (int f = 0; f < nf; f++) {
                dropped[f] += l.droppedShare()[f] * l.selections();
            }
            for (int d = 0; d < nd; d++) {
                rr[d] += l.degrees().get(d).roundRobin().mean() * l.records();
                bal[d] += l.degrees().get(d).balanced().mean() * l.records();
            }
        }
        for (int f = 0; f < nf; f++) {
            dropped[f] /= selections;
        }
        for (int d = 0; d < nd; d++) {
            rr[d] /= steps;
            bal[d] /= steps;
        }
        return new EpSummary(peak / steps, max, dropped, rr, bal);
    }

    private void printVocabulary(PrintWriter out) {
        VocabularyTally v = a.vocabulary();
        out.printf(Locale.ROOT, "%n== vocabulary specialization: share of a token's routings that select an expert"
                + " (OLMoE, section 5), tokens with >= %d rows ==%n", minCount);
        if (v.rowsWithIds() == 0) {
            out.println("vocabulary: no token ids recorded (the engine passed none: pointcut.step-token-ids);"
                    + " nothing to measure");
            return;
        }
        out.printf(Locale.ROOT, "%5s %10s %9s %9s %9s %9s %6s  %s%n", "layer", "rows", "tokens", ">=min",
                "max share", "k/E", ">=90%", "most specialised (expert token share)");
        double weighted = 0;
        double rows = 0;
        for (VocabularyTally.Layer l : vocabulary) {
            out.printf(Locale.ROOT, "%5d %,10d %,9d %,9d %9s %9s %6d  %s%n", l.layer(), l.rows(), l.distinctTokens(),
                    l.frequentTokens(), pct(l.meanMaxShare()), pct(l.uniformShare()), l.tokensOver90(),
                    specialisedText(l));
            if (!Double.isNaN(l.meanMaxShare())) {
                weighted += l.meanMaxShare() * l.rows();
                rows += l.rows();
            }
        }
        String source = texts == null ? "token ids only (no tokenizer: --tokenizer PATH)"
                : "texts from " + texts.file();
        if (rows == 0) {
            out.printf(Locale.ROOT, "vocabulary: no token with >= %d rows; %,d rows carried token ids; %s%n",
                    minCount, v.rowsWithIds(), source);
        } else {
            out.printf(Locale.ROOT, "vocabulary: a token's most frequent expert takes %s of its routings (uniform"
                    + " %s); %,d rows with token ids, %,d without; %s%n", pct(weighted / rows),
                    pct(vocabulary.get(0).uniformShare()), v.rowsWithIds(), v.rowsWithoutIds(), source);
        }
        if (v.untrackedRows() > 0) {
            out.printf(Locale.ROOT, "(%,d rows of tokens first seen after the vocabulary counters were full were"
                    + " not tracked)%n", v.untrackedRows());
        }
    }

    /** The layer's most specialised (expert, token) pairs, best first. */
    List<Object[]> specialised(VocabularyTally.Layer l) {
        List<Object[]> all = new ArrayList<>();
        for (VocabularyTally.ExpertTokens e : l.experts()) {
            for (VocabularyTally.TokenShare t : e.tokens()) {
                all.add(new Object[] {e.expert(), t});
            }
        }
        all.sort((x, y) -> {
            VocabularyTally.TokenShare a1 = (VocabularyTally.TokenShare) x[1];
            VocabularyTally.TokenShare b1 = (VocabularyTally.TokenShare) y[1];
            int c = Double.compare(b1.share(), a1.share());
            if (c != 0) {
                return c;
            }
            c = Long.compare(b1.count(), a1.count());
            return c != 0 ? c : Integer.compare((Integer) x[0], (Integer) y[0]);
        });
        return all.subList(0, Math.min(top, all.size()));
    }

    private String specialisedText(VocabularyTally.Layer l) {
        List<String> s = new ArrayList<>();
        for (Object[] p : specialised(l)) {
            VocabularyTally.TokenShare t = (VocabularyTally.TokenShare) p[1];
            s.add(String.format(Locale.ROOT, "%d %s %s (%d/%d)", (Integer) p[0], TokenTexts.label(texts, t.token()),
                    pct(t.share()), t.count(), t.tokenRows()));
        }
        return s.isEmpty() ? "-" : String.join(", ", s);
    }

    // ---------------------------------------------------------------- JSON

    public void writeJson(JsonGenerator g) throws IOException {
        g.writeObjectFieldStart("analyses");
        writeLocality(g);
        writeCoActivation(g);
        writePaths(g);
        writeExpertParallel(g);
        writeVocabulary(g);
        g.writeEndObject();
    }

    private void writeLocality(JsonGenerator g) throws IOException {
        g.writeObjectFieldStart("locality");
        g.writeNumberField("evicted_states", a.locality().evictedStates());
        if (localityAll != null) {
            g.writeFieldName("all_layers");
            localityJson(g, localityAll);
        }
        g.writeArrayFieldStart("layers");
        for (LocalityTally.Layer l : locality) {
            localityJson(g, l);
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void localityJson(JsonGenerator g, LocalityTally.Layer l) throws IOException {
        g.writeStartObject();
        if (l.layer() >= 0) {
            g.writeNumberField("layer", l.layer());
        }
        g.writeNumberField("rows", l.rows());
        g.writeNumberField("consecutive_pairs", l.pairs());
        g.writeNumberField("first_choice_pairs", l.firstPairs());
        g.writeNumberField("same_first_choice", l.sameFirst());
        g.writeNumberField("shared_expert_pairs", l.anyOverlap());
        field(g, "first_repeat_rate", l.firstRepeatRate());
        field(g, "shared_expert_rate", l.anyOverlapRate());
        field(g, "mean_overlap", l.meanOverlap());
        g.writeObjectFieldStart("chance");
        field(g, "first_repeat_uniform", l.uniformFirst());
        field(g, "first_repeat_marginal", l.marginalFirst());
        field(g, "shared_expert_uniform", l.uniformAny());
        field(g, "mean_overlap_uniform", l.uniformOverlap());
        field(g, "mean_overlap_marginal", l.marginalOverlap());
        g.writeEndObject();
        g.writeEndObject();
    }

    private void writeCoActivation(JsonGenerator g) throws IOException {
        g.writeObjectFieldStart("coactivation");
        g.writeNumberField("min_rows", minCount);
        g.writeFieldName("all_layers");
        g.writeStartObject();
        coPairs(g, CoActivation.strongest(tally.overall(), top, minCount));
        g.writeEndObject();
        g.writeArrayFieldStart("layers");
        for (int layer : tally.layers()) {
            g.writeStartObject();
            g.writeNumberField("layer", layer);
            RoutingTally.Counts c = tally.layer(layer);
            coPairs(g, CoActivation.strongest(c, top, minCount));
            // rows_both[i][j]: rows selecting both i and j; the diagonal is i's rows, so P(j|i) = [i][j] / [i][i]
            g.writeArrayFieldStart("rows_both");
            int e = c.experts();
            long[] row = new long[e];
            for (int i = 0; i < e; i++) {
                for (int j = 0; j < e; j++) {
                    row[j] = i == j ? c.selections[i] : CoActivation.both(c, i, j);
                }
                g.writeArray(row, 0, e);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void coPairs(JsonGenerator g, List<CoActivation.Pair> pairs) throws IOException {
        g.writeArrayFieldStart("strongest");
        for (CoActivation.Pair p : pairs) {
            g.writeStartObject();
            g.writeNumberField("given", p.given());
            g.writeNumberField("expert", p.expert());
            g.writeNumberField("rows_both", p.count());
            g.writeNumberField("rows_given", p.givenRows());
            field(g, "probability", p.probability());
            field(g, "lift", p.lift());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private void writePaths(JsonGenerator g) throws IOException {
        g.writeObjectFieldStart("paths");
        g.writeNumberField("evicted_states", a.paths().evictedStates());
        g.writeArrayFieldStart("transitions");
        int e = tally.experts();
        for (PathTally.Transition t : transitions) {
            PathTally.Predictability p = PathTally.predictability(t, e);
            g.writeStartObject();
            g.writeNumberField("from", t.from);
            g.writeNumberField("to", t.to);
            g.writeNumberField("tokens", t.tokens);
            g.writeNumberField("first_choice_tokens", t.firstTokens);
            field(g, "top1_hit_rate", p.hitRate());
            field(g, "baseline_hit_rate", p.baselineHitRate());
            field(g, "conditional_entropy_bits", p.conditionalEntropyBits());
            field(g, "next_entropy_bits", p.nextEntropyBits());
            field(g, "mutual_information_bits", p.mutualInformationBits());
            g.writeArrayFieldStart("most_likely_next");
            for (int i = 0; i < e; i++) {
                long rowSum = 0;
                int best = -1;
                long bestCount = 0;
                for (int j = 0; j < e; j++) {
                    long c = t.first[i * e + j];
                    rowSum += c;
                    if (c > bestCount) {
                        bestCount = c;
                        best = j;
                    }
                }
                if (rowSum > 0) {
                    g.writeStartObject();
                    g.writeNumberField("expert", i);
                    g.writeNumberField("next", best);
                    g.writeNumberField("tokens", rowSum);
                    field(g, "probability", (double) bestCount / rowSum);
                    g.writeEndObject();
                }
            }
            g.writeEndArray();
            g.writeArrayFieldStart("strongest");
            for (long[] s : strongestPaths(t)) {
                g.writeStartObject();
                g.writeNumberField("expert", s[0]);
                g.writeNumberField("next", s[1]);
                g.writeNumberField("tokens_both", s[2]);
                g.writeNumberField("tokens_given", s[3]);
                field(g, "probability", (double) s[2] / s[3]);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private void writeExpertParallel(JsonGenerator g) throws IOException {
        g.writeObjectFieldStart("expert_parallel");
        double[] factors = a.expertParallel().factors();
        int[] degrees = a.expertParallel().degrees();
        g.writeFieldName("capacity_factors");
        g.writeArray(factors, 0, factors.length);
        g.writeFieldName("degrees");
        g.writeArray(degrees, 0, degrees.length);
        EpSummary s = epSummary();
        if (s != null) {
            g.writeObjectFieldStart("all_layers");
            field(g, "mean_peak_load", s.meanPeak);
            field(g, "max_peak_load", s.maxPeak);
            g.writeArrayFieldStart("dropped_share");
            for (double d : s.dropped) {
                number(g, d);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("per_degree");
            for (int d = 0; d < degrees.length; d++) {
                g.writeStartObject();
                g.writeNumberField("devices", degrees[d]);
                field(g, "round_robin_mean_imbalance", s.rr[d]);
                field(g, "balanced_mean_imbalance", s.bal[d]);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeArrayFieldStart("layers");
        for (ExpertParallelTally.Layer l : ep) {
            g.writeStartObject();
            g.writeNumberField("layer", l.layer());
            g.writeNumberField("steps", l.records());
            g.writeNumberField("selections", l.selections());
            field(g, "mean_peak_load", l.meanPeak());
            field(g, "max_peak_load", l.maxPeak());
            g.writeArrayFieldStart("dropped_share");
            for (double d : l.droppedShare()) {
                number(g, d);
            }
            g.writeEndArray();
            g.writeNumberField("sampled_steps", l.sampledRecords());
            g.writeArrayFieldStart("per_degree");
            for (ExpertParallelTally.Degree d : l.degrees()) {
                g.writeStartObject();
                g.writeNumberField("devices", d.devices());
                imbalance(g, "round_robin", d.roundRobin());
                imbalance(g, "balanced", d.balanced());
                g.writeFieldName("balanced_placement");
                g.writeArray(d.balancedPlacement(), 0, d.balancedPlacement().length);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void imbalance(JsonGenerator g, String name, ExpertParallelTally.Imbalance i) throws IOException {
        g.writeObjectFieldStart(name);
        field(g, "mean", i.mean());
        field(g, "max", i.max());
        field(g, "pooled", i.pooled());
        g.writeEndObject();
    }

    private void writeVocabulary(JsonGenerator g) throws IOException {
        VocabularyTally v = a.vocabulary();
        g.writeObjectFieldStart("vocabulary");
        g.writeNumberField("rows_with_token_ids", v.rowsWithIds());
        g.writeNumberField("rows_without_token_ids", v.rowsWithoutIds());
        g.writeNumberField("rows_untracked", v.untrackedRows());
        g.writeNumberField("min_rows", minCount);
        if (texts != null) {
            g.writeStringField("tokenizer", texts.file().toString());
        } else {
            g.writeNullField("tokenizer");
        }
        g.writeArrayFieldStart("layers");
        for (VocabularyTally.Layer l : vocabulary) {
            g.writeStartObject();
            g.writeNumberField("layer", l.layer());
            g.writeNumberField("rows", l.rows());
            g.writeNumberField("distinct_tokens", l.distinctTokens());
            g.writeNumberField("frequent_tokens", l.frequentTokens());
            field(g, "mean_max_share", l.meanMaxShare());
            g.writeNumberField("tokens_over_90pct", l.tokensOver90());
            field(g, "uniform_share", l.uniformShare());
            g.writeArrayFieldStart("experts");
            for (VocabularyTally.ExpertTokens e : l.experts()) {
                g.writeStartObject();
                g.writeNumberField("expert", e.expert());
                g.writeArrayFieldStart("tokens");
                for (VocabularyTally.TokenShare t : e.tokens()) {
                    g.writeStartObject();
                    g.writeNumberField("token_id", t.token());
                    String text = texts == null ? null : texts.text(t.token());
                    if (text == null) {
                        g.writeNullField("text");
                    } else {
                        g.writeStringField("text", text);
                    }
                    g.writeNumberField("rows_to_expert", t.count());
                    g.writeNumberField("token_rows", t.tokenRows());
                    field(g, "share", t.share());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    // ---------------------------------------------------------------- formatting

    static String pct(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }

    static String num(double v, int decimals) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    static String trim(double f) {
        return Double.toString(f);
    }

}
