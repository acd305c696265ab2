package io.moeagent.analyzer.export;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.source.ReadCounts;
import io.moeagent.format.MetaRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
                + " queue's, with layers_logged the union over all queues and a 'sources' array naming each queue.",
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
        List<QueueRoutes> opened = new ArrayList<>();
        ReadCounts total = new ReadCounts();
        long lines;
        try {
            List<RouteJsonlWriter.Source> sources = new ArrayList<>();
            TreeSet<Integer> union = new TreeSet<>();
            MetaRecord first = null;
            QueueRoutes.RowVisitor none = new QueueRoutes.RowVisitor() {
                @Override
                public void onMeta(MetaRecord meta) {
                }

                @Override
                public void onRow(long r, int p, int l, boolean pf, int[] ids, int o, int k, float[] w) {
                }
            };
            for (NamedQueue q : named) {
                QueueRoutes routes = QueueRoutes.open(q.dir());
                opened.add(routes);
                MetaRecord meta = routes.readMeta(none);
                if (first == null) {
                    first = meta;
                } else {
                    checkCompatible(first, named.get(0), meta, q);
                }
                for (int l : filter.narrow(meta.layersRecorded())) {
                    union.add(l);
                }
                sources.add(new RouteJsonlWriter.Source(q.name(), q.dir().toString(), meta));
            }
            if (output.layers != null && !output.layers.isEmpty() && union.isEmpty()) {
                throw new AnalyzerException("--layers " + output.layers + ": none of these layers was recorded in any queue");
            }
            try (OutputStream os = Outputs.open(output.out); RouteJsonlWriter writer = new RouteJsonlWriter(os)) {
                writer.writeMeta(first, union.stream().mapToInt(Integer::intValue).toArray(), filter.phase().name(),
                        sources);
                for (int i = 0; i < named.size(); i++) {
                    String prefix = named.get(i).name() + ":";
                    QueueRoutes routes = opened.get(i);
                    routes.readAll(new QueueRoutes.RowVisitor() {
                        @Override
                        public void onMeta(MetaRecord meta) {
                        }

                        @Override
                        public void onRow(long requestId, int position, int layer, boolean prefill,
                                          int[] ids, int offset, int k, float[] weights) {
                            if (filter.keeps(layer, prefill)) {
                                writer.writeRoute(prefix + requestId, position, layer, prefill, ids, offset, k,
                                        weights);
                            }
                        }
                    });
                    total.add(routes.counts());
                }
                writer.flush();
                lines = writer.routeLines();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } finally {
            opened.forEach(QueueRoutes::close);
        }
        report.println("merged " + lines + " route lines from " + named.size() + " queues to " + output.out);
        Outputs.reportSkipped(spec, total);
        report.flush();
        return ExitCodes.OK;
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
