package io.moeagent.analyzer.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.export.RouteJsonlWriter;
import io.moeagent.analyzer.export.RowFilter;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.source.RouteRow;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecord;
import io.moeagent.format.StepRecord;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;

/**
 * The fleet tables {@code routes}, {@code steps} and {@code meta}, defined once: their columns (the JSONL fields, plus
 * what tells runs and hosts apart) and a queue visitor that appends joined rows through DuckDB's appender.
 *
 * <p>Rows are staged narrow, for speed: per row only what varies (a run index, the step, request, position, layer,
 * phase as a boolean, token id and the experts as fixed-size arrays, one staging table per k); the run's identity
 * (run id, host, pid, source) sits once in {@code runs}. {@link #routesSelect} puts the {@code routes} columns back
 * together, and {@link #createRoutesView} names that {@code routes}.
 */
public final class RouteTables implements QueueRoutes.RowVisitor, AutoCloseable {
    /** Where rows go instead of the staging tables: the export's Parquet writer. */
    interface RouteSink {
        void row(RunColumns run, String metaJson, RouteRow r);
    }

    /** The {@code routes} columns: the JSONL route line's fields, then the run's and step's identity. */
    public static final String ROUTES_DDL = "CREATE TABLE routes (run_id VARCHAR, host VARCHAR, pid BIGINT,"
            + " source VARCHAR, step_id BIGINT, req_id BIGINT, token_idx INTEGER, layer INTEGER, phase VARCHAR,"
            + " token_id INTEGER, topk_ids INTEGER[], topk_weights FLOAT[])";
    /** One row per forward step. */
    public static final String STEPS_DDL = "CREATE TABLE steps (run_id VARCHAR, source VARCHAR, step_id BIGINT,"
            + " phase VARCHAR, tokens INTEGER, req_ids BIGINT[], positions INTEGER[])";
    /** One row per run: the meta record's facts and the JSONL meta line ({@code meta_json}). */
    public static final String META_DDL = "CREATE TABLE meta (run_id VARCHAR, host VARCHAR, pid BIGINT,"
            + " source VARCHAR, schema_version INTEGER, model_id VARCHAR, engine VARCHAR, engine_version VARCHAR,"
            + " torch_version VARCHAR, java_version VARCHAR, device VARCHAR, dtype VARCHAR, seed BIGINT,"
            + " num_layers INTEGER, num_experts INTEGER, top_k INTEGER, layers_logged INTEGER[],"
            + " agent_version VARCHAR, configuration VARCHAR, start_time_millis BIGINT, meta_json VARCHAR)";
    /** The run identity that staged rows refer to by {@code run_ix}. */
    static final String RUNS_DDL = "CREATE TABLE runs (run_ix INTEGER, run_id VARCHAR, host VARCHAR, pid BIGINT,"
            + " source VARCHAR)";
    /** An empty {@code routes}-shaped table, for a union over no staging table. */
    static final String NO_ROUTES_DDL = ROUTES_DDL.replace("CREATE TABLE routes", "CREATE TABLE no_routes");
    private static final String STAGE_PREFIX = "stage_k";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Connection connection;
    private final DuckDBConnection duck;
    private final Map<Integer, DuckDBAppender> stages = new HashMap<>();
    private final DuckDBAppender steps;
    private final DuckDBAppender meta;
    private final String source;
    private final RowFilter filter;
    private final RouteSink sink;
    private final Map<Long, MetaRecord> runs = new LinkedHashMap<>();
    private final Map<Long, Integer> runIndex = new LinkedHashMap<>();
    private final Map<Long, long[]> rowsPerRun = new HashMap<>();
    private long[] currentRows = new long[1];
    private MetaRecord currentMeta;
    private String currentRun;
    private int currentIndex;
    private RunColumns currentColumns;
    private String currentMetaJson;
    private long lastStepKeyRun = Long.MIN_VALUE;
    private long lastStepKeyId = Long.MIN_VALUE;
    private int[] idsScratch = new int[0];
    private float[] weightsScratch = new float[0];
    private long rows;
    private boolean closed;

    /** Creates the tables (if absent) in {@code c} and appends to them, tagging rows with {@code source}. */
    public RouteTables(Connection c, String source, RowFilter filter) {
        this(c, source, filter, null);
    }

