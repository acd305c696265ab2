package io.moeagent.host.serve;

import com.fasterxml.jackson.databind.JsonNode;

/** The fields of an OpenAI-style completion or chat completion request this server honours. */
record CompletionRequest(String prompt, boolean chat, int maxTokens, double temperature, double topP, Long seed) {
    static final int DEFAULT_MAX_TOKENS = 16;

    /** Reads {@code body}; chat requests carry {@code messages}, plain ones {@code prompt}. */
    static CompletionRequest parse(JsonNode body, boolean chat, ChatFormatter formatter) {
        if (body == null || !body.isObject()) {
            throw new BadRequest("the request body must be a JSON object");
        }
        String prompt;
        if (chat) {
            JsonNode messages = body.get("messages");
            if (messages == null || !messages.isArray() || messages.isEmpty()) {
                throw new BadRequest("'messages' must be a non-empty array of {\"role\", \"content\"} objects");
            }
            prompt = formatter.format(messages);
        } else {
            JsonNode p = body.get("prompt");
            if (p == null || !p.isTextual() || p.asText().isEmpty()) {
                throw new BadRequest("'prompt' must be a non-empty string");
            }
            prompt = p.asText();
        }
        int maxTokens = DEFAULT_MAX_TOKENS;
        JsonNode m = body.has("max_tokens") ? body.get("max_tokens") : body.get("max_completion_tokens");
        if (m != null && !m.isNull()) {
            if (!m.isIntegralNumber() || m.asLong() < 1 || m.asLong() > 100_000) {
                throw new BadRequest("'max_tokens' must be an integer >= 1");
            }
            maxTokens = m.asInt();
        }
        double temperature = number(body, "temperature", 0, 0, 100);
        double topP = number(body, "top_p", 1, Double.MIN_VALUE, 1);
        Long seed = null;
        JsonNode s = body.get("seed");
        if (s != null && !s.isNull()) {
            if (!s.isIntegralNumber()) {
                throw new BadRequest("'seed' must be an integer");
            }
            seed = s.asLong();
        }
        if (body.has("stream") && body.get("stream").asBoolean(false)) {
            throw new BadRequest("'stream': streaming is not supported; send stream=false");
        }
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && n.asInt(-1) != 1) {
            throw new BadRequest("'n': only n=1 is supported");
        }
        return new CompletionRequest(prompt, chat, maxTokens, temperature, topP, seed);
    }

    private static double number(JsonNode body, String field, double fallback, double min, double max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber() || !(v.asDouble() >= min && v.asDouble() <= max)) {
            throw new BadRequest("'" + field + "' must be a number in [" + (min == Double.MIN_VALUE ? "0 (excl.)" : min)
                    + ", " + max + "]");
        }
        return v.asDouble();
    }

    /** Turns chat messages into the prompt text the model expects. */
    interface ChatFormatter {
        String format(JsonNode messages);
    }
}
