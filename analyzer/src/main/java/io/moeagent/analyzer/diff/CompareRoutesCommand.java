package io.moeagent.analyzer.diff;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import io.moeagent.analyzer.io.AtomicOutput;
import io.moeagent.analyzer.stats.TallyLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "compare-routes", mixinStandardHelpOptions = true,
        description = {"Compares the expert distributions of two recordings (e.g. two datasets, or two runs): per"
                + " layer the Jensen-Shannon divergence of the experts' shares of the selections (bits: 0 the"
                + " same, 1 disjoint), and the experts whose share changes most.",
                "Each of A and B is a queue directory or an exported routes.jsonl; both must have the same number"
                + " of experts.",
                "Exit status 1 when --max-jsd is given and a layer's divergence exceeds it."})
public final class CompareRoutesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "A", description = "The baseline: a queue directory or routes.jsonl.")
    Path a;

    @Parameters(index = "1", paramLabel = "B", description = "The other recording: a queue directory or routes.jsonl.")
    Path b;

    @Option(names = "--top", defaultValue = "10", paramLabel = "N",
            description = "How many experts with the largest share change to list (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the comparison as JSON ('-' for stdout).")
    String json;

    @Option(names = "--max-jsd", paramLabel = "BITS",
            description = "Fail (exit 1) when any layer's divergence exceeds this many bits.")
    Double maxJsd;

    @Override
    public Integer call() {
        if (maxJsd != null && !(maxJsd >= 0 && maxJsd <= 1)) {
            throw new AnalyzerException("--max-jsd " + maxJsd + ": give a divergence in bits between 0 and 1");
        }
        TallyLoader.Loaded la = load(a);
        TallyLoader.Loaded lb = load(b);
        if (la.tally().experts() != lb.tally().experts()) {
            throw new AnalyzerException(a + " has " + la.tally().experts() + " experts, " + b + " has "
                    + lb.tally().experts() + "; compare recordings of the same model");
        }
        RouteDiff.Result r = RouteDiff.of(la.tally(), lb.tally(), Math.max(1, top));
        if (r.layers().isEmpty()) {
            throw new AnalyzerException("no layer has routes in both " + a + " (layers " + r.onlyA() + ") and " + b
                    + " (layers " + r.onlyB() + "); nothing to compare");
        }
        boolean exceeded = maxJsd != null && r.maxJsd() > maxJsd;
        PrintWriter out = Outputs.reportStream(spec, json);
        print(out, la, lb, r);
        if (maxJsd != null) {
            out.printf(Locale.ROOT, "%s: largest layer divergence %.6f bits %s --max-jsd %s%n",
                    exceeded ? "FAIL" : "ok", r.maxJsd(), exceeded ? ">" : "<=", maxJsd);
        }
        out.flush();
        if (json != null) {
            try (AtomicOutput os = AtomicOutput.open(json)) {
                writeJson(os, la, lb, r);
                os.commit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Outputs.reportSkipped(spec, la.counts());
        Outputs.reportSkipped(spec, lb.counts());
        return exceeded ? ExitCodes.CHECK_FAILED : ExitCodes.OK;
    }

    private static TallyLoader.Loaded load(Path p) {
        if (Files.isDirectory(p)) {
            return TallyLoader.fromQueue(p, null);
        }
        return TallyLoader.fromJsonl(p, null);
    }

    private static void print(PrintWriter out, TallyLoader.Loaded la, TallyLoader.Loaded lb, RouteDiff.Result r) {
        out.printf(Locale.ROOT, "A: %s (%s)%nB: %s (%s)%n%d experts; Jensen-Shannon divergence of the expert shares,"
                + " bits (0 the same, 1 disjoint)%n", la.source(), la.modelId(), lb.source(), lb.modelId(),
                la.tally().experts());
        out.printf(Locale.ROOT, "%5s %12s %12s %10s%n", "layer", "selections A", "selections B", "JSD bits");
        for (RouteDiff.Layer l : r.layers()) {
            out.printf(Locale.ROOT, "%5d %,12d %,12d %10.6f%n", l.layer(), l.selectionsA(), l.selectionsB(),
                    l.jsdBits());
        }
        out.printf(Locale.ROOT, "%5s %,12d %,12d %10.6f%n", "all", r.pooled().selectionsA(), r.pooled().selectionsB(),
                r.pooled().jsdBits());
        if (!r.onlyA().isEmpty() || !r.onlyB().isEmpty()) {
            out.println("layers only in A: " + r.onlyA() + ", only in B: " + r.onlyB());
        }
        out.println("largest share changes (layer, expert: share in A -> B):");
        for (RouteDiff.Change c : r.biggest()) {
            out.printf(Locale.ROOT, "  layer %d expert %d: %.2f%% -> %.2f%% (%+.2f points)%n", c.layer(), c.expert(),
                    100 * c.shareA(), 100 * c.shareB(), 100 * c.delta());
        }
        double mean = r.layers().stream().mapToDouble(RouteDiff.Layer::jsdBits).average().orElse(Double.NaN);
        out.printf(Locale.ROOT, "route divergence: JSD per layer mean %.6f, max %.6f bits; pooled over layers %.6f"
                + " bits%n", mean, r.maxJsd(), r.pooled().jsdBits());
    }

    private static void writeJson(AtomicOutput os, TallyLoader.Loaded la, TallyLoader.Loaded lb, RouteDiff.Result r)
            throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(os.stream())) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("a", la.source());
            g.writeStringField("b", lb.source());
            g.writeNumberField("num_experts", la.tally().experts());
            g.writeArrayFieldStart("layers");
            for (RouteDiff.Layer l : r.layers()) {
                g.writeStartObject();
                g.writeNumberField("layer", l.layer());
                g.writeNumberField("selections_a", l.selectionsA());
                g.writeNumberField("selections_b", l.selectionsB());
                g.writeNumberField("jsd_bits", l.jsdBits());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeObjectFieldStart("all_layers");
            g.writeNumberField("selections_a", r.pooled().selectionsA());
            g.writeNumberField("selections_b", r.pooled().selectionsB());
            g.writeNumberField("jsd_bits", r.pooled().jsdBits());
            g.writeEndObject();
            g.writeFieldName("layers_only_in_a");
            g.writeArray(r.onlyA().stream().mapToInt(Integer::intValue).toArray(), 0, r.onlyA().size());
            g.writeFieldName("layers_only_in_b");
            g.writeArray(r.onlyB().stream().mapToInt(Integer::intValue).toArray(), 0, r.onlyB().size());
            g.writeArrayFieldStart("largest_share_changes");
            for (RouteDiff.Change c : r.biggest()) {
                g.writeStartObject();
                g.writeNumberField("layer", c.layer());
                g.writeNumberField("expert", c.expert());
                g.writeNumberField("share_a", c.shareA());
                g.writeNumberField("share_b", c.shareB());
                g.writeNumberField("delta", c.delta());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeRaw('\n');
        }
    }
}
