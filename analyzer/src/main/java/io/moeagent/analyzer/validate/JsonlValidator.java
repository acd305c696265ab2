package io.moeagent.analyzer.validate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.moeagent.analyzer.source.JsonlRoutes;
import io.moeagent.format.RouteFormat;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.moeagent.analyzer.source.ByteLines;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a routes JSONL file (schema 1 or 2) line by line, collecting every defect (the first {@code maxListed} in
 * full, the rest as counts per kind). A line is parsed on its own, so one malformed line does not hide the others.
 * Route lines go through Jackson's streaming parser with every array bounded by the meta line's top_k
 * ({@link RouteLine}); only the meta line (at most {@link #MAX_META_BYTES}) becomes a tree.
 */
public final class JsonlValidator {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** The outcome: listed defects, totals per kind, and what the file held. */
    public record Result(List<Defect> listed, Map<Defect.Kind, Long> totals, long routeLines, int requests,
                         int layers, List<String> notes) {
        public long defects() {
            return totals.values().stream().mapToLong(Long::longValue).sum();
        }

        public boolean valid() {
            return defects() == 0;
        }
    }

    private final int maxListed;
    private final List<Defect> listed = new ArrayList<>();
    private final Map<Defect.Kind, Long> totals = new EnumMap<>(Defect.Kind.class);
    private final List<String> notes = new ArrayList<>();

    private int topK = -1;
    private int experts = -1;
    private Set<Integer> layersLogged;
    private String phasesExported = "all";
    /** The meta line's schema_version (1 or 2); schema 2 adds run fields to the meta and token_id to routes. */
    private int jsonlSchema = RouteFormat.SCHEMA_V1;
    /** JSONL schema 2 with expert_order "engine": weights need not be non-increasing. */
    private boolean engineOrder;
    private long routeLines;
    private final Map<Object, Map<Integer, Track>> tracks = new HashMap<>();
    private final Map<Integer, Long> linesPerLayer = new TreeMap<>();

    /** Per request and layer: the order check plus what the run-report check needs. */
    private static final class Track {
        long lastIdx = Long.MIN_VALUE;
        long count;
        long maxIdx = -1;
        long lastLine;
        /** With a run report: positions below the request's forwarded count, and positions past its tokens. */
        long covered;
        long beyond;
    }

    public JsonlValidator(int maxListed) {
        this.maxListed = maxListed;
    }

    private RunReport run;

    public Result validate(Path file, RunReport run) {
        this.run = run;
        JsonlRoutes.checkFile(file);
        try (InputStream in = Files.newInputStream(file)) {
            ByteLines lines = new ByteLines(in);
            long line = 0;
            while (lines.next()) {
                line++;
                checkLine(line, lines.line, lines.lineStart, lines.lineLength);
            }
            if (line == 0) {
                defect(0, Defect.Kind.META_MISSING, "the file is empty; expected a meta line and route lines");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (run != null) {
            checkAgainst(run);
        }
        int layers = linesPerLayer.size();
        return new Result(List.copyOf(listed), totals, routeLines, tracks.size(), layers, notes);
    }

    /** The most a meta line may hold; exported meta lines are a few KB. Larger ones are not parsed into a tree. */
    static final int MAX_META_BYTES = 1 << 20;
    /** Entries kept of an array before the meta line gave top_k. */
    private static final int CAP_WITHOUT_META = 1024;

    private final RouteLine routeLine = new RouteLine();

    private void checkLine(long line, byte[] bytes, int off, int len) {
        try {
            if (line == 1) {
                checkFirstLine(bytes, off, len);
                return;
            }
            try (JsonParser p = MAPPER.getFactory().createParser(bytes, off, len)) {
                JsonToken t = p.nextToken();
                if (t != JsonToken.START_OBJECT) {
                    if (t != null) {
                        p.skipChildren();
                    }
                    defect(line, Defect.Kind.MALFORMED_JSON, t == null ? "empty line" : "not a JSON object");
                    return;
                }
                routeLine.read(p, topK > 0 ? topK : CAP_WITHOUT_META);
                if (p.nextToken() != null) {
                    defect(line, Defect.Kind.MALFORMED_JSON, "malformed JSON: more than one JSON value on the line");
                    return;
                }
            }
            String type = routeLine.type.isText() ? routeLine.type.text : null;
            if ("route".equals(type)) {
                checkRoute(line, routeLine);
            } else if ("meta".equals(type)) {
                defect(line, Defect.Kind.UNKNOWN_TYPE, "a second meta line; only line 1 may be meta");
            } else {
                defect(line, Defect.Kind.UNKNOWN_TYPE, "type is " + routeLine.type.preview + "; expected \"route\"");
            }
        } catch (JsonProcessingException e) {
            String why = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
            defect(line, Defect.Kind.MALFORMED_JSON, "malformed JSON: " + RouteLine.preview(why.lines().findFirst()
                    .orElse("")));
            if (line == 1) {
                defect(line, Defect.Kind.META_MISSING, "line 1 must be the meta line");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void checkFirstLine(byte[] bytes, int off, int len) throws IOException {
        if (len > MAX_META_BYTES) {
            defect(1, Defect.Kind.META_MISSING, "line 1 is " + len + " bytes; a meta line holds a few KB (is this an"
                    + " analyzer export?)");
            return;
        }
        JsonNode node;
        try (JsonParser p = MAPPER.getFactory().createParser(bytes, off, len)) {
            node = MAPPER.readTree(p);
            if (node != null && p.nextToken() != null) {
                throw new com.fasterxml.jackson.core.JsonParseException(p, "more than one JSON value on the line");
            }
        }
        if (node == null || !node.isObject()) {
            defect(1, Defect.Kind.MALFORMED_JSON, node == null ? "empty line" : "not a JSON object");
            return;
        }
        String type = node.path("type").isTextual() ? node.get("type").asText() : null;
        if (!"meta".equals(type)) {
            defect(1, Defect.Kind.META_MISSING, "line 1 is not the meta line ({\"type\":\"meta\",...})");
            if ("route".equals(type)) {
                try (JsonParser p = MAPPER.getFactory().createParser(bytes, off, len)) {
                    p.nextToken();
                    routeLine.read(p, CAP_WITHOUT_META);
                }
                checkRoute(1, routeLine);
            }
            return;
        }
        checkMeta(1, node);
    }

    private void checkMeta(long line, JsonNode m) {
        for (String f : new String[] {"model_id", "engine", "engine_version", "torch_version", "device"}) {
            if (!m.path(f).isTextual()) {
                defect(line, Defect.Kind.META_FIELD, "meta field '" + f + "' is " + describe(m.get(f))
                        + "; expected a string");
            }
        }
        if (!m.path("seed").isIntegralNumber()) {
            defect(line, Defect.Kind.META_FIELD, "meta field 'seed' is " + describe(m.get("seed"))
                    + "; expected an integer");
        }
        JsonNode schema = m.get("schema_version");
        if (schema == null || !schema.isIntegralNumber()) {
            defect(line, Defect.Kind.META_FIELD, "meta field 'schema_version' is " + describe(schema)
                    + "; expected an integer");
        } else if (schema.asInt() != RouteFormat.SCHEMA_VERSION && schema.asInt() != RouteFormat.SCHEMA_V1) {
            defect(line, Defect.Kind.UNKNOWN_SCHEMA, "schema_version " + schema.asInt() + " is unknown; this analyzer"
                    + " knows versions " + RouteFormat.SCHEMA_V1 + " and " + RouteFormat.SCHEMA_VERSION);
        } else {
            jsonlSchema = schema.asInt();
        }
        if (jsonlSchema >= 2) {
            checkRunFields(line, m, "meta");
            JsonNode sources = m.get("sources");
            if (sources != null && sources.isArray()) {
                for (JsonNode src : sources) {
                    checkRunFields(line, src, "sources entry " + describe(src.get("source")));
                }
            }
            engineOrder = "engine".equals(m.path("expert_order").asText());
        }
        topK = positiveInt(line, m, "top_k");
        experts = positiveInt(line, m, "num_experts");
        if (topK > 0 && experts > 0 && topK > experts) {
            defect(line, Defect.Kind.META_FIELD, "top_k " + topK + " exceeds num_experts " + experts);
        }
        JsonNode layers = m.get("layers_logged");
        if (layers == null || !layers.isArray()) {
            defect(line, Defect.Kind.META_FIELD, "meta field 'layers_logged' is " + describe(layers)
                    + "; expected an array of layer numbers");
        } else {
            layersLogged = new HashSet<>();
            for (JsonNode l : layers) {
                if (!l.isIntegralNumber() || l.asInt() < 0 || !layersLogged.add(l.asInt())) {
                    defect(line, Defect.Kind.META_FIELD, "layers_logged holds " + describe(l)
                            + "; expected distinct non-negative integers");
                }
            }
        }
        if (m.path("phases_exported").isTextual()) {
            phasesExported = m.get("phases_exported").asText();
        }
    }

    /** JSONL schema 2: run_id (16 hex digits), host (a string), expert_order (best_first or engine). */
    private void checkRunFields(long line, JsonNode m, String where) {
        JsonNode runId = m.get("run_id");
        if (runId == null || !runId.isTextual() || !runId.asText().matches("[0-9a-f]{16}")) {
            defect(line, Defect.Kind.META_FIELD, where + " field 'run_id' is " + describe(runId)
                    + "; expected 16 lowercase hex digits");
        }
        if (!m.path("host").isTextual()) {
            defect(line, Defect.Kind.META_FIELD, where + " field 'host' is " + describe(m.get("host"))
                    + "; expected a string");
        }
        JsonNode order = m.get("expert_order");
        if (order == null || !order.isTextual()
                || !("best_first".equals(order.asText()) || "engine".equals(order.asText()))) {
            defect(line, Defect.Kind.META_FIELD, where + " field 'expert_order' is " + describe(order)
                    + "; expected \"best_first\" or \"engine\"");
        }
    }

    private int positiveInt(long line, JsonNode m, String f) {
        JsonNode v = m.get(f);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            defect(line, Defect.Kind.META_FIELD, "meta field '" + f + "' is " + describe(v)
                    + "; expected a positive integer");
            return -1;
        }
        return v.asInt();
    }

    private void checkRoute(long line, RouteLine r) {
        routeLines++;
        boolean ok = true;
        if (!r.req.present || !(r.req.isInt() || r.req.isText())) {
            ok = fieldDefect(line, "req_id", r.req.preview, "an integer or a string");
        }
        if (!r.tokenIdx.isInt() || r.tokenIdx.longValue < 0) {
            ok = fieldDefect(line, "token_idx", r.tokenIdx.preview, "a non-negative integer");
        }
        if (!r.layer.isInt() || r.layer.longValue != (int) r.layer.longValue) {
            ok = fieldDefect(line, "layer", r.layer.preview, "an integer");
        }
        if (!r.ids.isArray()) {
            ok = fieldDefect(line, "topk_ids", r.ids.preview, "an array of integers");
        } else if (r.ids.badEntry != null) {
            ok = fieldDefect(line, "topk_ids entry", r.ids.badEntry, "an integer");
        }
        if (!r.weights.present || !(r.weights.isNull() || r.weights.isArray())) {
            ok = fieldDefect(line, "topk_weights", r.weights.preview, "an array of numbers or null");
        } else if (r.weights.isArray() && r.weights.badEntry != null) {
            ok = fieldDefect(line, "topk_weights entry", r.weights.badEntry, "a number");
        }
        if (r.phase.present && !(r.phase.isText() && ("prefill".equals(r.phase.text)
                || "decode".equals(r.phase.text)))) {
            ok = fieldDefect(line, "phase", r.phase.preview, "\"prefill\" or \"decode\" (or no phase field)");
        }
        if (jsonlSchema >= 2) {
            if (!r.phase.present) {
                ok = fieldDefect(line, "phase", r.phase.preview, "\"prefill\" or \"decode\" (schema 2)");
            }
            if (!r.tokenId.present || !(r.tokenId.token == JsonToken.VALUE_NULL || r.tokenId.isInt())) {
                ok = fieldDefect(line, "token_id", r.tokenId.preview, "an integer or null (schema 2)");
            }
        }
        if (!ok) {
            return;
        }
        int layer = (int) r.layer.longValue;
        linesPerLayer.merge(layer, 1L, Long::sum);
        if (layersLogged != null && !layersLogged.contains(layer)) {
            defect(line, Defect.Kind.LAYER_NOT_LOGGED, "layer " + layer + " is not among layers_logged");
        }
        checkIds(line, r.ids);
        if (r.weights.isArray()) {
            checkWeights(line, r.weights, r.ids.count);
        }
        Object key = r.req.isText() ? r.req.text : (Object) r.req.longValue;
        Track t = tracks.computeIfAbsent(key, x -> new HashMap<>()).computeIfAbsent(layer, x -> new Track());
        long idx = r.tokenIdx.longValue;
        String req = r.req.preview;
        if (idx <= t.lastIdx) {
            defect(line, Defect.Kind.TOKEN_ORDER, "token_idx " + idx + " of request " + req + " layer " + layer
                    + " does not follow " + t.lastIdx + " (line " + t.lastLine + ")");
        } else {
            t.lastIdx = idx;
            RunReport.Request inRun = run == null || !(key instanceof Long id) ? null : run.requests().get(id);
            if (inRun != null) {
                if (idx < inRun.forwardedTokens()) {
                    t.covered++;
                } else if (idx >= (long) inRun.promptTokens() + inRun.generatedTokens()) {
                    t.beyond++;
                }
            }
        }
        t.count++;
        t.maxIdx = Math.max(t.maxIdx, idx);
        t.lastLine = line;
    }

    private void checkIds(long line, RouteLine.Array ids) {
        if (topK > 0 && ids.count != topK) {
            defect(line, Defect.Kind.TOPK_LENGTH, "topk_ids has " + ids.count + " entries; top_k is " + topK);
        }
        if (ids.outOfRange != null) {
            defect(line, Defect.Kind.TOPK_RANGE, "expert id " + ids.outOfRange + " outside [0, " + (experts - 1)
                    + "]");
        }
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < ids.stored; i++) {
            long e = ids.ints[i];
            if (!seen.add(e)) {
                defect(line, Defect.Kind.TOPK_DUPLICATE, "expert " + e + " appears twice in topk_ids "
                        + ids.render(true));
            }
            if (e < 0 || (experts > 0 && e >= experts)) {
                defect(line, Defect.Kind.TOPK_RANGE, "expert id " + e + " outside [0, " + (experts - 1) + "]");
            }
        }
    }

    private void checkWeights(long line, RouteLine.Array weights, int nIds) {
        if (weights.count != nIds) {
            defect(line, Defect.Kind.WEIGHTS_LENGTH, "topk_weights has " + weights.count + " entries, topk_ids "
                    + nIds);
        }
        double previous = Double.POSITIVE_INFINITY;
        double sum = 0;
        for (int i = 0; i < weights.stored; i++) {
            double v = weights.doubles[i];
            if (!Double.isFinite(v)) {
                defect(line, Defect.Kind.WEIGHT_NOT_FINITE, "weight " + v + " is not finite");
                continue;
            }
            if (v < 0 || v > 1) {
                defect(line, Defect.Kind.WEIGHT_RANGE, "weight " + v + " outside [0, 1]");
            }
            // expert_order "engine": rows keep the engine's order, not known to be best-first
            if (v > previous && !engineOrder) {
                defect(line, Defect.Kind.WEIGHTS_INCREASING, "weights " + weights.render(false) + " increase"
                        + " (expected non-increasing, as top-k returns them)");
            }
            previous = v;
            sum += v;
        }
        // float32 weights printed shortest-form can add up to a hair over 1 after renormalisation
        if (sum > 1 + 1e-5 * Math.max(1, weights.stored)) {
            defect(line, Defect.Kind.WEIGHTS_SUM, "weights " + weights.render(false) + " sum to " + sum + " > 1");
        }
    }

    private void checkAgainst(RunReport run) {
        if (experts > 0 && run.numExperts() > 0 && experts != run.numExperts()) {
            defect(0, Defect.Kind.RUN_MISMATCH, "meta num_experts " + experts + " but the run report says "
                    + run.numExperts());
        }
        if (topK > 0 && run.topK() > 0 && topK != run.topK()) {
            defect(0, Defect.Kind.RUN_MISMATCH, "meta top_k " + topK + " but the run report says " + run.topK());
        }
        Set<Integer> moe = new HashSet<>();
        for (int l : run.moeLayers()) {
            moe.add(l);
        }
        if (layersLogged != null) {
            for (int l : new java.util.TreeSet<>(layersLogged)) {
                if (!moe.contains(l)) {
                    defect(0, Defect.Kind.RUN_MISMATCH, "layer " + l + " is logged but the run report's moe_layers"
                            + " are " + java.util.Arrays.toString(run.moeLayers()));
                }
            }
        }
        if (tracks.keySet().stream().anyMatch(k -> !(k instanceof Long))) {
            notes.add("run report checks skipped: request ids are not integers (a merged file? check each queue's"
                    + " export against its own run report)");
            return;
        }
        if (!"all".equals(phasesExported)) {
            notes.add("run report count checks skipped: only the " + phasesExported + " phase was exported");
            return;
        }
        Set<Integer> layers = layersLogged != null ? new java.util.TreeSet<>(layersLogged) : linesPerLayer.keySet();
        for (int layer : layers) {
            long n = linesPerLayer.getOrDefault(layer, 0L);
            if (n != run.tokensForwarded()) {
                defect(0, Defect.Kind.RUN_LAYER_COUNT, "layer " + layer + " has " + n + " route lines; the run"
                        + " forwarded " + run.tokensForwarded() + " tokens per MoE layer (tokens_forwarded)");
            }
        }
        for (Map.Entry<Object, Map<Integer, Track>> e : tracks.entrySet()) {
            if (!run.requests().containsKey((Long) e.getKey())) {
                long lines = e.getValue().values().stream().mapToLong(t -> t.count).sum();
                defect(0, Defect.Kind.RUN_UNKNOWN_REQUEST, "req_id " + e.getKey() + " (" + lines
                        + " lines) is not among the run report's requests");
            }
        }
        for (RunReport.Request r : run.requests().values()) {
            int forwarded = r.forwardedTokens();
            Map<Integer, Track> perLayer = tracks.getOrDefault(r.id(), Map.of());
            for (int layer : layers) {
                Track t = perLayer.get(layer);
                long covered = t == null ? 0 : t.covered;
                long beyond = t == null ? 0 : t.beyond;
                long lastLine = t == null ? 0 : t.lastLine;
                if (covered < forwarded) {
                    defect(lastLine, Defect.Kind.RUN_POSITIONS, "request " + r.id() + " layer " + layer + ": "
                            + (forwarded - covered) + " of positions 0.." + (forwarded - 1) + " missing (prompt "
                            + r.promptTokens() + " + generated " + r.generatedTokens() + " - 1)");
                }
                if (beyond > 0) {
                    defect(lastLine, Defect.Kind.RUN_POSITION_BEYOND, "request " + r.id() + " layer " + layer + ": "
                            + beyond + " positions at or past " + (r.promptTokens() + r.generatedTokens())
                            + ", beyond the request's tokens");
                }
            }
        }
    }

    private boolean fieldDefect(long line, String field, String preview, String expected) {
        defect(line, Defect.Kind.ROUTE_FIELD, "'" + field + "' is " + preview + "; expected " + expected);
        return false;
    }

    private static String describe(JsonNode v) {
        if (v == null) {
            return "missing";
        }
        String s = v.toString();
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private void defect(long line, Defect.Kind kind, String message) {
        totals.merge(kind, 1L, Long::sum);
        if (listed.size() < maxListed) {
            listed.add(new Defect(line, kind, message));
        }
    }

}
