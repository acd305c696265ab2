package io.moeagent.analyzer.source;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.AnalyzerException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Streams an exported routes JSONL file for the commands that only consume it (stats, plot). It stops at the
 * first line it cannot use, naming the line; {@code validate} is the command that lists every defect.
 */
public final class JsonlRoutes {
    /** Receives the meta line, then each route line; the route object is reused. */
    public interface Visitor {
        void onMeta(RunInfo meta);

        void onRoute(Route route);
    }

    /** The meta line's fields that consumers need. */
    public record RunInfo(JsonNode json, String modelId, int numExperts, int topK, int[] layersLogged) {
    }

    /** One route line; arrays are reused, valid for {@code k} entries. */
    public static final class Route {
        public long line;
        /** The numeric req_id, or a 64-bit hash of a textual one (merged exports: "source:id"). */
        public long request;
        public int tokenIdx;
        /** The row's input token id (schema 2 {@code token_id}); valid when {@link #hasTokenId}. */
        public int tokenId;
        public boolean hasTokenId;
        public int layer;
        /** "prefill", "decode" or null when the line has no phase. */
        public String phase;
        public int k;
        public int[] ids = new int[16];
        public float[] weights = new float[16];
        public boolean hasWeights;
    }

    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonFactory FACTORY = MAPPER.getFactory();

    private JsonlRoutes() {
    }

