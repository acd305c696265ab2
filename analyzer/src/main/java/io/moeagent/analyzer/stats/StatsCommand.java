package io.moeagent.analyzer.stats;

import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import io.moeagent.analyzer.io.AtomicOutput;
import io.moeagent.analyzer.source.RouteSourceOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Load-balance statistics per layer and overall, for all phases and for prefill and decode"
                + " separately: selections and share per expert, Shannon entropy (bits) against log2(experts),"
                + " normalised entropy, coefficient of variation, balancedness (mean/max), Jain's index, experts"
                + " never selected, mean sum of top-k weights, top experts and most frequent co-selected pairs.",
                "Then, from the same pass: temporal locality of consecutive tokens against chance, co-activation"
                + " P(j|i), layer-to-layer paths and their predictability, expert-parallel load (peak/mean,"
                + " tokens dropped at capacity factors, device imbalance for round-robin and balanced placement)"
                + " and vocabulary specialization (needs recorded token ids).",
                "Reads a queue (--queue DIR) or an exported routes.jsonl."})
public final class StatsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RouteSourceOptions source = new RouteSourceOptions();

    @Mixin
    AnalysisOptions analysis = new AnalysisOptions();

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the statistics as JSON ('-' for stdout).")
    String json;

    @Option(names = "--layer", paramLabel = "L", description = "Only this layer (adds a per-expert table).")
    Integer layer;

    @Option(names = "--top", defaultValue = "5", paramLabel = "N",
            description = "How many top experts and pairs to list (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--host-report", paramLabel = "RUN.json",
            description = "The recorded run's host report (host run --report): the agent's time inside is then"
                    + " also given as a share of the host's generation time (queue input only).")
    java.nio.file.Path hostReport;

    @Override
    public Integer call() {
        RouteAnalyses.Options options = analysis.options();
        io.moeagent.analyzer.source.TokenTexts given = analysis.givenTexts();
        TallyLoader.Loaded loaded = TallyLoader.load(source, layer, options);
        if (layer != null && loaded.tally().layers().length == 0) {
            throw new io.moeagent.analyzer.AnalyzerException("--layer " + layer + ": no routes of that layer in "
                    + loaded.source() + " (layers logged: " + java.util.Arrays.toString(loaded.layersLogged()) + ")");
        }
        Double generationMillis = hostReport == null ? null
                : io.moeagent.analyzer.compare.RunComparison.read(hostReport).wallMillis();
        StatsReport report = new StatsReport(loaded, layer, Math.max(1, top), analysis.minCount,
                AnalysisOptions.texts(given, loaded.modelId()), generationMillis);
        PrintWriter out = spec.commandLine().getOut();
        if (!"-".equals(json)) {
            report.printTable(out);
        }
        if (json != null) {
            try {
                AtomicOutput.write(json, report::writeJson);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (loaded.tally().invalidRows() > 0) {
            spec.commandLine().getErr().println("stats: " + loaded.tally().invalidRows() + " rows with an expert id"
                    + " outside [0, " + loaded.tally().experts() + ") were not counted");
        }
        if (loaded.runs() > 1) {
            spec.commandLine().getErr().println("stats: the queue holds " + loaded.runs() + " runs; these statistics"
                    + " pool them (select one with --run RUNID)");
        }
        if (loaded.note() != null) {
            spec.commandLine().getErr().println("stats: " + loaded.note());
        }
        Outputs.reportSkipped(spec, loaded.counts());
        spec.commandLine().getErr().flush();
        return ExitCodes.OK;
    }
}
