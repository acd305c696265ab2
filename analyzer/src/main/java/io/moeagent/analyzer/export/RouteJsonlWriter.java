package io.moeagent.analyzer.export;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.moeagent.format.MetaRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Writes the routes JSONL: one meta line, then one line per token and layer. The bytes depend only on the
 * values: fields in a fixed order, no spaces, {@code \n} line ends, floats in the shortest form that reads back
 * to the same float (Jackson's Schubfach writer, so Java 17 and 25 print the same digits).
 */
public final class RouteJsonlWriter implements AutoCloseable {
    public static final String PHASE_PREFILL = "prefill";
    public static final String PHASE_DECODE = "decode";

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();

    private final JsonGenerator gen;
    private long routeLines;

    public RouteJsonlWriter(OutputStream out) {
        try {
            this.gen = FACTORY.createGenerator(out, JsonEncoding.UTF8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        gen.setRootValueSeparator(null);
    }

    /** Where a merged export's rows came from; written into the meta line's {@code sources} array. */
    public record Source(String name, String queue, MetaRecord meta) {
    }

    /**
     * Writes the meta line.
     *
     * @param layersLogged the layers whose routes the file holds (the queue's, narrowed by {@code --layers})
     * @param phase        which phases were exported: all, prefill or decode
     * @param sources      for a merged export, each queue in order; empty otherwise
     */
    /**
     * {@code best_first} when the recording knew the weights (the agent stores rows best-first then), {@code engine}
     * when its pointcuts named none: the rows are in the engine's order, which need not be best-first.
     */
    static String expertOrder(MetaRecord m) {
        return ("," + m.configuration() + ",").contains(",pointcut.weights=none,") ? "engine" : "best_first";
    }

    public void writeMeta(MetaRecord m, int[] layersLogged, String phase, List<Source> sources) {
        try {
            gen.writeStartObject();
            gen.writeStringField("type", "meta");
            gen.writeNumberField("schema_version", m.schemaVersion());
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
            if (m.schemaVersion() >= 2) {
                // SCHEMA2.md: run_id and host come first after pid (harden-analyzer), then expert_order
                gen.writeStringField("expert_order", expertOrder(m));
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
            writeRest(tokenIdx, layer, prefill, ids, offset, k, weightsOrNull);
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
            writeRest(tokenIdx, layer, prefill, ids, offset, k, weightsOrNull);
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

    private void writeRest(int tokenIdx, int layer, boolean prefill, int[] ids, int offset, int k,
                           float[] weightsOrNull) throws IOException {
        gen.writeRaw(",\"token_idx\":");
        gen.writeNumber(tokenIdx);
        gen.writeRaw(",\"layer\":");
        gen.writeNumber(layer);
        gen.writeRaw(prefill ? ",\"phase\":\"prefill\",\"topk_ids\":[" : ",\"phase\":\"decode\",\"topk_ids\":[");
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
