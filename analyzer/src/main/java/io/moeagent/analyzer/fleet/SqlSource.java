package io.moeagent.analyzer.fleet;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.format.RouteQueueReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.stream.Stream;

/**
 * Makes the views {@code routes}, {@code steps} and {@code meta} over one source: a route queue (loaded into
 * DuckDB through the queue reader), an exported JSONL file (read by DuckDB's JSON reader), or a Parquet dataset
 * written by {@code export --format parquet} (read in place).
 */
final class SqlSource {
    /** The JSONL route line's fields, in their order. */
    private static final String ROUTE_FIELDS = "['req_id', 'token_idx', 'layer', 'phase', 'token_id', 'topk_ids',"
            + " 'topk_weights']";

    private SqlSource() {
    }

    /** Returns a short description of what was attached, for messages. */
    static String attach(Connection c, Path source) throws SQLException {
        if (Files.isDirectory(source) && RouteQueueReader.hasQueueFiles(source)) {
            try (QueueRoutes routes = QueueRoutes.open(source); RouteTables tables = new RouteTables(c,
                    source.getFileName() == null ? source.toString() : source.getFileName().toString(), null)) {
                routes.readAll(tables);
            }
            RouteTables.createRoutesView(c);
            return "queue " + source;
        }
        if (Files.isDirectory(source) && hasParquet(source.resolve("routes"))) {
            try (Statement s = c.createStatement()) {
                for (String table : new String[] {"routes", "steps", "meta"}) {
                    Path dir = source.resolve(table);
                    if (hasParquet(dir)) {
                        s.execute("CREATE VIEW " + table + " AS SELECT * FROM read_parquet("
                                + DuckDb.quote(dir.toAbsolutePath() + "/**/*.parquet")
                                + ", hive_partitioning = false, union_by_name = true)");
                    } else {
                        try (Statement empty = c.createStatement()) {
                            empty.execute((table.equals("steps") ? RouteTables.STEPS_DDL : RouteTables.META_DDL)
                                    .replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"));
                        }
                    }
                }
            }
            return "Parquet dataset " + source;
        }
        if (Files.isRegularFile(source)) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE jsonl AS SELECT * FROM read_json(" + DuckDb.quote(source.toAbsolutePath()
                        .toString()) + ", format = 'newline_delimited', sample_size = -1)");
                s.execute("CREATE VIEW routes AS SELECT COLUMNS(lambda c: list_contains(" + ROUTE_FIELDS + ", c))"
                        + " FROM jsonl WHERE type = 'route'");
                s.execute("CREATE VIEW meta AS SELECT COLUMNS(lambda c: NOT list_contains(" + ROUTE_FIELDS + ", c))"
                        + " FROM jsonl WHERE type = 'meta'");
                s.execute(RouteTables.STEPS_DDL);
            }
            return "JSONL " + source;
        }
        if (!Files.exists(source)) {
            throw new AnalyzerException(source + " does not exist; give a queue directory, a routes JSONL file or a"
                    + " Parquet dataset directory (export --format parquet)");
        }
        throw new AnalyzerException(source + " is neither a route queue (*.cq4 files), a JSONL file nor a Parquet"
                + " dataset (routes/**/*.parquet)");
    }

    private static boolean hasParquet(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.anyMatch(p -> p.getFileName().toString().endsWith(".parquet"));
        } catch (IOException e) {
            return false;
        }
    }
}
