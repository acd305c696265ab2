package io.moeagent.analyzer.stats;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The stats of a tally, per phase section and layer, as a text table and as JSON. */
public final class StatsReport {
    /** One phase section: "all", "prefill" or "decode". */
    public record Section(String name, ExpertStats overall, List<Integer> layerIds, List<ExpertStats> layers) {
    }

    private final TallyLoader.Loaded loaded;
    private final List<Section> sections = new ArrayList<>();
    private final Integer onlyLayer;
    private final AnalysesReport analyses;
    /** The host's generation wall time from its run report (--host-report), or null. */
    private final Double generationMillis;

    public StatsReport(TallyLoader.Loaded loaded, Integer onlyLayer, int top) {
        this(loaded, onlyLayer, top, 5, null, null);
    }

    /**
     * @param minCount rows a token or expert needs before its shares are ranked (vocabulary, co-activation)
     * @param texts    token texts for the vocabulary section, or null for ids only
     * @param generationMillis the host's generation wall time (--host-report), or null
     */
    public StatsReport(TallyLoader.Loaded loaded, Integer onlyLayer, int top, int minCount,
                       io.moeagent.analyzer.source.TokenTexts texts, Double generationMillis) {
        this.generationMillis = generationMillis;
        this.loaded = loaded;
        this.onlyLayer = onlyLayer;
        this.analyses = new AnalysesReport(loaded.tally(), loaded.analyses(), loaded.topK(), top, minCount, texts);
        RoutingTally t = loaded.tally();
        sections.add(section(t, "all", top));
        if (t.hasRows(RoutingTally.Phase.PREFILL)) {
            sections.add(section(t, "prefill", top, RoutingTally.Phase.PREFILL));
        }
        if (t.hasRows(RoutingTally.Phase.DECODE)) {
            sections.add(section(t, "decode", top, RoutingTally.Phase.DECODE));
        }
    }

    private static Section section(RoutingTally t, String name, int top, RoutingTally.Phase... phases) {
        List<Integer> ids = new ArrayList<>();
        List<ExpertStats> layers = new ArrayList<>();
        for (int layer : t.layers()) {
            ids.add(layer);
            layers.add(ExpertStats.of(t.layer(layer, phases), top, top));
        }
        return new Section(name, ExpertStats.of(t.overall(phases), top, top), ids, layers);
    }

    public List<Section> sections() {
        return sections;
    }

    public AnalysesReport analyses() {
        return analyses;
    }

    public void printTable(PrintWriter out) {
        RoutingTally t = loaded.tally();
        out.printf(Locale.ROOT, "model %s, %d experts, top-%d, layers logged %s%s; source %s%n", loaded.modelId(),
                t.experts(), loaded.topK(), java.util.Arrays.toString(loaded.layersLogged()),
                onlyLayer == null ? "" : " (showing layer " + onlyLayer + ")", loaded.source());
        for (Section s : sections) {
            out.printf(Locale.ROOT, "%n== %s: %,d rows (token x layer), max entropy log2(%d) = %.4f bits ==%n",
                    s.name().equals("all") ? "all phases" : s.name(), s.overall().rows(), t.experts(),
                    s.overall().maxEntropyBits());
            out.printf(Locale.ROOT, "%5s %11s %8s %7s %7s %8s %7s %5s %7s  %s%n", "layer", "rows", "H bits", "H/Hmax",
                    "CV", "mean/max", "Jain", "never", "mean Sw", "top experts (share)");
            for (int i = 0; i < s.layers().size(); i++) {
                row(out, String.valueOf(s.layerIds().get(i)), s.layers().get(i));
            }
            if (s.layers().size() > 1) {
                row(out, "all", s.overall());
            }
            out.print("top pairs (rows selecting both): ");
            List<String> pairs = new ArrayList<>();
            for (ExpertStats.Pair p : s.overall().topPairs()) {
                pairs.add(String.format(Locale.ROOT, "%d+%d %,d (%.2f%%)", p.a(), p.b(), p.count(), 100 * p.share()));
            }
            out.println(pairs.isEmpty() ? "none" : String.join(", ", pairs));
            int[] never = s.overall().neverSelected();
            out.println("never selected: " + (never.length == 0 ? "none" : java.util.Arrays.toString(never)));
        }
        if (onlyLayer != null) {
            ExpertStats st = sections.get(0).overall();
            out.printf(Locale.ROOT, "%nlayer %d, all phases, per expert:%n%6s %11s %8s%n", onlyLayer, "expert",
                    "selected", "share");
            for (int e = 0; e < st.experts(); e++) {
                out.printf(Locale.ROOT, "%6d %11d %7.3f%%%n", e, st.counts()[e], 100 * st.share(e));
            }
        }
        analyses.printText(out);
        io.moeagent.analyzer.cost.AgentCostReport.print(out, loaded.agentCosts(), generationMillis);
        out.flush();
    }

