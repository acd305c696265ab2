package io.moeagent.analyzer.fleet;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.ExitCodes;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "sql", mixinStandardHelpOptions = true,
        description = {"Runs SQL on an embedded DuckDB over a route queue, an exported JSONL file or a Parquet dataset.",
                "Views: routes (run_id, host, pid, source, step_id, req_id, token_idx, layer, phase, token_id,"
                        + " topk_ids, topk_weights), steps (run_id, source, step_id, phase, tokens, req_ids, positions),"
                        + " meta (one row per run). From JSONL, routes has the file's fields and steps is empty.",
                "Example: analyzer sql moe-routes \"SELECT layer, count(*) AS n FROM routes GROUP BY layer ORDER BY layer\""})
public final class SqlCommand implements Callable<Integer> {
    public enum Format { table, csv, json }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SOURCE",
            description = "A queue directory, a routes JSONL file, or a Parquet dataset directory.")
    Path source;

    @Parameters(index = "1", paramLabel = "SQL", description = "One SQL statement (a query).")
    String sql;

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT",
            description = "table, csv or json (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = "--max-rows", defaultValue = "1000", paramLabel = "N",
            description = "Rows shown by --format table (0 = all; csv and json print all). Default: ${DEFAULT-VALUE}.")
    int maxRows;

    @Override
    public Integer call() throws IOException {
        Path spill = Files.createTempDirectory("moe-sql-");
        try (Connection c = DuckDb.open(null, spill)) {
            try {
                SqlSource.attach(c, source);
            } catch (SQLException e) {
                throw new AnalyzerException("cannot read " + source + " into DuckDB (" + DuckDb.firstLine(e) + ")", e);
            }
            PrintWriter out = spec.commandLine().getOut();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                switch (format) {
                    case table -> table(rs, out);
                    case csv -> csv(rs, out);
                    case json -> json(rs, out);
                }
            } catch (SQLException e) {
                throw new AnalyzerException("sql: " + DuckDb.firstLine(e) + " (in: " + abbreviate(sql) + ")", e);
            }
            out.flush();
            return ExitCodes.OK;
        } catch (SQLException e) {
            throw new AnalyzerException("sql: " + DuckDb.firstLine(e), e);
        } finally {
            ParquetExport.deleteTree(spill);
        }
    }

    private static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ").strip();
        return one.length() <= 120 ? one : one.substring(0, 117) + "...";
    }

    private void table(ResultSet rs, PrintWriter out) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        String[] header = new String[n];
        int[] width = new int[n];
        boolean[] numeric = new boolean[n];
        for (int i = 0; i < n; i++) {
            header[i] = md.getColumnLabel(i + 1);
            width[i] = header[i].length();
            numeric[i] = isNumeric(md.getColumnType(i + 1));
        }
        List<String[]> rows = new ArrayList<>();
        long total = 0;
        while (rs.next()) {
            total++;
            if (maxRows > 0 && rows.size() >= maxRows) {
                continue;
            }
            String[] row = new String[n];
            for (int i = 0; i < n; i++) {
                row[i] = text(rs.getObject(i + 1));
                width[i] = Math.max(width[i], row[i].length());
            }
            rows.add(row);
        }
        out.println(line(header, width, new boolean[n]));
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < n; i++) {
            rule.append(i == 0 ? "" : "  ").append("-".repeat(width[i]));
        }
        out.println(rule);
        for (String[] row : rows) {
            out.println(line(row, width, numeric));
        }
        out.println("(" + total + (total == 1 ? " row" : " rows")
                + (total > rows.size() ? ", first " + rows.size() + " shown; --max-rows 0 shows all" : "") + ")");
    }

    private static String line(String[] cells, int[] width, boolean[] right) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                sb.append("  ");
            }
            String pad = " ".repeat(width[i] - cells[i].length());
            sb.append(right[i] ? pad + cells[i] : i == cells.length - 1 ? cells[i] : cells[i] + pad);
        }
        return sb.toString();
    }

    private static boolean isNumeric(int sqlType) {
        return switch (sqlType) {
            case java.sql.Types.TINYINT, java.sql.Types.SMALLINT, java.sql.Types.INTEGER, java.sql.Types.BIGINT,
                 java.sql.Types.FLOAT, java.sql.Types.REAL, java.sql.Types.DOUBLE, java.sql.Types.DECIMAL,
                 java.sql.Types.NUMERIC -> true;
            default -> false;
        };
    }

    private static void csv(ResultSet rs, PrintWriter out) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append(csvCell(md.getColumnLabel(i + 1)));
        }
        out.println(sb);
        while (rs.next()) {
            sb.setLength(0);
            for (int i = 0; i < n; i++) {
                Object v = rs.getObject(i + 1);
                sb.append(i == 0 ? "" : ",").append(v == null ? "" : csvCell(text(v)));
            }
            out.println(sb);
        }
    }

    private static String csvCell(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    private static void json(ResultSet rs, PrintWriter out) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        try {
            JsonGenerator g = new ObjectMapper().getFactory().createGenerator(out);
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartArray();
            while (rs.next()) {
                g.writeStartObject();
                for (int i = 0; i < n; i++) {
                    g.writeFieldName(md.getColumnLabel(i + 1));
                    writeValue(g, rs.getObject(i + 1));
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.flush();
            out.println();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeValue(JsonGenerator g, Object v) throws IOException, SQLException {
        if (v instanceof Array a) {
            v = a.getArray();
        }
        if (v == null) {
            g.writeNull();
        } else if (v instanceof Object[] arr) {
            g.writeStartArray();
            for (Object e : arr) {
                writeValue(g, e);
            }
            g.writeEndArray();
        } else if (v instanceof Float f) {
            g.writeNumber(f);
        } else if (v instanceof Double d) {
            g.writeNumber(d);
        } else if (v instanceof Number || v instanceof Boolean) {
            g.writeRawValue(v.toString());
        } else {
            g.writeString(v.toString());
        }
    }

    private static String text(Object v) throws SQLException {
        if (v instanceof Array a) {
            v = a.getArray();
        }
        if (v == null) {
            return "NULL";
        }
        if (v instanceof Object[] arr) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < arr.length; i++) {
                sb.append(i == 0 ? "" : ",").append(text(arr[i]));
            }
            return sb.append(']').toString();
        }
        return v.toString();
    }
}
