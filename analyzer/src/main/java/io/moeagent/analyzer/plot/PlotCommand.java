package io.moeagent.analyzer.plot;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import io.moeagent.analyzer.source.RouteSourceOptions;
import io.moeagent.analyzer.stats.AnalysesReport;
import io.moeagent.analyzer.stats.AnalysisOptions;
import io.moeagent.analyzer.stats.ExpertStats;
import io.moeagent.analyzer.stats.RoutingTally;
import io.moeagent.analyzer.stats.TallyLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "plot", mixinStandardHelpOptions = true,
        description = {"Draws a histogram of selections per expert (every expert labelled, the top 3 highlighted,"
                + " total selections and entropy in a box) and/or a layers x experts heatmap, as 300 DPI PNGs;"
                + " from the same pass the co-activation heatmap P(j|i) (--coactivation, of --layer or all layers),"
                + " temporal locality per layer (--locality) and expert-parallel load per device (--ep-load)."})
public final class PlotCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RouteSourceOptions source = new RouteSourceOptions();

    @Option(names = "--out", paramLabel = "hist.png", description = "Write the histogram here.")
    Path out;

    @Option(names = "--heatmap", paramLabel = "heat.png", description = "Write the layers x experts heatmap here.")
    Path heatmap;

    @Option(names = "--layer", paramLabel = "L",
            description = "Histogram and co-activation of this layer only (default: all layers).")
    Integer layer;

    @Option(names = "--coactivation", paramLabel = "coact.png",
            description = "Write the experts x experts co-activation heatmap P(j | i) here.")
    Path coactivation;

    @Option(names = "--locality", paramLabel = "locality.png",
            description = "Write temporal locality per layer against chance here.")
    Path locality;

    @Option(names = "--ep-load", paramLabel = "ep.png",
            description = "Write the expert-parallel device imbalance per layer (round-robin vs balanced) here.")
    Path epLoad;

    @Mixin
    AnalysisOptions analysis = new AnalysisOptions();

    @Option(names = "--width", defaultValue = "10", paramLabel = "INCHES",
            description = "Image width in inches at 300 DPI (default: ${DEFAULT-VALUE}).")
    double width;

    @Option(names = "--height", defaultValue = "5", paramLabel = "INCHES",
            description = "Image height in inches at 300 DPI (default: ${DEFAULT-VALUE}).")
    double height;

    @Override
    public Integer call() {
        if (out == null && heatmap == null && coactivation == null && locality == null && epLoad == null) {
            throw new AnalyzerException("nothing to draw: give --out hist.png, --heatmap heat.png, --coactivation"
                    + " coact.png, --locality locality.png and/or --ep-load ep.png");
        }
        if (width < 2 || height < 1.5 || width > 40 || height > 40) {
            throw new AnalyzerException("--width/--height " + width + "x" + height + " inches: use 2..40 x 1.5..40");
        }
        TallyLoader.Loaded all = TallyLoader.load(source, null, analysis.options());
        PrintWriter msg = spec.commandLine().getOut();
        try {
            if (out != null) {
                if (layer != null && all.tally().layer(layer).rows == 0) {
                    throw new AnalyzerException("--layer " + layer + ": no routes of that layer in " + all.source()
                            + " (layers logged: " + java.util.Arrays.toString(all.layersLogged()) + ")");
                }
                ExpertStats s = ExpertStats.of(layer == null ? all.tally().overall() : all.tally().layer(layer), 3, 1);
                String title = "Expert selections, " + (layer == null ? "all layers" : "layer " + layer) + " - "
                        + all.modelId();
                PngWriter.write(HistogramChart.render(s, title, width, height), Charts.DPI, out);
                msg.println("wrote " + out + " (" + px(width) + "x" + px(height) + " px, " + Charts.DPI + " DPI)");
            }
            if (heatmap != null) {
                if (all.tally().layers().length == 0) {
                    throw new AnalyzerException("no routes in " + all.source() + "; nothing to draw a heatmap of");
                }
                String title = "Expert share per layer - " + all.modelId();
                PngWriter.write(HeatmapChart.render(all.tally(), title, width, height), Charts.DPI, heatmap);
                msg.println("wrote " + heatmap + " (" + px(width) + "x" + px(height) + " px, " + Charts.DPI + " DPI)");
            }
            if (coactivation != null || locality != null || epLoad != null) {
                drawAnalyses(all, msg);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        msg.flush();
        if (all.note() != null) {
            spec.commandLine().getErr().println("plot: " + all.note());
        }
        Outputs.reportSkipped(spec, all.counts());
        return ExitCodes.OK;
    }

    private void drawAnalyses(TallyLoader.Loaded all, PrintWriter msg) throws IOException {
        if (all.tally().layers().length == 0) {
            throw new AnalyzerException("no routes in " + all.source() + "; nothing to draw");
        }
        AnalysesReport report = new AnalysesReport(all.tally(), all.analyses(), all.topK(), 5, analysis.minCount,
                null);
        if (coactivation != null) {
            if (layer != null && all.tally().layer(layer).rows == 0) {
                throw new AnalyzerException("--layer " + layer + ": no routes of that layer in " + all.source()
                        + " (layers logged: " + java.util.Arrays.toString(all.layersLogged()) + ")");
            }
            RoutingTally.Counts c = layer == null ? all.tally().overall() : all.tally().layer(layer);
            String title = "Co-activation P(j | i) within the top-" + all.topK() + ", "
                    + (layer == null ? "all layers" : "layer " + layer) + " - " + all.modelId();
            // near-square cells: the plot as wide as it is tall, plus room for the legend
            double w = Math.min(width, height * 1.3 + 0.5);
            PngWriter.write(CoActivationChart.render(c, title, w, height), Charts.DPI, coactivation);
            msg.println("wrote " + coactivation + " (" + px(w) + "x" + px(height) + " px, " + Charts.DPI + " DPI)");
        }
        if (locality != null) {
            String title = "Temporal locality of consecutive tokens per layer - " + all.modelId();
            PngWriter.write(LocalityChart.render(report.locality(), all.topK(), title, width, height), Charts.DPI,
                    locality);
            msg.println("wrote " + locality + " (" + px(width) + "x" + px(height) + " px, " + Charts.DPI + " DPI)");
        }
        if (epLoad != null) {
            if (report.expertParallel().isEmpty() || report.expertParallel().get(0).degrees().isEmpty()) {
                throw new AnalyzerException("--ep-load: no EP degree fits " + all.tally().experts() + " experts"
                        + " (--ep-degrees " + java.util.Arrays.toString(analysis.epDegrees) + ")");
            }
            String title = "Expert-parallel load: busiest device / mean per step - " + all.modelId();
            PngWriter.write(ExpertLoadChart.render(report.expertParallel(), title, width, height), Charts.DPI, epLoad);
            msg.println("wrote " + epLoad + " (" + px(width) + "x" + px(height) + " px, " + Charts.DPI + " DPI)");
        }
    }

    private static long px(double inches) {
        return Math.round(inches * Charts.DPI);
    }
}