    private static void row(PrintWriter out, String layer, ExpertStats s) {
        StringBuilder top = new StringBuilder();
        for (ExpertStats.Ranked r : s.topExperts()) {
            top.append(String.format(Locale.ROOT, "%d(%.1f%%) ", r.expert(), 100 * r.share()));
        }
        out.printf(Locale.ROOT, "%5s %,11d %8s %7s %7s %8s %7s %5d %7s  %s%n", layer, s.rows(), num(s.entropyBits(), 4),
                num(s.normalizedEntropy(), 4), num(s.coefficientOfVariation(), 3), num(s.balancedness(), 3),
                num(s.jainIndex(), 4), s.neverSelected().length, num(s.meanTopkWeightSum(), 4), top.toString().trim());
    }

    private static String num(double v, int decimals) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    public void writeJson(OutputStream os) throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(os)) {
            g.useDefaultPrettyPrinter();
            RoutingTally t = loaded.tally();
            g.writeStartObject();
            g.writeStringField("source", loaded.source());
            g.writeStringField("model_id", loaded.modelId());
            g.writeNumberField("num_experts", t.experts());
            g.writeNumberField("top_k", loaded.topK());
            g.writeFieldName("layers_logged");
            g.writeArray(loaded.layersLogged(), 0, loaded.layersLogged().length);
            if (onlyLayer != null) {
                g.writeNumberField("layer_filter", onlyLayer);
            }
            g.writeNumberField("invalid_rows", t.invalidRows());
            g.writeObjectFieldStart("phases");
            for (Section s : sections) {
                g.writeObjectFieldStart(s.name());
                g.writeFieldName("overall");
                writeStats(g, null, s.overall());
                g.writeArrayFieldStart("layers");
                for (int i = 0; i < s.layers().size(); i++) {
                    writeStats(g, s.layerIds().get(i), s.layers().get(i));
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndObject();
            analyses.writeJson(g);
            if (!loaded.agentCosts().isEmpty()) {
                io.moeagent.analyzer.cost.AgentCostReport.writeJson(g, loaded.agentCosts(), generationMillis);
            }
            g.writeEndObject();
            g.writeRaw('\n');
        }
    }

    private static void writeStats(JsonGenerator g, Integer layer, ExpertStats s) throws IOException {
        g.writeStartObject();
        if (layer != null) {
            g.writeNumberField("layer", layer);
        }
        g.writeNumberField("rows", s.rows());
        g.writeNumberField("selections", s.selections());
        g.writeFieldName("counts");
        g.writeArray(s.counts(), 0, s.counts().length);
        g.writeArrayFieldStart("shares");
        for (int e = 0; e < s.experts(); e++) {
            number(g, s.share(e));
        }
        g.writeEndArray();
        field(g, "entropy_bits", s.entropyBits());
        field(g, "max_entropy_bits", s.maxEntropyBits());
        field(g, "normalized_entropy", s.normalizedEntropy());
        field(g, "coefficient_of_variation", s.coefficientOfVariation());
        field(g, "balancedness", s.balancedness());
        field(g, "jain_index", s.jainIndex());
        g.writeFieldName("never_selected");
        g.writeArray(s.neverSelected(), 0, s.neverSelected().length);
        field(g, "mean_topk_weight_sum", s.meanTopkWeightSum());
        g.writeArrayFieldStart("top_experts");
        for (ExpertStats.Ranked r : s.topExperts()) {
            g.writeStartObject();
            g.writeNumberField("expert", r.expert());
            g.writeNumberField("count", r.count());
            field(g, "share", r.share());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("top_pairs");
        for (ExpertStats.Pair p : s.topPairs()) {
            g.writeStartObject();
            g.writeFieldName("experts");
            g.writeArray(new int[] {p.a(), p.b()}, 0, 2);
            g.writeNumberField("count", p.count());
            field(g, "share_of_rows", p.share());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** A number field; NaN and infinities as JSON null (shared by the analyses' JSON). */
    static void field(JsonGenerator g, String name, double v) throws IOException {
        g.writeFieldName(name);
        number(g, v);
    }

    static void number(JsonGenerator g, double v) throws IOException {
        if (Double.isFinite(v)) {
            g.writeNumber(v);
        } else {
            g.writeNull();
        }
    }
}
