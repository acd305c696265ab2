package io.moeagent.analyzer.export;

import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.source.ReadCounts;
import io.moeagent.format.MetaRecord;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Writes a route queue as JSONL: a meta line, then one line per token and recorded layer,"
                + " in queue order (step by step, within a step layer by layer as recorded, within a layer the"
                + " step's token rows in order).",
                "Routes with no step record before them and pad rows are counted and reported, not exported; rows with an"
                        + " unknown request or position are reported too and make the exit code 1.",
                "A meta record without the number of experts gets it inferred from the data (one stderr line)."})
public final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--queue", required = true, paramLabel = "DIR", description = "The agent's queue directory.")
    Path queue;

    @Mixin
    ExportOptions output = new ExportOptions();

    @Override
    public Integer call() {
        RowFilter filter = output.filter();
        PrintWriter report = Outputs.reportStream(spec, output.out);
        long lines;
        ReadCounts counts;
        int inferred = ExpertCount.inferIfUnknown(queue);
        try (QueueRoutes routes = QueueRoutes.open(queue);
             OutputStream os = Outputs.open(output.out);
             RouteJsonlWriter writer = new RouteJsonlWriter(os)) {
            ExportVisitor visitor = new ExportVisitor(writer, filter, output.layers, queue, inferred);
            routes.readAll(visitor);
            writer.flush();
            lines = writer.routeLines();
            counts = routes.counts();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        report.println("exported " + lines + " route lines from " + queue + " to " + output.out);
        if (inferred > 0) {
            spec.commandLine().getErr().println("export: " + ExpertCount.note(inferred));
        }
        Outputs.reportSkipped(spec, counts);
        report.flush();
        if (counts.skippedRealRows()) {
            spec.commandLine().getErr().println("export: " + counts.unknownRows + " routing decisions could not be"
                    + " exported (unknown request or position); the file holds the others");
            spec.commandLine().getErr().flush();
            return ExitCodes.CHECK_FAILED;
        }
        return ExitCodes.OK;
    }

    /** Writes the meta line when the meta record arrives, then every kept row. */
    static final class ExportVisitor implements QueueRoutes.RowVisitor {
        private final RouteJsonlWriter writer;
        private final RowFilter filter;
        private final List<Integer> requestedLayers;
        private final Path queue;

        private final int inferredExperts;

        ExportVisitor(RouteJsonlWriter writer, RowFilter filter, List<Integer> requestedLayers, Path queue,
                      int inferredExperts) {
            this.inferredExperts = inferredExperts;
            this.writer = writer;
            this.filter = filter;
            this.requestedLayers = requestedLayers;
            this.queue = queue;
        }

        @Override
        public void onMeta(MetaRecord meta) {
            if (inferredExperts > 0) {
                meta = ExpertCount.withExperts(meta, inferredExperts);
            }
            writer.writeMeta(meta, checkedLayers(meta, filter, requestedLayers, queue), filter.phase().name(),
                    List.of());
        }

        @Override
        public void onRow(long requestId, int position, int layer, boolean prefill,
                          int[] ids, int offset, int k, float[] weights) {
            if (filter.keeps(layer, prefill)) {
                writer.writeRoute(requestId, position, layer, prefill, ids, offset, k, weights);
            }
        }
    }

    static int[] checkedLayers(MetaRecord meta, RowFilter filter, List<Integer> requested, Path queue) {
        int[] kept = filter.narrow(meta.layersRecorded());
        if (requested != null && !requested.isEmpty() && kept.length == 0) {
            throw new io.moeagent.analyzer.AnalyzerException("--layers " + requested + ": none of these layers was"
                    + " recorded in " + queue + " (recorded: " + java.util.Arrays.toString(meta.layersRecorded()) + ")");
        }
        return kept;
    }
}
