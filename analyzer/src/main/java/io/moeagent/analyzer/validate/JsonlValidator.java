package io.moeagent.analyzer.validate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.moeagent.analyzer.source.JsonlRoutes;
import io.moeagent.format.RouteFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
 * Checks a routes JSONL file line by line, collecting every defect (the first {@code maxListed} in full, the
 * rest as counts per kind). A line is parsed on its own, so one malformed line does not hide the others.
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
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            long line = 0;
            while ((text = in.readLine()) != null) {
                line++;
                checkLine(line, text);
            }
            if (line == 0) {
                defect(0, Defect.Kind.META_MISSING, "the file is empty; expected a meta line and route lines");
            }
        } catch (java.nio.charset.MalformedInputException e) {
            defect(0, Defect.Kind.MALFORMED_JSON, "the file is not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (run != null) {
            checkAgainst(run);
        }
        int layers = linesPerLayer.size();
        return new Result(List.copyOf(listed), totals, routeLines, tracks.size(), layers, notes);
    }

    private void checkLine(long line, String text) {
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            defect(line, Defect.Kind.MALFORMED_JSON, "malformed JSON: " + e.getOriginalMessage().lines().findFirst()
                    .orElse(""));
            if (line == 1) {
                defect(line, Defect.Kind.META_MISSING, "line 1 must be the meta line");
            }
            return;
        }
        if (node == null || !node.isObject()) {
            defect(line, Defect.Kind.MALFORMED_JSON, text.isBlank() ? "empty line" : "not a JSON object");
            return;
        }
        String type = node.path("type").isTextual() ? node.get("type").asText() : null;
        if (line == 1) {
            if (!"meta".equals(type)) {
                defect(line, Defect.Kind.META_MISSING, "line 1 is not the meta line ({\"type\":\"meta\",...})");
                if ("route".equals(type)) {
                    checkRoute(line, node);
                }
                return;
            }
            checkMeta(line, node);
            return;
        }
        if ("route".equals(type)) {
            checkRoute(line, node);
        } else if ("meta".equals(type)) {
            defect(line, Defect.Kind.UNKNOWN_TYPE, "a second meta line; only line 1 may be meta");
        } else {
            defect(line, Defect.Kind.UNKNOWN_TYPE, "type is " + node.get("type") + "; expected \"route\"");
        }
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
                    defect(line, Defect.Kind.META_FIELD, "layers_logged holds " + l
                            + "; expected distinct non-negative integers");
                }
            }
        }
        if (m.path("phases_exported").isTextual()) {
            phasesExported = m.get("phases_exported").asText();
        }
    }

    private int positiveInt(long line, JsonNode m, String f) {
        JsonNode v = m.get(f);
        if (v == null || !v.isIntegralNumber() || v.asInt() < 1) {
            defect(line, Defect.Kind.META_FIELD, "meta field '" + f + "' is " + describe(v)
                    + "; expected a positive integer");
            return -1;
        }
        return v.asInt();
    }

    private void checkRoute(long line, JsonNode r) {
        routeLines++;
        JsonNode req = r.get("req_id");
        JsonNode tok = r.get("token_idx");
        JsonNode layerNode = r.get("layer");
        JsonNode ids = r.get("topk_ids");
        JsonNode weights = r.get("topk_weights");
        boolean ok = true;
        if (req == null || !(req.isIntegralNumber() || req.isTextual())) {
            ok = fieldDefect(line, "req_id", req, "an integer or a string");
        }
        if (tok == null || !tok.isIntegralNumber() || tok.asLong() < 0) {
            ok = fieldDefect(line, "token_idx", tok, "a non-negative integer");
        }
        if (layerNode == null || !layerNode.isIntegralNumber()) {
            ok = fieldDefect(line, "layer", layerNode, "an integer");
        }
        if (ids == null || !ids.isArray()) {
            ok = fieldDefect(line, "topk_ids", ids, "an array of integers");
        } else {
            for (JsonNode id : ids) {
                if (!id.isIntegralNumber()) {
                    ok = fieldDefect(line, "topk_ids entry", id, "an integer");
                    break;
                }
            }
        }
        if (weights == null || !(weights.isNull() || weights.isArray())) {
            ok = fieldDefect(line, "topk_weights", weights, "an array of numbers or null");
        } else if (weights.isArray()) {
            for (JsonNode w : weights) {
                if (!w.isNumber()) {
                    ok = fieldDefect(line, "topk_weights entry", w, "a number");
                    break;
                }
            }
        }
        JsonNode phase = r.get("phase");
        if (phase != null && !(phase.isTextual() && ("prefill".equals(phase.asText())
                || "decode".equals(phase.asText())))) {
            ok = fieldDefect(line, "phase", phase, "\"prefill\" or \"decode\" (or no phase field)");
        }
        if (!ok) {
            return;
        }
        int layer = layerNode.asInt();
        linesPerLayer.merge(layer, 1L, Long::sum);
        if (layersLogged != null && !layersLogged.contains(layer)) {
            defect(line, Defect.Kind.LAYER_NOT_LOGGED, "layer " + layer + " is not among layers_logged");
        }
        checkIds(line, ids);
        if (weights.isArray()) {
            checkWeights(line, weights, ids.size());
        }
        Object key = req.isTextual() ? req.asText() : (Object) req.asLong();
        Track t = tracks.computeIfAbsent(key, x -> new HashMap<>()).computeIfAbsent(layer, x -> new Track());
        long idx = tok.asLong();
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

    private void checkIds(long line, JsonNode ids) {
        if (topK > 0 && ids.size() != topK) {
            defect(line, Defect.Kind.TOPK_LENGTH, "topk_ids has " + ids.size() + " entries; top_k is " + topK);
        }
        Set<Integer> seen = new HashSet<>();
        for (JsonNode id : ids) {
            int e = id.asInt();
            if (!seen.add(e)) {
                defect(line, Defect.Kind.TOPK_DUPLICATE, "expert " + e + " appears twice in topk_ids " + ids);
            }
            if (e < 0 || (experts > 0 && e >= experts) || !id.canConvertToInt()) {
                defect(line, Defect.Kind.TOPK_RANGE, "expert id " + id + " outside [0, " + (experts - 1) + "]");
            }
        }
    }

    private void checkWeights(long line, JsonNode weights, int nIds) {
        if (weights.size() != nIds) {
            defect(line, Defect.Kind.WEIGHTS_LENGTH, "topk_weights has " + weights.size() + " entries, topk_ids "
                    + nIds);
        }
        double previous = Double.POSITIVE_INFINITY;
        double sum = 0;
        for (JsonNode w : weights) {
            double v = w.asDouble();
            if (!Double.isFinite(v)) {
                defect(line, Defect.Kind.WEIGHT_NOT_FINITE, "weight " + w + " is not finite");
                continue;
            }
            if (v < 0 || v > 1) {
                defect(line, Defect.Kind.WEIGHT_RANGE, "weight " + w + " outside [0, 1]");
            }
            if (v > previous) {
                defect(line, Defect.Kind.WEIGHTS_INCREASING, "weights " + weights + " increase (expected"
                        + " non-increasing, as top-k returns them)");
            }
            previous = v;
            sum += v;
        }
        // float32 weights printed shortest-form can add up to a hair over 1 after renormalisation
        if (sum > 1 + 1e-5 * Math.max(1, weights.size())) {
            defect(line, Defect.Kind.WEIGHTS_SUM, "weights " + weights + " sum to " + sum + " > 1");
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

    private boolean fieldDefect(long line, String field, JsonNode v, String expected) {
        defect(line, Defect.Kind.ROUTE_FIELD, "'" + field + "' is " + describe(v) + "; expected " + expected);
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
