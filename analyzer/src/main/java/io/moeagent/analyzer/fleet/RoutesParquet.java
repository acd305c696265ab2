package io.moeagent.analyzer.fleet;

import io.moeagent.analyzer.export.RouteJsonlWriter;
import io.moeagent.analyzer.parquet.ParquetColumn;
import io.moeagent.analyzer.parquet.ParquetFileWriter;
import io.moeagent.analyzer.parquet.PageEncoder;
import io.moeagent.analyzer.source.RouteRow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code routes} table of an export, written straight to Parquet as the queue is read: a file per run and layer,
 * {@code BASE/RUN/routes/run_id=RUN/layer=L/data_0.parquet}, with the columns of {@link RouteTables#ROUTES_DDL} in
 * its order and the run's meta JSON as key-value metadata {@code moe_meta}. Memory is one row group per open file
 * ({@link #ROW_GROUP_ROWS} rows, about 4 MB at top-4), and at most 64 files are open, whatever the queue holds.
 */
final class RoutesParquet implements RouteTables.RouteSink, AutoCloseable {
    /** Rows per row group (DuckDB's readers split work by row group; 64 Ki rows is about 4 MB buffered at top-4). */
    static final int ROW_GROUP_ROWS = Integer.getInteger("moe.parquet.row-group-rows", 1 << 16);
    /** zstd level 1: the fastest, and on route rows within a few per cent of level 3's size. */
    private static final int ZSTD_LEVEL = Integer.getInteger("moe.parquet.zstd-level", 1);

    /** One run's and layer's file and its columns. */
    private static final class LayerFile {
        final ParquetColumn.Utf8 runId = ParquetColumn.utf8("run_id");
        final ParquetColumn.Utf8 host = ParquetColumn.utf8("host");
        final ParquetColumn.Integers pid = ParquetColumn.int64("pid");
        final ParquetColumn.Utf8 source = ParquetColumn.utf8("source");
        final ParquetColumn.Integers stepId = ParquetColumn.int64("step_id");
        final ParquetColumn.Integers reqId = ParquetColumn.int64("req_id");
        final ParquetColumn.Integers tokenIdx = ParquetColumn.int32("token_idx");
        final ParquetColumn.Integers layer = ParquetColumn.int32("layer");
        final ParquetColumn.Utf8 phase = ParquetColumn.utf8("phase");
        final ParquetColumn.Integers tokenId = ParquetColumn.int32("token_id");
        final ParquetColumn.Int32List topkIds = ParquetColumn.int32List("topk_ids");
        final ParquetColumn.Float32List topkWeights = ParquetColumn.float32List("topk_weights");
        final ParquetFileWriter writer;
        int layerValue;

        LayerFile(Path file, String metaJson, PageEncoder encoder) throws IOException {
            List<ParquetColumn> columns = List.of(runId, host, pid, source, stepId, reqId, tokenIdx, layer, phase,
                    tokenId, topkIds, topkWeights);
            writer = new ParquetFileWriter(file, columns, Map.of("moe_meta", metaJson), ROW_GROUP_ROWS, encoder,
                    "moe-agent analyzer");
        }

        void write(RouteTables.RunColumns run, RouteRow r) throws IOException {
            runId.append(run.runId());
            host.append(run.host());
            pid.append(run.pid());
            source.append(run.source());
            stepId.append(r.stepId);
            reqId.append(r.requestId);
            tokenIdx.append(r.position);
            layer.append(r.layer);
            phase.append(r.prefill() ? RouteJsonlWriter.PHASE_PREFILL : RouteJsonlWriter.PHASE_DECODE);
            if (r.hasTokenId) {
                tokenId.append(r.tokenId);
            } else {
                tokenId.appendNull();
            }
            topkIds.append(r.ids, r.offset, r.k);
            if (r.weights != null) {
                topkWeights.append(r.weights, r.offset, r.k);
            } else {
                topkWeights.appendNull();
            }
            writer.endRow();
        }
    }

    private record Key(String runId, int layer) {
    }

    private final Path base;
    private final Path dataset;
    private final int maxOpen;
    private final PageEncoder encoder = new PageEncoder(ZSTD_LEVEL);
    /** The open files, least recently switched to first. */
    private final LinkedHashMap<Key, LayerFile> open = new LinkedHashMap<>(16, 0.75f, true);
    /** Files begun per run and layer (a partition gets data_1.parquet, ... after its file was closed to make room). */
    private final Map<Key, Integer> begun = new HashMap<>();
    private String lastRunId;
    private LayerFile last;

    /**
     * Writes under {@code base} (a private staging folder the caller publishes into {@code dataset}), with at most
     * {@code moe.parquet.max-open-files} (64) files open: past that, the file switched to least recently is finished,
     * and its partition's later rows go to a new file beside it.
     */
    RoutesParquet(Path base, Path dataset) {
        this.base = base;
        this.dataset = dataset;
        this.maxOpen = Math.max(1, Integer.getInteger("moe.parquet.max-open-files", 64));
    }

    @Override
    public void row(RouteTables.RunColumns run, String metaJson, RouteRow r) {
        try {
            LayerFile f = last;
            if (f == null || !run.runId().equals(lastRunId) || r.layer != f.layerValue) {
                f = file(run, metaJson, r.layer);
            }
            f.write(run, r);
        } catch (IOException e) {
            // an AnalyzerException passes through the queue reader unchanged (it is not a reading failure)
            throw ParquetExport.notWritable(dataset, e);
        }
    }

    private LayerFile file(RouteTables.RunColumns run, String metaJson, int layer) throws IOException {
        Key key = new Key(run.runId(), layer);
        LayerFile f = open.get(key);
        if (f == null) {
            if (open.size() >= maxOpen) {
                Iterator<LayerFile> eldest = open.values().iterator();
                LayerFile closing = eldest.next();
                eldest.remove();
                closing.writer.close();
            }
            int n = begun.merge(key, 1, Integer::sum) - 1;
            Path dir = base.resolve(run.runId()).resolve("routes").resolve("run_id=" + run.runId())
                    .resolve("layer=" + layer);
            Files.createDirectories(dir);
            f = new LayerFile(dir.resolve("data_" + n + ".parquet"), metaJson, encoder);
            f.layerValue = layer;
            open.put(key, f);
        }
        lastRunId = run.runId();
        last = f;
        return f;
    }

    /** Closes every file without finishing it, after a failure (the caller deletes the staging folder). */
    void abandon() {
        for (LayerFile f : open.values()) {
            f.writer.abandon();
        }
        open.clear();
        encoder.close();
    }

    /** Finishes every file (last row groups and footers). */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (LayerFile f : open.values()) {
            try {
                if (first == null) {
                    f.writer.close();
                } else {
                    f.writer.abandon();
                }
            } catch (IOException e) {
                first = e;
            }
        }
        open.clear();
        encoder.close();
        if (first != null) {
            throw first;
        }
    }
}
