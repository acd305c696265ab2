package io.moeagent.analyzer.export;

import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import io.moeagent.analyzer.fleet.ParquetExport;
import io.moeagent.analyzer.io.AtomicOutput;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.source.ReadCounts;
import io.moeagent.analyzer.source.RouteRow;
import io.moeagent.format.MetaRecord;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
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
                "A queue holding several runs (recording sessions appended to one directory) is written as a merged"
                + " file, one source per run (req_id \"RUNID:ID\"), unless --run selects one.",
                "Routes with no step record before them, pad rows, records that fail their checksum and the part of"
                + " a file cut short are counted and reported, not exported; rows with an unknown request or position"
                + " are reported too and make the exit code 1. The output appears whole or not at all.",
                "A meta record without the number of experts gets it inferred from the data (one stderr line)."})
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

    @Option(names = "--run", paramLabel = "RUNID",
            description = "Only this run (16 hex digits, as the meta line's run_id; 0 for a schema-1 queue).")
    String run;

    @Mixin
    ExportOptions output = new ExportOptions();

    /** The one queue of a JSONL export. */
    private Path queue;

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
        queue = Path.of(queues.get(0));
        PrintWriter report = Outputs.reportStream(spec, output.out);
        List<QueueRoutes.Run> runs = QueueRoutes.scanRuns(queue);
        if (run != null) {
            runs = List.of(QueueRoutes.pickRun(runs, run, queue));
        }
        long lines;
        ReadCounts counts;
        int inferred = ExpertCount.inferIfUnknown(queue);
        try (QueueRoutes routes = QueueRoutes.open(queue);
             AtomicOutput out = AtomicOutput.open(output.out);
             RouteJsonlWriter writer = new RouteJsonlWriter(out.stream())) {
            if (run != null) {
                routes.selectRun(runs.get(0).runId());
            }
            ExportVisitor visitor = new ExportVisitor(writer, filter, runs.size() > 1);
            writeMeta(writer, filter, runs, inferred);
            routes.readAll(visitor);
            writer.flush();
            lines = writer.routeLines();
            counts = routes.counts();
            out.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (runs.size() > 1) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("export: the queue holds " + runs.size() + " runs (" + String.join(", ",
                    runs.stream().map(QueueRoutes.Run::idText).toList()) + "); wrote them as sources of one merged"
                    + " file (req_id \"RUNID:ID\"); select one with --run RUNID");
            err.flush();
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

    private Integer exportParquet(RowFilter filter) {
        if (run != null) {
            throw new io.moeagent.analyzer.AnalyzerException("--run selects a run for a JSONL export; a Parquet dataset"
                    + " keeps every run, apart by run_id (select in SQL: WHERE run_id = '" + run + "')");
        }
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

    private void writeMeta(RouteJsonlWriter writer, RowFilter filter, List<QueueRoutes.Run> runs, int inferred) {
        if (inferred > 0) {
            runs = runs.stream().map(r -> r.meta().numExperts() > 0 ? r
                    : new QueueRoutes.Run(r.runId(), ExpertCount.withExperts(r.meta(), inferred), r.engineOrder()))
                    .toList();
        }
        MetaRecord first = runs.get(0).meta();
        if (runs.size() == 1) {
            writer.writeMeta(first, checkedLayers(first, filter, output.layers, queue), filter.phase().name(),
                    List.of(), order(runs.get(0).engineOrder()));
            return;
        }
        TreeSet<Integer> union = new TreeSet<>();
        List<RouteJsonlWriter.Source> sources = new ArrayList<>();
        boolean engine = false;
        for (QueueRoutes.Run r : runs) {
            MergeCommand.checkSameModel(runs.get(0), r, queue);
            for (int l : filter.narrow(r.meta().layersRecorded())) {
                union.add(l);
            }
            engine |= r.engineOrder();
            sources.add(new RouteJsonlWriter.Source(r.idText(), queue.toString(), r.meta(), order(r.engineOrder())));
        }
        if (output.layers != null && !output.layers.isEmpty() && union.isEmpty()) {
            throw new io.moeagent.analyzer.AnalyzerException("--layers " + output.layers + ": none of these layers was"
                    + " recorded in " + queue);
        }
        writer.writeMeta(first, union.stream().mapToInt(Integer::intValue).toArray(), filter.phase().name(), sources,
                order(engine));
    }

    static String order(boolean engine) {
        return engine ? RouteJsonlWriter.ORDER_ENGINE : RouteJsonlWriter.ORDER_BEST_FIRST;
    }

    /** Writes every kept row; in a merged export, each request id prefixed with its run id. */
    static final class ExportVisitor implements QueueRoutes.RowVisitor {
        private final RouteJsonlWriter writer;
        private final RowFilter filter;
        private final boolean prefixRuns;
        private long prefixRun = Long.MIN_VALUE;
        private String prefix;

        ExportVisitor(RouteJsonlWriter writer, RowFilter filter, boolean prefixRuns) {
            this.writer = writer;
            this.filter = filter;
            this.prefixRuns = prefixRuns;
        }

        @Override
        public void onMeta(MetaRecord meta) {
        }

        @Override
        public void onRow(RouteRow row) {
            if (filter.keeps(row.layer, row.prefill())) {
                if (prefixRuns && row.runId != prefixRun) {
                    prefixRun = row.runId;
                    prefix = io.moeagent.format.RouteFormat.runIdText(row.runId) + ":";
                }
                writer.writeRoute(prefixRuns ? prefix : null, row);
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