    /** As above, but route rows go to {@code sink} (when not null) instead of the staging tables. */
    RouteTables(Connection c, String source, RowFilter filter, RouteSink sink) {
        this.connection = c;
        this.source = source;
        this.filter = filter;
        this.sink = sink;
        try {
            createTables(c);
            this.duck = c.unwrap(DuckDBConnection.class);
            this.steps = duck.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "steps");
            this.meta = duck.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "meta");
        } catch (SQLException e) {
            throw new AnalyzerException("cannot prepare the DuckDB tables (" + DuckDb.firstLine(e) + ")", e);
        }
    }

    static void createTables(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String ddl : List.of(STEPS_DDL, META_DDL, RUNS_DDL, NO_ROUTES_DDL)) {
                s.execute(ddl.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"));
            }
        }
    }

    /** The identity columns of one run as literals, for a per-run select without a join. */
    record RunColumns(int runIx, String runId, String host, long pid, String source) {
    }

    /**
     * A query giving the {@code routes} columns in ROUTES_DDL's order: of one run when {@code run} is given (its
     * identity as literals), else of every run.
     */
    static String routesSelect(Connection c, RunColumns run) throws SQLException {
        List<String> parts = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '"
                     + STAGE_PREFIX + "') ORDER BY table_name")) {
            while (rs.next()) {
                String table = rs.getString(1);
                String identity = run == null ? "r.run_id, r.host, r.pid, r.source"
                        : DuckDb.quote(run.runId()) + " AS run_id, " + DuckDb.quote(run.host()) + " AS host, "
                        + run.pid() + "::BIGINT AS pid, " + DuckDb.quote(run.source()) + " AS source";
                parts.add("SELECT " + identity + ", s.step_id, s.req_id, s.token_idx, s.layer,"
                        + " CASE WHEN s.prefill THEN 'prefill' ELSE 'decode' END AS phase, s.token_id,"
                        + " s.topk_ids::INTEGER[] AS topk_ids, s.topk_weights::FLOAT[] AS topk_weights FROM " + table
                        + " s" + (run == null ? " JOIN runs r USING (run_ix)" : " WHERE s.run_ix = " + run.runIx()));
            }
        }
        return parts.isEmpty() ? "SELECT * FROM no_routes" : String.join(" UNION ALL ", parts);
    }

    /** Names the joined rows {@code routes} (a view over the staging tables). */
    static void createRoutesView(Connection c) throws SQLException {
        String select = routesSelect(c, null);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE OR REPLACE VIEW routes AS " + select);
        }
    }

    /** The runs seen so far, in order, with their meta records. */
    public Map<Long, MetaRecord> runs() {
        return runs;
    }

    /** The literal identity of a run seen by this visitor. */
    RunColumns runColumns(long runId) {
        MetaRecord m = runs.get(runId);
        return new RunColumns(runIndex.get(runId), RouteFormat.runIdText(runId), m.host(), m.pid(), source);
    }

    public long rows() {
        return rows;
    }

    public long rows(long runId) {
        long[] n = rowsPerRun.get(runId);
        return n == null ? 0 : n[0];
    }

    @Override
    public void onMeta(MetaRecord m) {
        if (runs.putIfAbsent(m.runId(), m) != null) {
            return;
        }
        try {
            int ix;
            try (Statement s = connection.createStatement();
                 ResultSet rs = s.executeQuery("SELECT coalesce(max(run_ix) + 1, 0) FROM runs")) {
                rs.next();
                ix = rs.getInt(1);
            }
            try (PreparedStatement ps = connection.prepareStatement("INSERT INTO runs VALUES (?, ?, ?, ?, ?)")) {
                ps.setInt(1, ix);
                ps.setString(2, RouteFormat.runIdText(m.runId()));
                ps.setString(3, m.host());
                ps.setLong(4, m.pid());
                ps.setString(5, source);
                ps.execute();
            }
            runIndex.put(m.runId(), ix);
            meta.beginRow()
                    .append(RouteFormat.runIdText(m.runId())).append(m.host()).append(m.pid()).append(source)
                    .append(m.schemaVersion()).append(m.modelId()).append(m.engine()).append(m.engineVersion())
                    .append(m.torchVersion()).append(m.javaVersion()).append(m.device()).append(m.dtype())
                    .append(m.seed()).append(m.numLayers()).append(m.numExperts()).append(m.topK())
                    .append(m.layersRecorded()).append(m.agentVersion()).append(m.configuration())
                    .append(m.startTimeMillis()).append(metaJson(m))
                    .endRow();
        } catch (SQLException e) {
            throw failed(e);
        }
        useRun(m.runId());
    }

    @Override
    public void onRouteStart(StepRecord s, RouteRecord route) {
        if (s.runId() == lastStepKeyRun && s.stepId() == lastStepKeyId) {
            return;
        }
        lastStepKeyRun = s.runId();
        lastStepKeyId = s.stepId();
        useRun(s.runId());
        try {
            steps.beginRow().append(currentRun).append(source).append(s.stepId()).append(phaseName(s.phase()))
                    .append(s.tokens()).append(Arrays.copyOf(s.requestIds(), s.tokens()))
                    .append(Arrays.copyOf(s.positions(), s.tokens())).endRow();
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    private void useRun(long runId) {
        if (currentMeta == null || currentMeta.runId() != runId) {
            MetaRecord m = runs.get(runId);
            if (m != null) {
                currentMeta = m;
                currentRun = RouteFormat.runIdText(m.runId());
                currentIndex = runIndex.get(runId);
                currentColumns = runColumns(runId);
                currentRows = rowsPerRun.computeIfAbsent(runId, id -> new long[1]);
                currentMetaJson = sink == null ? null : metaJson(m);
            }
        }
    }

    private DuckDBAppender stage(int k) throws SQLException {
        DuckDBAppender a = stages.get(k);
        if (a == null) {
            try (Statement s = connection.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS " + STAGE_PREFIX + k + " (run_ix INTEGER, step_id BIGINT,"
                        + " req_id BIGINT, token_idx INTEGER, layer INTEGER, prefill BOOLEAN, token_id INTEGER,"
                        + " topk_ids INTEGER[" + k + "], topk_weights FLOAT[" + k + "])");
            }
            a = duck.createAppender(DuckDBConnection.DEFAULT_SCHEMA, STAGE_PREFIX + k);
            stages.put(k, a);
        }
        return a;
    }

    @Override
    public void onRow(RouteRow r) {
        if (filter != null && !filter.keeps(r.layer, r.prefill())) {
            return;
        }
        useRun(r.runId);
        rows++;
        currentRows[0]++;
        if (sink != null) {
            sink.row(currentColumns, currentMetaJson, r);
            return;
        }
        int k = r.k;
        if (idsScratch.length != k) {
            idsScratch = new int[k];
            weightsScratch = new float[k];
        }
        System.arraycopy(r.ids, r.offset, idsScratch, 0, k);
        try {
            DuckDBAppender a = stage(k).beginRow()
                    .append(currentIndex).append(r.stepId).append(r.requestId).append(r.position).append(r.layer)
                    .append(r.prefill());
            if (r.hasTokenId) {
                a.append(r.tokenId);
            } else {
                a.appendNull();
            }
            a.append(idsScratch);
            if (r.weights != null) {
                System.arraycopy(r.weights, r.offset, weightsScratch, 0, k);
                a.append(weightsScratch);
            } else {
                a.appendNull();
            }
            a.endRow();
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    private static String phaseName(byte phase) {
        return switch (phase) {
            case RouteFormat.PHASE_PREFILL -> RouteJsonlWriter.PHASE_PREFILL;
            case RouteFormat.PHASE_DECODE -> RouteJsonlWriter.PHASE_DECODE;
            default -> "mixed";
        };
    }

    /** The run's JSONL meta line, as {@code export} writes it. */
    static String metaJson(MetaRecord m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (RouteJsonlWriter w = new RouteJsonlWriter(bytes)) {
            w.writeMeta(m, m.layersRecorded(), "all", List.of());
            w.flush();
        }
        return bytes.toString(StandardCharsets.UTF_8).strip();
    }

    /** Parses a meta JSON line back into a map (for Parquet key-value metadata). */
    static Map<String, Object> metaMap(String json) {
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = JSON.readValue(json, LinkedHashMap.class);
            return m;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private AnalyzerException failed(SQLException e) {
        return new AnalyzerException("cannot append to DuckDB (" + DuckDb.firstLine(e) + ")", e);
    }

    /** Flushes and closes the appenders. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            for (DuckDBAppender a : stages.values()) {
                a.close();
            }
            steps.close();
            meta.close();
        } catch (SQLException e) {
            throw failed(e);
        }
    }
}
