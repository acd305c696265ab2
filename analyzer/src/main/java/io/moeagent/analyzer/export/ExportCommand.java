package io.moeagent.analyzer.export;

import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import io.moeagent.analyzer.fleet.ParquetExport;
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
                "Routes with no step record before them and pad rows are counted and reported, not exported."})
public final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** What export writes. */
    public enum Format { jsonl, parquet }

    @Option(names = "--queue", required = true, paramLabel = "[NAME=]DIR",
            description = "The agent's queue directory. With --format parquet, repeat it for several queues (NAME, by"
                    + " default the directory's name, goes into the source column).")
    List<String> queues;

    @Option(names = "--format", defaultValue = "jsonl", paramLabel = "FORMAT",
            description = "jsonl (default: one file) or parquet (a Hive-partitioned dataset directory:"
                    + " routes/run_id=RUN/layer=L/, steps/, meta/; many hosts' exports can share one).")
    Format format;

    @Mixin
    ExportOptions output = new ExportOptions();

    @Override
    public Integer call() {
        RowFilter filter = output.filter();
        if (format == Format.parquet) {
            return exportParquet(filter);
        }
        if (queues.size() != 1) {
            throw new io.moeagent.analyzer.AnalyzerException("export writes one queue as JSONL; for several queues use"
                    + " merge, or --format parquet");
        }
        Path queue = Path.of(queues.get(0));
        PrintWriter report = Outputs.reportStream(spec, output.out);
        long lines;
        ReadCounts counts;
        try (QueueRoutes routes = QueueRoutes.open(queue);
             OutputStream os = Outputs.open(output.out);
             RouteJsonlWriter writer = new RouteJsonlWriter(os)) {
            ExportVisitor visitor = new ExportVisitor(writer, filter, output.layers, queue);
            routes.readAll(visitor);
            writer.flush();
            lines = writer.routeLines();
            counts = routes.counts();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        report.println("exported " + lines + " route lines from " + queue + " to " + output.out);
        Outputs.reportSkipped(spec, counts);
        report.flush();
        return ExitCodes.OK;
    }

    private Integer exportParquet(RowFilter filter) {
        if ("-".equals(output.out)) {
            throw new io.moeagent.analyzer.AnalyzerException("--format parquet writes a dataset directory; name it"
                    + " with --out DIR");
        }
        ParquetExport.Result r = ParquetExport.export(MergeCommand.parse(queues), Path.of(output.out), filter);
        PrintWriter report = spec.commandLine().getOut();
        report.println("exported " + r.rows() + " route rows of " + r.runs() + (r.runs() == 1 ? " run" : " runs")
                + " from " + queues.size() + (queues.size() == 1 ? " queue" : " queues") + " to the Parquet dataset "
                + output.out + " (routes/, steps/, meta/)");
        Outputs.reportSkipped(spec, r.counts());
        report.flush();
        return ExitCodes.OK;
    }

    /** Writes the meta line when the meta record arrives, then every kept row. */
    static final class ExportVisitor implements QueueRoutes.RowVisitor {
        private final RouteJsonlWriter writer;
        private final RowFilter filter;
        private final List<Integer> requestedLayers;
        private final Path queue;

        ExportVisitor(RouteJsonlWriter writer, RowFilter filter, List<Integer> requestedLayers, Path queue) {
            this.writer = writer;
            this.filter = filter;
            this.requestedLayers = requestedLayers;
            this.queue = queue;
        }

        @Override
        public void onMeta(MetaRecord meta) {
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