    public static void read(Path file, Visitor visitor) {
        checkFile(file);
        long lineNo = 0;
        try (InputStream in = Files.newInputStream(file)) {
            ByteLines lines = new ByteLines(in);
            Route r = new Route();
            int cap = Integer.MAX_VALUE;
            while (lines.next()) {
                lineNo++;
                try (JsonParser p = FACTORY.createParser(lines.line, lines.lineStart, lines.lineLength)) {
                    JsonToken t = p.nextToken();
                    if (lineNo == 1) {
                        if (t != JsonToken.START_OBJECT) {
                            throw bad(file, 1, "the first line is not a JSON object; expected the meta line");
                        }
                        JsonNode meta = MAPPER.readTree(p);
                        RunInfo info = runInfo(file, meta);
                        cap = info.topK();
                        visitor.onMeta(info);
                    } else {
                        if (t != JsonToken.START_OBJECT) {
                            throw bad(file, lineNo, t == null ? "empty line" : "not a JSON object");
                        }
                        r.line = lineNo;
                        if (readRoute(file, p, r, cap)) {
                            visitor.onRoute(r);
                        }
                    }
                    if (p.nextToken() != null) {
                        throw bad(file, lineNo, "more than one JSON value on the line");
                    }
                }
            }
            if (lineNo == 0) {
                throw new AnalyzerException(file + " is empty; export a queue first (analyzer export --queue DIR"
                        + " --out " + file + ")");
            }
        } catch (JsonProcessingException e) {
            throw new AnalyzerException(file + " line " + lineNo + ": malformed JSON (" + e.getOriginalMessage()
                    + "); run 'analyzer validate " + file + "' for every defect", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fails with one message when {@code file} is missing, a directory, or empty. */
    public static void checkFile(Path file) {
        if (Files.isDirectory(file)) {
            throw new AnalyzerException(file + " is a directory; to read a queue use --queue " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new AnalyzerException("no such file: " + file);
        }
    }

    static RunInfo runInfo(Path file, JsonNode meta) {
        if (!"meta".equals(meta.path("type").asText())) {
            throw new AnalyzerException(file + " line 1: expected {\"type\":\"meta\",...}; is this an analyzer export?");
        }
        int experts = meta.path("num_experts").asInt(-1);
        int topK = meta.path("top_k").asInt(-1);
        if (experts < 1 || topK < 1) {
            throw new AnalyzerException(file + " line 1: the meta line lacks a positive num_experts and top_k;"
                    + " run 'analyzer validate " + file + "'");
        }
        JsonNode layers = meta.path("layers_logged");
        int[] logged = new int[layers.size()];
        for (int i = 0; i < logged.length; i++) {
            logged[i] = layers.get(i).asInt();
        }
        return new RunInfo(meta, meta.path("model_id").asText(""), experts, topK, logged);
    }

    /** @return false for a line that is not a route (skipped) */
    private static boolean readRoute(Path file, JsonParser p, Route r, int cap) throws IOException {
        boolean route = false;
        boolean haveLayer = false;
        boolean haveIds = false;
        r.phase = null;
        r.hasWeights = false;
        r.hasTokenId = false;
        r.request = 0;
        int nWeights = 0;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
            String name = p.currentName();
            t = p.nextToken();
            switch (name) {
                case "type" -> {
                    route = "route".equals(p.getValueAsString());
                }
                case "req_id" -> r.request = t == JsonToken.VALUE_NUMBER_INT ? p.getLongValue()
                        : textKey(p.getValueAsString(""));
                case "token_idx" -> r.tokenIdx = intValue(file, p, r, name);
                case "token_id" -> {
                    if (t != JsonToken.VALUE_NULL) {
                        r.tokenId = intValue(file, p, r, name);
                        r.hasTokenId = true;
                    }
                }
                case "layer" -> {
                    r.layer = intValue(file, p, r, name);
                    haveLayer = true;
                }
                case "phase" -> r.phase = t == JsonToken.VALUE_NULL ? null : p.getValueAsString();
                case "topk_ids" -> {
                    expect(file, r.line, t == JsonToken.START_ARRAY, "topk_ids is not an array");
                    int k = 0;
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        // bounded by the meta line's top_k before anything is held
                        expect(file, r.line, k < cap, "topk_ids has more than top_k (" + cap + ") entries");
                        if (k == r.ids.length) {
                            r.ids = Arrays.copyOf(r.ids, k * 2);
                        }
                        r.ids[k++] = intValue(file, p, r, name);
                    }
                    r.k = k;
                    haveIds = true;
                }
                case "topk_weights" -> {
                    if (t != JsonToken.VALUE_NULL) {
                        expect(file, r.line, t == JsonToken.START_ARRAY, "topk_weights is neither an array nor null");
                        int k = 0;
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            expect(file, r.line, k < cap, "topk_weights has more than top_k (" + cap + ") entries");
                            if (k == r.weights.length) {
                                r.weights = Arrays.copyOf(r.weights, k * 2);
                            }
                            expect(file, r.line, p.currentToken().isNumeric(), "topk_weights holds a non-number");
                            r.weights[k++] = p.getFloatValue();
                        }
                        nWeights = k;
                        r.hasWeights = true;
                    }
                }
                default -> p.skipChildren();
            }
        }
        if (!route) {
            return false;
        }
        expect(file, r.line, haveLayer && haveIds, "a route line lacks layer or topk_ids");
        expect(file, r.line, !r.hasWeights || nWeights == r.k, "topk_weights and topk_ids differ in length");
        if (r.weights.length < r.k) {
            r.weights = Arrays.copyOf(r.weights, r.ids.length);
        }
        return true;
    }

    /** A 64-bit FNV-1a hash of a textual request id: a key for per-request state, not an identity. */
    static long textKey(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            h = (h ^ s.charAt(i)) * 0x100000001b3L;
        }
        return h;
    }

    private static int intValue(Path file, JsonParser p, Route r, String field) throws IOException {
        expect(file, r.line, p.currentToken() == JsonToken.VALUE_NUMBER_INT, field + " is not an integer");
        return p.getIntValue();
    }

    private static void expect(Path file, long line, boolean ok, String what) {
        if (!ok) {
            throw bad(file, line, what);
        }
    }

    private static AnalyzerException bad(Path file, long line, String what) {
        return new AnalyzerException(file + " line " + line + ": " + what + "; run 'analyzer validate " + file
                + "' for every defect");
    }
}
