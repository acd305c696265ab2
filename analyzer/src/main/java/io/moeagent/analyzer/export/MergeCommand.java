package io.moeagent.analyzer.export;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.source.ReadCounts;
import io.moeagent.format.MetaRecord;
import io.moeagent.analyzer.io.AtomicOutput;
import io.moeagent.analyzer.source.RouteRow;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Exports several queues (hosts, processes) into one JSONL file. Each request id becomes the"
                + " string \"SOURCE:ID\" so that ids from different queues never collide; the meta line is the first"
                + " queue's, with layers_logged the union over all queues and a 'sources' array naming each queue"
                + " (a queue holding several runs gives one source per run, named NAME-RUNID).",
                "Rows follow queue by queue, in the order given, each in queue order."})
public final class MergeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--queue", required = true, paramLabel = "[NAME=]DIR",
            description = "A queue directory, optionally named (default name: the directory's name). Repeat.")
    List<String> queues;

    @Mixin
    ExportOptions output = new ExportOptions();

    /** A queue and the source name its rows carry. */
    public record NamedQueue(String name, Path dir) {
    }

    /** Parses {@code [NAME=]DIR} specs; names must be distinct and contain no ':'. */
    public static List<NamedQueue> parse(List<String> specs) {
        List<NamedQueue> result = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (String s : specs) {
            int eq = s.indexOf('=');
            Path dir = Path.of(eq < 0 ? s : s.substring(eq + 1));
            String name = eq < 0 ? String.valueOf(dir.toAbsolutePath().normalize().getFileName()) : s.substring(0, eq);
            if (name.isEmpty() || name.contains(":")) {
                throw new AnalyzerException("--queue " + s + ": a source name must be non-empty and contain no ':'");
            }
            if (!names.add(name)) {
                throw new AnalyzerException("two queues are both named '" + name + "'; name them, e.g. --queue A="
                        + dir + " --queue B=OTHER_DIR");
            }
            result.add(new NamedQueue(name, dir));
        }
        return result;
    }

    @Override
    public Integer call() {
        List<NamedQueue> named = parse(queues);
        RowFilter filter = output.filter();
        PrintWriter report = Outputs.reportStream(spec, output.out);
        ReadCounts total = new ReadCounts();
        long lines;
        List<RouteJsonlWriter.Source> sources = new ArrayList<>();
        List<Map<Long, String>> prefixes = new ArrayList<>();
        TreeSet<Integer> union = new TreeSet<>();
        MetaRecord first = null;
        boolean engine = false;
        for (NamedQueue q : named) {
            List<QueueRoutes.Run> runs = QueueRoutes.scanRuns(q.dir());
            Map<Long, String> byRun = new HashMap<>();
            for (QueueRoutes.Run r : runs) {
                MetaRecord meta = r.meta();
                if (first == null) {
                    first = meta;
                } else {
                    checkCompatible(first, named.get(0), meta, q);
                }
                for (int l : filter.narrow(meta.layersRecorded())) {
                    union.add(l);
                }
                // a queue holding several runs gives one source per run
                String name = runs.size() == 1 ? q.name() : q.name() + "-" + r.idText();
                byRun.put(r.runId(), name + ":");
                engine |= r.engineOrder();
                sources.add(new RouteJsonlWriter.Source(name, q.dir().toString(), meta,
                        ExportCommand.order(r.engineOrder())));
            }
            prefixes.add(byRun);
        }
        if (output.layers != null && !output.layers.isEmpty() && union.isEmpty()) {
            throw new AnalyzerException("--layers " + output.layers + ": none of these layers was recorded in any queue");
        }
        try (AtomicOutput out = AtomicOutput.open(output.out);
             RouteJsonlWriter writer = new RouteJsonlWriter(out.stream())) {
            writer.writeMeta(first, union.stream().mapToInt(Integer::intValue).toArray(), filter.phase().name(),
                    sources, ExportCommand.order(engine));
            for (int i = 0; i < named.size(); i++) {
                Map<Long, String> byRun = prefixes.get(i);
                try (QueueRoutes routes = QueueRoutes.open(named.get(i).dir())) {
                    routes.readAll(new QueueRoutes.RowVisitor() {
                        @Override
                        public void onMeta(MetaRecord meta) {
                        }

                        @Override
                        public void onRow(RouteRow row) {
                            if (filter.keeps(row.layer, row.prefill())) {
                                writer.writeRoute(byRun.get(row.runId), row);
                            }
                        }
                    });
                    total.add(routes.counts());
                }
            }
            writer.flush();
            lines = writer.routeLines();
            out.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        report.println("merged " + lines + " route lines from " + named.size() + " queues to " + output.out);
        Outputs.reportSkipped(spec, total);
        report.flush();
        return ExitCodes.OK;
    }

    /** Runs of one queue can only share a file when they recorded the same experts and top-k. */
    static void checkSameModel(QueueRoutes.Run a, QueueRoutes.Run b, Path queue) {
        if (a.meta().numExperts() != b.meta().numExperts() || a.meta().topK() != b.meta().topK()) {
            throw new AnalyzerException(queue + " holds runs of different models: run " + a.idText() + " ("
                    + a.meta().numExperts() + " experts, top-" + a.meta().topK() + ") and run " + b.idText() + " ("
                    + b.meta().numExperts() + " experts, top-" + b.meta().topK() + "); export each with --run RUNID");
        }
    }

    private void checkCompatible(MetaRecord a, NamedQueue qa, MetaRecord b, NamedQueue qb) {
        if (a.numExperts() != b.numExperts() || a.topK() != b.topK()) {
            throw new AnalyzerException("cannot merge " + qa.dir() + " (" + a.numExperts() + " experts, top-" + a.topK()
                    + ") with " + qb.dir() + " (" + b.numExperts() + " experts, top-" + b.topK()
                    + "): they recorded different models; export them separately");
        }
        if (!a.modelId().equals(b.modelId())) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("merge: warning: " + qa.dir() + " recorded " + a.modelId() + " but " + qb.dir() + " recorded "
                    + b.modelId() + "; the meta line names the first (each source is listed in 'sources')");
            err.flush();
        }
        if (!Arrays.equals(a.layersRecorded(), b.layersRecorded())) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("merge: note: the queues recorded different layers; layers_logged is their union");
            err.flush();
        }
    }
}
