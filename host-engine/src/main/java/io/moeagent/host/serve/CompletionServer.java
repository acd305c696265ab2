package io.moeagent.host.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.moeagent.host.generate.GenerationProgress;
import io.moeagent.host.generate.GenerationRequest;
import io.moeagent.host.generate.GenerationResult;
import io.moeagent.host.generate.GenerationStats;
import io.moeagent.host.generate.Generator;
import io.moeagent.host.generate.SamplingConfig;
import io.moeagent.host.tokenizer.TextTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * OpenAI-style, non-streaming {@code POST /v1/completions} and {@code POST /v1/chat/completions}, plus
 * {@code GET /health}, on the JDK's HTTP server. Requests are answered one at a time (the generator is serialised);
 * each gets the next id of a counter, which is also its request id in the engine's step contexts.
 */
public final class CompletionServer {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY_BYTES = 4 << 20;

    private final HttpServer http;
    private final ExecutorService executor;
    private final Generator generator;
    private final TextTokenizer tokenizer;
    private final String modelId;
    private final boolean chatModel;
    private final long defaultSeed;
    private final int maxPositions;
    private final AtomicLong nextRequestId = new AtomicLong();

    private CompletionServer(HttpServer http, Generator generator, TextTokenizer tokenizer, String modelId,
                             boolean chatModel, long defaultSeed, int maxPositions) {
        this.http = http;
        this.executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "host-http");
            t.setDaemon(true);
            return t;
        });
        this.generator = generator;
        this.tokenizer = tokenizer;
        this.modelId = modelId;
        this.chatModel = chatModel;
        this.defaultSeed = defaultSeed;
        this.maxPositions = maxPositions;
    }

    public static CompletionServer start(String bindAddress, int port, Generator generator, TextTokenizer tokenizer,
                                         String modelId, boolean chatModel, long defaultSeed, int maxPositions) {
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(bindAddress, port), 0);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot listen on " + bindAddress + ":" + port + " (" + e.getMessage()
                    + "); pick another --port, or 0 for a free one");
        }
        CompletionServer server = new CompletionServer(http, generator, tokenizer, modelId, chatModel, defaultSeed,
                maxPositions);
        http.setExecutor(server.executor);
        http.createContext("/v1/completions", e -> server.handle(e, false));
        http.createContext("/v1/chat/completions", e -> server.handle(e, true));
        http.createContext("/health", server::health);
        http.createContext("/", e -> server.send(e, 404, error("no such endpoint: " + e.getRequestURI().getPath()
                + "; use POST /v1/completions, POST /v1/chat/completions or GET /health")));
        http.start();
        return server;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /** Stops accepting, lets a running request finish for up to 2 s, then stops the worker threads. */
    public void stop() {
        http.stop(2);
        executor.shutdownNow();
    }

    private void health(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestMethod().equals("GET")) {
            send(exchange, 405, error("use GET /health"));
            return;
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("status", "ok");
        body.put("model", modelId);
        send(exchange, 200, body);
    }

    private void handle(HttpExchange exchange, boolean chat) throws IOException {
        try {
            if (!exchange.getRequestMethod().equals("POST")) {
                send(exchange, 405, error("use POST with a JSON body"));
                return;
            }
            CompletionRequest request = CompletionRequest.parse(readJson(exchange), chat, this::formatChat);
            send(exchange, 200, complete(request));
        } catch (BadRequest e) {
            send(exchange, 400, error(e.getMessage()));
        } catch (RuntimeException e) {
            send(exchange, 500, error("internal error: " + e));
        }
    }

    private ObjectNode complete(CompletionRequest request) {
        long[] promptIds = tokenizer.encode(request.prompt());
        if (promptIds.length == 0) {
            throw new BadRequest("the prompt encodes to no tokens");
        }
        if (promptIds.length + request.maxTokens() > maxPositions) {
            throw new BadRequest("prompt (" + promptIds.length + " tokens) + max_tokens (" + request.maxTokens()
                    + ") exceeds the model's " + maxPositions + " positions");
        }
        long id = nextRequestId.getAndIncrement();
        SamplingConfig sampling = new SamplingConfig(request.temperature(), request.topP(),
                request.seed() == null ? defaultSeed : request.seed());
        GenerationStats stats = new GenerationStats();
        GenerationResult result = generator.generate(List.of(new GenerationRequest(id, promptIds, request.maxTokens())),
                1, sampling, stats, GenerationProgress.NONE).get(0);
        String completion = tokenizer.decode(result.generatedIds());

        ObjectNode body = JSON.createObjectNode();
        body.put("id", (request.chat() ? "chatcmpl-" : "cmpl-") + id);
        body.put("object", request.chat() ? "chat.completion" : "text_completion");
        body.put("created", System.currentTimeMillis() / 1000);
        body.put("model", modelId);
        ObjectNode choice = body.putArray("choices").addObject();
        choice.put("index", 0);
        if (request.chat()) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", completion);
        } else {
            choice.put("text", completion);
        }
        choice.put("finish_reason", result.finishReason().wireName());
        ObjectNode usage = body.putObject("usage");
        usage.put("prompt_tokens", promptIds.length);
        usage.put("completion_tokens", result.generatedIds().length);
        usage.put("total_tokens", promptIds.length + result.generatedIds().length);
        return body;
    }

    /**
     * One user message goes through the tokenizer's own prompt format; a conversation is written in ChatML (the
     * Qwen chat format) for chat models, or as plain lines otherwise.
     */
    private String formatChat(JsonNode messages) {
        StringBuilder chatMl = new StringBuilder();
        StringBuilder plain = new StringBuilder();
        for (JsonNode message : messages) {
            JsonNode role = message.get("role");
            JsonNode content = message.get("content");
            if (role == null || !role.isTextual() || content == null || !content.isTextual()) {
                throw new BadRequest("every message needs a string 'role' and a string 'content'");
            }
            chatMl.append("<|im_start|>").append(role.asText()).append('\n').append(content.asText())
                    .append("<|im_end|>\n");
            plain.append(content.asText()).append('\n');
        }
        if (messages.size() == 1 && messages.get(0).get("role").asText().equals("user")) {
            return tokenizer.formatPrompt(messages.get(0).get("content").asText());
        }
        return chatModel ? chatMl.append("<|im_start|>assistant\n").toString() : plain.toString();
    }

    private static JsonNode readJson(HttpExchange exchange) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new BadRequest("the request body is larger than " + MAX_BODY_BYTES + " bytes");
        }
        try {
            return JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new BadRequest("the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static ObjectNode error(String message) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode error = body.putObject("error");
        error.put("message", message);
        error.put("type", "invalid_request_error");
        return body;
    }

    private void send(HttpExchange exchange, int status, ObjectNode body) throws IOException {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
        exchange.close();
    }
}
