package io.moeagent.analyzer.fleet;

import io.moeagent.analyzer.AnalyzerException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** Opens embedded DuckDB databases for the fleet commands and turns DuckDB's errors into one line. */
final class DuckDb {
    private DuckDb() {
    }

    /**
     * Opens a database: in memory when {@code file} is null, else in that file (created). Memory is capped and
     * spills go to {@code spillDir}, so that a queue of any size passes through in bounded memory.
     */
    static Connection open(Path file, Path spillDir) {
        try {
            Class.forName("org.duckdb.DuckDBDriver");
        } catch (ClassNotFoundException e) {
            throw new AnalyzerException("DuckDB's JDBC driver is not on the class path; run analyzer.jar from"
                    + " analyzer/target, next to its lib/ folder (lib/duckdb_jdbc-*.jar)");
        }
        String url = file == null ? "jdbc:duckdb:" : "jdbc:duckdb:" + file.toAbsolutePath();
        try {
            Connection c = DriverManager.getConnection(url);
            try (Statement s = c.createStatement()) {
                s.execute("SET memory_limit='" + System.getProperty("moe.duckdb.memory", "1GB") + "'");
                s.execute("SET threads=" + Math.max(1, Runtime.getRuntime().availableProcessors()));
                s.execute("SET preserve_insertion_order=true");
                if (spillDir != null) {
                    s.execute("SET temp_directory=" + quote(spillDir.toAbsolutePath().toString()));
                }
            }
            return c;
        } catch (SQLException e) {
            throw new AnalyzerException("cannot start the embedded DuckDB (" + firstLine(e) + ")", e);
        }
    }

    /** A SQL string literal. */
    static String quote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    /** A SQL identifier. */
    static String ident(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse(m);
    }
}
