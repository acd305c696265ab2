package io.moeagent.analyzer.export;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.moeagent.analyzer.source.RouteRow;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Writes the routes JSONL: one meta line, then one line per token and layer. The bytes depend only on the
 * values: fields in a fixed order, no spaces, {@code \n} line ends, floats in the shortest form that reads back
 * to the same float (Jackson's Schubfach writer, so Java 17 and 25 print the same digits).
 *
 * <p>JSONL schema 1 (a schema-1 queue) is written exactly as it always was. JSONL schema 2 (a schema-2 queue, or a
 * merge holding one) adds {@code run_id}, {@code host} and {@code expert_order} to the meta line after {@code pid}
 * (and to each {@code sources} entry), and {@code token_id} (an integer, or null) to each route line after
 * {@code phase}.
 */
public final class RouteJsonlWriter implements AutoCloseable {
    public static final String PHASE_PREFILL = "prefill";
    public static final String PHASE_DECODE = "decode";

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();

    public static final String ORDER_BEST_FIRST = "best_first";
    public static final String ORDER_ENGINE = "engine";

    private final JsonGenerator gen;
    private long routeLines;
    /** Set by the meta line: route lines carry {@code token_id}. */
    private boolean schema2;

    public RouteJsonlWriter(OutputStream out) {
        try {
            this.gen = FACTORY.createGenerator(out, JsonEncoding.UTF8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        gen.setRootValueSeparator(null);
    }

    /**
     * Where a merged export's rows came from; written into the meta line's {@code sources} array.
     *
     * @param expertOrder {@link #ORDER_BEST_FIRST} or {@link #ORDER_ENGINE} (written for schema-2 sources)
     */
    public record Source(String name, String queue, MetaRecord meta, String expertOrder) {
        public Source(String name, String queue, MetaRecord meta) {
            this(name, queue, meta, ORDER_BEST_FIRST);
        }
    }

    /** The JSONL schema a file of these runs has: 2 when any of them was recorded with schema 2. */
    public static int jsonlSchema(MetaRecord m, List<Source> sources) {
        int schema = m.schemaVersion();
        for (Source s : sources) {
            schema = Math.max(schema, s.meta().schemaVersion());
        }
        return Math.min(schema, RouteFormat.SCHEMA_VERSION);
    }

    /**
     * Writes the meta line.
     *
     * @param layersLogged the layers whose routes the file holds (the queue's, narrowed by {@code --layers})
     * @param phase        which phases were exported: all, prefill or decode
     * @param sources      for a merged export, each queue in order; empty otherwise
     */
    public void writeMeta(MetaRecord m, int[] layersLogged, String phase, List<Source> sources) {
        writeMeta(m, layersLogged, phase, sources, ORDER_BEST_FIRST);
    }

    /**
     * Writes the meta line.
     *
     * @param expertOrder for JSONL schema 2: {@link #ORDER_ENGINE} when some row keeps the engine's order
     */
    public void writeMeta(MetaRecord m, int[] layersLogged, String phase, List<Source> sources, String expertOrder) {
        int schema = jsonlSchema(m, sources);
        schema2 = schema >= 2;
        try {
            gen.writeStartObject();
            gen.writeStringField("type", "meta");
            gen.writeNumberField("schema_version", schema);
            gen.writeStringField("model_id", m.modelId());
            gen.writeStringField("engine", m.engine());
            gen.writeStringField("engine_version", m.engineVersion());
            gen.writeStringField("torch_version", m.torchVersion());
            gen.writeStringField("java_version", m.javaVersion());
            gen.writeStringField("device", m.device());
            gen.writeStringField("dtype", m.dtype());
            gen.writeNumberField("seed", m.seed());
            gen.writeNumberField("num_layers", m.numLayers());
            gen.writeNumberField("num_experts", m.numExperts());
            gen.writeNumberField("top_k", m.topK());
            gen.writeFieldName("layers_logged");
            gen.writeArray(layersLogged, 0, layersLogged.length);
            gen.writeStringField("agent_version", m.agentVersion());
            gen.writeStringField("configuration", m.configuration());
            gen.writeNumberField("start_time_millis", m.startTimeMillis());
            gen.writeNumberField("pid", m.pid());
            if (schema2) {
                writeRun(m, expertOrder);
            }
            gen.writeStringField("phases_exported", phase);
            writeExtra(m.extra());
            if (!sources.isEmpty()) {
                gen.writeArrayFieldStart("sources");
                for (Source s : sources) {
                    gen.writeStartObject();
                    gen.writeStringField("source", s.name());
                    gen.writeStringField("queue", s.queue());
                    gen.writeStringField("model_id", s.meta().modelId());
                    gen.writeStringField("device", s.meta().device());
                    gen.writeNumberField("seed", s.meta().seed());
                    gen.writeNumberField("start_time_millis", s.meta().startTimeMillis());
                    gen.writeNumberField("pid", s.meta().pid());
                    if (schema2) {
                        writeRun(s.meta(), s.expertOrder());
                    }
                    gen.writeFieldName("layers_logged");
                    int[] layers = s.meta().layersRecorded();
                    gen.writeArray(layers, 0, layers.length);
                    gen.writeEndObject();
                }
                gen.writeEndArray();
            }
            gen.writeEndObject();
            gen.writeRaw('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void writeRun(MetaRecord m, String expertOrder) throws IOException {
        gen.writeStringField("run_id", RouteFormat.runIdText(m.runId()));
        gen.writeStringField("host", m.host());
        gen.writeStringField("expert_order", expertOrder);
    }

    private void writeExtra(Map<String, String> extra) throws IOException {
        gen.writeObjectFieldStart("extra");
        for (Map.Entry<String, String> e : extra.entrySet()) {
            gen.writeStringField(e.getKey(), e.getValue());
        }
        gen.writeEndObject();
    }

    /** Writes one route line with a numeric request id. */
    public void writeRoute(long requestId, int tokenIdx, int layer, boolean prefill,
                           int[] ids, int offset, int k, float[] weightsOrNull) {
        try {
            gen.writeRaw(ROUTE_START);
            gen.writeNumber(requestId);
            writeRest(tokenIdx, layer, prefill, false, 0, ids, offset, k, weightsOrNull);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes one row as a route line: its numeric request id, or {@code prefix + id} when {@code prefix} is not
     * null (merged exports); {@code token_id} too when the meta line was schema 2.
     */
    public void writeRoute(String prefix, RouteRow row) {
        try {
            gen.writeRaw(ROUTE_START);
            if (prefix == null) {
                gen.writeNumber(row.requestId);
            } else {
                gen.writeString(prefix + row.requestId);
            }
            writeRest(row.position, row.layer, row.prefill(), row.hasTokenId, row.tokenId, row.ids, row.offset, row.k,
                    row.weights);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes one route line with a textual request id (merged exports: {@code "source:id"}). */
    public void writeRoute(String requestId, int tokenIdx, int layer, boolean prefill,
                           int[] ids, int offset, int k, float[] weightsOrNull) {
        try {
            gen.writeRaw(ROUTE_START);
            gen.writeString(requestId);
            writeRest(tokenIdx, layer, prefill, false, 0, ids, offset, k, weightsOrNull);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /*
     * Route lines are the hot path (millions per second): the constant parts go out raw, the values through the
     * generator's number and string writers, each a root-level value (the root separator is off, so nothing is
     * written between them). The bytes are those the object-writing calls would produce.
     */
    private static final String ROUTE_START = "{\"type\":\"route\",\"req_id\":";

    private void writeRest(int tokenIdx, int layer, boolean prefill, boolean hasTokenId, int tokenId, int[] ids,
                           int offset, int k, float[] weightsOrNull) throws IOException {
        gen.writeRaw(",\"token_idx\":");
        gen.writeNumber(tokenIdx);
        gen.writeRaw(",\"layer\":");
        gen.writeNumber(layer);
        if (schema2) {
            gen.writeRaw(prefill ? ",\"phase\":\"prefill\",\"token_id\":" : ",\"phase\":\"decode\",\"token_id\":");
            if (hasTokenId) {
                gen.writeNumber(tokenId);
            } else {
                gen.writeRaw("null");
            }
            gen.writeRaw(",\"topk_ids\":[");
        } else {
            gen.writeRaw(prefill ? ",\"phase\":\"prefill\",\"topk_ids\":[" : ",\"phase\":\"decode\",\"topk_ids\":[");
        }
        for (int j = 0; j < k; j++) {
            if (j > 0) {
                gen.writeRaw(',');
            }
            gen.writeNumber(ids[offset + j]);
        }
        if (weightsOrNull == null) {
            gen.writeRaw("],\"topk_weights\":null}\n");
        } else {
            gen.writeRaw("],\"topk_weights\":[");
            for (int j = 0; j < k; j++) {
                if (j > 0) {
                    gen.writeRaw(',');
                }
                gen.writeNumber(weightsOrNull[offset + j]);
            }
            gen.writeRaw("]}\n");
        }
        routeLines++;
    }

    public long routeLines() {
        return routeLines;
    }

    public void flush() {
        try {
            gen.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            gen.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
