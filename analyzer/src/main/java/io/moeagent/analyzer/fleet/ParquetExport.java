package io.moeagent.analyzer.fleet;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.export.MergeCommand.NamedQueue;
import io.moeagent.analyzer.export.RowFilter;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.source.ReadCounts;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Exports route queues into a Parquet dataset directory that many hosts' exports can share:
 * <pre>
 * DIR/routes/run_id=RUN/layer=L/data_0.parquet   one row per token and layer (the JSONL fields + run, host, pid, step)
 * DIR/steps/run_id=RUN/steps.parquet             one row per forward step
 * DIR/meta/run_id=RUN/meta.parquet               one row per run; routes files carry it as key-value metadata too
 * </pre>
 * Files hold their partition columns too, so each file is self-describing. Route rows stream from the queue into
 * {@link RoutesParquet} (a row group per open file in memory, whatever the queue's size); steps and meta, one row
 * per step and run, go through DuckDB's appender and Parquet writer. Everything is written into a hidden folder
 * inside DIR, and each run's folders are renamed into place only when all of them are written: a failed export
 * leaves the dataset as it was.
 */
public final class ParquetExport {
    /** What an export wrote. */
    public record Result(long rows, int runs, ReadCounts counts) {
    }

    private ParquetExport() {
    }

    public static Result export(List<NamedQueue> queues, Path outDir, RowFilter filter) {
        Path out = outDir.toAbsolutePath().normalize();
        boolean created = !Files.exists(out);
        prepareOutput(out);
        Path tmp;
        try {
            tmp = Files.createTempDirectory(out, ".moe-export-");
        } catch (IOException e) {
            throw notWritable(out, e);
        }
        boolean ok = false;
        try {
            Result r = exportInto(queues, out, tmp, filter);
            ok = true;
            return r;
        } finally {
            deleteTree(tmp);
            if (!ok && created) {
                deleteTree(out);
            }
        }
    }

    private static Result exportInto(List<NamedQueue> queues, Path out, Path tmp, RowFilter filter) {
        ReadCounts counts = new ReadCounts();
        Map<Long, String> runSource = new LinkedHashMap<>();
        Map<Long, MetaRecord> runs = new LinkedHashMap<>();
        long rows = 0;
        RoutesParquet routesOut = new RoutesParquet(tmp, out);
        boolean finished = false;
        try (Connection c = DuckDb.open(null, tmp)) {
            for (NamedQueue q : queues) {
                try (QueueRoutes routes = QueueRoutes.open(q.dir());
                     RouteTables tables = new RouteTables(c, q.name(), filter, routesOut)) {
                    routes.readAll(tables);
                    counts.add(routes.counts());
                    for (Map.Entry<Long, MetaRecord> run : tables.runs().entrySet()) {
                        String before = runSource.putIfAbsent(run.getKey(), q.name());
                        if (before != null) {
                            throw new AnalyzerException("run " + RouteFormat.runIdText(run.getKey()) + " is in both "
                                    + before + " and " + q.name() + "; export each recording once");
                        }
                        runs.put(run.getKey(), run.getValue());
                    }
                    rows += tables.rows();
                    if (tables.rows() == 0) {
                        throw new AnalyzerException("the queue in " + q.dir() + " holds no route rows to export"
                                + " (" + routes.counts().records + " records read); nothing was written");
                    }
                }
            }
            for (long run : runs.keySet()) {
                Path existing = out.resolve("routes").resolve("run_id=" + RouteFormat.runIdText(run));
                if (Files.exists(existing)) {
                    throw new AnalyzerException("run " + RouteFormat.runIdText(run) + " is already in the dataset "
                            + out + " (" + existing + "); export it into another directory, or remove that run first");
                }
            }
            routesOut.close();
            finished = true;
            for (Map.Entry<Long, MetaRecord> run : runs.entrySet()) {
                writeStepsAndMeta(c, tmp, RouteFormat.runIdText(run.getKey()), RouteTables.metaJson(run.getValue()));
            }
        } catch (SQLException e) {
            throw new AnalyzerException("DuckDB failed while writing Parquet into " + out + " (" + DuckDb.firstLine(e)
                    + ")", e);
        } catch (IOException | UncheckedIOException e) {
            throw notWritable(out, e instanceof UncheckedIOException u ? u.getCause() : (IOException) e);
        } finally {
            if (!finished) {
                routesOut.abandon();
            }
        }
        for (long run : runs.keySet()) {
            publish(tmp, out, run);
        }
        return new Result(rows, runs.size(), counts);
    }

    /** Writes one run's steps and meta tables under {@code tmp/RUN/} (its routes are written already). */
    private static void writeStepsAndMeta(Connection c, Path tmp, String id, String metaJson) throws SQLException {
        Path base = tmp.resolve(id);
        String where = " WHERE run_id = " + DuckDb.quote(id);
        try (Statement s = c.createStatement()) {
            Path steps = base.resolve("steps").resolve("run_id=" + id);
            Path meta = base.resolve("meta").resolve("run_id=" + id);
            createDirectories(base.resolve("routes").resolve("run_id=" + id));
            createDirectories(steps);
            createDirectories(meta);
            s.execute("COPY (SELECT * FROM steps" + where + ") TO " + DuckDb.quote(steps.resolve("steps.parquet")
                    .toString()) + " (FORMAT parquet, COMPRESSION zstd)");
            s.execute("COPY (SELECT * FROM meta" + where + ") TO " + DuckDb.quote(meta.resolve("meta.parquet")
                    .toString()) + " (FORMAT parquet, KV_METADATA {moe_meta: " + DuckDb.quote(metaJson) + "})");
        }
    }

    /** Renames one run's folders into the dataset: routes, then steps, then meta (a run with meta is complete). */
    private static void publish(Path tmp, Path out, long run) {
        String id = RouteFormat.runIdText(run);
        for (String table : List.of("routes", "steps", "meta")) {
            Path from = tmp.resolve(id).resolve(table).resolve("run_id=" + id);
            Path to = out.resolve(table).resolve("run_id=" + id);
            try {
                createDirectories(to.getParent());
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw notWritable(out, e);
            }
        }
    }

    private static void prepareOutput(Path out) {
        if (Files.isRegularFile(out)) {
            throw new AnalyzerException("output " + out + " is a file; --format parquet writes a dataset directory");
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw notWritable(out, e);
        }
        if (!Files.isWritable(out)) {
            throw notWritable(out, null);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static AnalyzerException notWritable(Path out, IOException e) {
        String why = e == null ? "permission denied"
                : e instanceof AccessDeniedException ? "permission denied"
                : e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : DuckDb.firstLine(e);
        boolean full = why != null && why.contains("No space left");
        return new AnalyzerException("cannot write the Parquet dataset " + out + " (" + why + "); "
                + (full ? "free space there or choose another directory (nothing was left behind)"
                        : "choose a directory you can write"), e);
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // best effort: a hidden .moe-export-* folder left behind is ignored by every reader of the dataset
        }
    }
}
