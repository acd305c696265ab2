package io.moeagent.analyzer.validate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.AnalyzerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The parts of the host's {@code --report} JSON that validate checks a routes file against. */
public record RunReport(Path file, long tokensForwarded, int[] moeLayers, int numExperts, int topK,
                        Map<Long, Request> requests) {

    /** Per request: prompt and generated token counts. */
    public record Request(long id, int promptTokens, int generatedTokens) {
        /** The positions that were fed through the model: every prompt token and every generated one but the last. */
        public int forwardedTokens() {
            return promptTokens + Math.max(0, generatedTokens - 1);
        }
    }

    public static RunReport read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new AnalyzerException("--run " + file + ": no such file (pass the host's --report JSON)");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new AnalyzerException("--run " + file + ": not valid JSON (" + e.getMessage().lines().findFirst()
                    .orElse("") + "); pass the host's --report file", e);
        }
        if (root == null || !root.isObject()) {
            throw new AnalyzerException("--run " + file + ": not a JSON object; pass the host's --report file");
        }
        long forwarded = need(file, root, "tokens_forwarded").asLong();
        JsonNode layers = need(file, root, "moe_layers");
        int[] moe = new int[layers.size()];
        for (int i = 0; i < moe.length; i++) {
            moe[i] = layers.get(i).asInt();
        }
        Map<Long, Request> requests = new LinkedHashMap<>();
        for (JsonNode r : need(file, root, "requests")) {
            long id = need(file, r, "req_id").asLong();
            requests.put(id, new Request(id, need(file, r, "prompt_tokens").asInt(),
                    need(file, r, "generated_tokens").asInt()));
        }
        return new RunReport(file, forwarded, moe, root.path("num_experts").asInt(-1), root.path("top_k").asInt(-1),
                requests);
    }

    private static JsonNode need(Path file, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new AnalyzerException("--run " + file + ": no '" + field + "' field; is this the host's --report"
                    + " JSON (host run --report run.json)?");
        }
        return v;
    }
}
