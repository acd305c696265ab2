package io.moeagent.host.serve;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/** The fields of an OpenAI-style completion or chat completion request this server honours. */
record CompletionRequest(String prompt, boolean chat, int maxTokens, double temperature, double topP, Long seed,
                         boolean stream, boolean includeUsage, List<String> stop) {
    static final int DEFAULT_MAX_TOKENS = 16;
    /** OpenAI accepts up to 4 stop sequences. */
    static final int MAX_STOP_STRINGS = 4;

    /**
     * Reads {@code body}; chat requests carry {@code messages}, plain ones {@code prompt}. {@code maxPositions} is the
     * model's context: no {@code max_tokens} beyond it can be met.
     */
    static CompletionRequest parse(JsonNode body, boolean chat, ChatFormatter formatter, int maxPositions) {
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
        int maxTokens = maxTokens(body.has("max_tokens") ? body.get("max_tokens") : body.get("max_completion_tokens"),
                maxPositions);
        double temperature = number(body, "temperature", 0, 0, 100);
        double topP = number(body, "top_p", 1, Double.MIN_VALUE, 1);
        Long seed = null;
        JsonNode s = body.get("seed");
        if (s != null && !s.isNull()) {
            if (!s.isIntegralNumber() || !s.canConvertToLong()) {
                throw new BadRequest("'seed' must be a 64-bit integer");
            }
            seed = s.asLong();
        }
        boolean stream = flag(body, "stream");
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!options.isObject() || !stream) {
                throw new BadRequest("'stream_options' must be an object, and only goes with \"stream\": true");
            }
            includeUsage = flag(options, "include_usage");
        }
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && (!n.isIntegralNumber() || n.asLong() != 1)) {
            throw new BadRequest("'n': only n=1 is supported");
        }
        return new CompletionRequest(prompt, chat, maxTokens, temperature, topP, seed, stream, includeUsage,
                stop(body.get("stop")));
    }

    private static int maxTokens(JsonNode m, int maxPositions) {
        if (m == null || m.isNull()) {
            return Math.min(DEFAULT_MAX_TOKENS, maxPositions - 1);
        }
        if (!m.isNumber()) {
            throw new BadRequest("'max_tokens' must be an integer >= 1");
        }
        double value = m.asDouble();
        boolean whole = m.isIntegralNumber() || value == Math.rint(value);
        if (whole && (m.isBigInteger() || value >= maxPositions)) {
            throw new BadRequest("'max_tokens' " + m.asText() + " is too large: the model has " + maxPositions
                    + " positions for the prompt and the completion together");
        }
        if (!whole || value < 1) {
            throw new BadRequest("'max_tokens' must be an integer >= 1, got " + m.asText());
        }
        return (int) value;
    }

    private static List<String> stop(JsonNode stop) {
        List<String> stops = new ArrayList<>();
        if (stop == null || stop.isNull()) {
            return stops;
        }
        if (stop.isTextual()) {
            stops.add(stop.asText());
        } else if (stop.isArray() && stop.size() <= MAX_STOP_STRINGS) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw new BadRequest("'stop' must be a string or an array of up to 4 strings");
                }
                stops.add(s.asText());
            }
        } else {
            throw new BadRequest("'stop' must be a string or an array of up to 4 strings");
        }
        if (stops.stream().anyMatch(String::isEmpty)) {
            throw new BadRequest("'stop' strings must not be empty");
        }
        return List.copyOf(stops);
    }

    private static boolean flag(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new BadRequest("'" + field + "' must be true or false");
        }
        return v.asBoolean();
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
