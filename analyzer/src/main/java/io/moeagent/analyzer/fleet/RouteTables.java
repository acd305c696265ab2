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
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;

/**
 * The fleet tables {@code routes}, {@code steps} and {@code meta}, defined once: their columns (the JSONL fields, plus
 * what tells runs and hosts apart) and a queue visitor that appends joined rows to them through DuckDB's appender.
 */
public final class RouteTables implements QueueRoutes.RowVisitor, AutoCloseable {
    /** One row per token and recorded layer: the JSONL route line's fields, then the run's and step's identity. */
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

    private static final ObjectMapper JSON = new ObjectMapper();

    private final DuckDBAppender routes;
    private final DuckDBAppender steps;
    private final DuckDBAppender meta;
    private final String source;
    private final RowFilter filter;
    private final Map<Long, MetaRecord> runs = new LinkedHashMap<>();
    private final Map<Long, Long> rowsPerRun = new HashMap<>();
    private MetaRecord currentMeta;
    private String currentRun;
    private long lastStepKeyRun = Long.MIN_VALUE;
    private long lastStepKeyId = Long.MIN_VALUE;
    private int[] idsScratch = new int[0];
    private float[] weightsScratch = new float[0];
    private long rows;
    private boolean closed;

    /** Creates the three tables (if absent) in {@code c} and appends to them, tagging rows with {@code source}. */
    public RouteTables(Connection c, String source, RowFilter filter) {
        this.source = source;
        this.filter = filter;
        try {
            createTables(c);
            DuckDBConnection duck = c.unwrap(DuckDBConnection.class);
            this.routes = duck.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "routes");
            this.steps = duck.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "steps");
            this.meta = duck.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "meta");
        } catch (SQLException e) {
            throw new AnalyzerException("cannot prepare the DuckDB tables (" + DuckDb.firstLine(e) + ")", e);
        }
    }

    static void createTables(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String ddl : List.of(ROUTES_DDL, STEPS_DDL, META_DDL)) {
                s.execute(ddl.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"));
            }
        }
    }

    /** The runs seen so far, in order, with their meta records. */
    public Map<Long, MetaRecord> runs() {
        return runs;
    }

    public long rows() {
        return rows;
    }

    public long rows(long runId) {
        return rowsPerRun.getOrDefault(runId, 0L);
    }

    @Override
    public void onMeta(MetaRecord m) {
        runs.putIfAbsent(m.runId(), m);
        currentMeta = m;
        currentRun = RouteFormat.runIdText(m.runId());
        try {
            meta.beginRow()
                    .append(currentRun).append(m.host()).append(m.pid()).append(source)
                    .append(m.schemaVersion()).append(m.modelId()).append(m.engine()).append(m.engineVersion())
                    .append(m.torchVersion()).append(m.javaVersion()).append(m.device()).append(m.dtype())
                    .append(m.seed()).append(m.numLayers()).append(m.numExperts()).append(m.topK())
                    .append(m.layersRecorded()).append(m.agentVersion()).append(m.configuration())
                    .append(m.startTimeMillis()).append(metaJson(m))
                    .endRow();
        } catch (SQLException e) {
            throw failed(e);
        }
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
            }
        }
    }

    @Override
    public void onRow(RouteRow r) {
        if (filter != null && !filter.keeps(r.layer, r.prefill())) {
            return;
        }
        int k = r.k;
        if (idsScratch.length != k) {
            idsScratch = new int[k];
            weightsScratch = new float[k];
        }
        System.arraycopy(r.ids, r.offset, idsScratch, 0, k);
        useRun(r.runId);
        try {
            DuckDBAppender a = routes.beginRow()
                    .append(currentRun).append(currentMeta.host()).append(currentMeta.pid()).append(source)
                    .append(r.stepId).append(r.requestId).append(r.position).append(r.layer)
                    .append(r.prefill() ? RouteJsonlWriter.PHASE_PREFILL : RouteJsonlWriter.PHASE_DECODE);
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
        rows++;
        rowsPerRun.merge(r.runId, 1L, Long::sum);
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
            routes.close();
            steps.close();
            meta.close();
        } catch (SQLException e) {
            throw failed(e);
        }
    }
}
