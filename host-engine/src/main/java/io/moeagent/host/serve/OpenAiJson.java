package io.moeagent.host.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The JSON bodies of OpenAI's completion, chat completion, chunk, model list and error objects. */
final class OpenAiJson {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String modelId;
    private final long created = System.currentTimeMillis() / 1000;

    OpenAiJson(String modelId) {
        this.modelId = modelId;
    }

    static String id(boolean chat, long requestId) {
        return (chat ? "chatcmpl-" : "cmpl-") + requestId;
    }

    /** A whole answer: {@code chat.completion} or {@code text_completion}. */
    ObjectNode completion(boolean chat, long requestId, String text, String finishReason, int promptTokens,
                          int completionTokens) {
        ObjectNode body = header(chat, requestId, chat ? "chat.completion" : "text_completion");
        ObjectNode choice = body.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", text);
        } else {
            choice.put("text", text);
            choice.putNull("logprobs");
        }
        choice.put("finish_reason", finishReason);
        usage(body, promptTokens, completionTokens);
        return body;
    }

    /**
     * One streamed piece: a chat delta ({@code role} in the first) or a text piece; {@code finishReason} null until
     * the last.
     */
    ObjectNode chunk(boolean chat, long requestId, String text, boolean first, String finishReason) {
        ObjectNode body = header(chat, requestId, chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = body.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (first) {
                delta.put("role", "assistant");
            }
            if (text != null) {
                delta.put("content", text);
            }
        } else {
            choice.put("text", text == null ? "" : text);
            choice.putNull("logprobs");
        }
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        return body;
    }

    /** The chunk {@code stream_options.include_usage} asks for: no choices, the usage. */
    ObjectNode usageChunk(boolean chat, long requestId, int promptTokens, int completionTokens) {
        ObjectNode body = header(chat, requestId, chat ? "chat.completion.chunk" : "text_completion");
        body.putArray("choices");
        usage(body, promptTokens, completionTokens);
        return body;
    }

    ObjectNode models() {
        ObjectNode body = JSON.createObjectNode();
        body.put("object", "list");
        body.putArray("data").add(model());
        return body;
    }

    ObjectNode model() {
        ObjectNode model = JSON.createObjectNode();
        model.put("id", modelId);
        model.put("object", "model");
        model.put("created", created);
        model.put("owned_by", "moe-agent");
        return model;
    }

    String modelId() {
        return modelId;
    }

    static ObjectNode error(String message, String type) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode error = body.putObject("error");
        error.put("message", message);
        error.put("type", type);
        error.putNull("param");
        error.putNull("code");
        return body;
    }

    private ObjectNode header(boolean chat, long requestId, String object) {
        ObjectNode body = JSON.createObjectNode();
        body.put("id", id(chat, requestId));
        body.put("object", object);
        body.put("created", System.currentTimeMillis() / 1000);
        body.put("model", modelId);
        return body;
    }

    private static void usage(ObjectNode body, int promptTokens, int completionTokens) {
        ObjectNode usage = body.putObject("usage");
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
    }
}
