package io.moeagent.host.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeagent.host.generate.ContinuousBatcher;
import io.moeagent.host.generate.GenerationRequest;
import io.moeagent.host.generate.GenerationResult;
import io.moeagent.host.generate.SamplingConfig;
import io.moeagent.host.tokenizer.TextTokenizer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * OpenAI-compatible {@code POST /v1/completions} and {@code POST /v1/chat/completions} (whole answers, or server-sent
 * events with {@code "stream": true}), {@code GET /v1/models} and {@code GET /health}, on Jetty. Each request gets
 * the next id of a counter (also its request id in the engine's step contexts) and joins the running batch of the
 * {@link ContinuousBatcher}; its worker thread turns the tokens into text and writes them as they come.
 */
public final class CompletionServer {
    private final Server http;
    private final ServerConnector connector;
    private final ContinuousBatcher batcher;
    private final TextTokenizer tokenizer;
    private final OpenAiJson json;
    private final boolean chatModel;
    private final long defaultSeed;
    private final int maxPositions;
    private final ServerLimits limits;
    private final AtomicLong nextRequestId = new AtomicLong();

    private CompletionServer(String bindAddress, int port, ContinuousBatcher batcher, TextTokenizer tokenizer,
                             String modelId, boolean chatModel, long defaultSeed, int maxPositions,
                             ServerLimits limits) {
        this.batcher = batcher;
        this.tokenizer = tokenizer;
        this.json = new OpenAiJson(modelId);
        this.chatModel = chatModel;
        this.defaultSeed = defaultSeed;
        this.maxPositions = maxPositions;
        this.limits = limits;
        QueuedThreadPool threads = new QueuedThreadPool(limits.threads(), Math.min(4, limits.threads()));
        threads.setName("host-http");
        threads.setDaemon(true);
        this.http = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setRequestHeaderSize(limits.maxHeaderBytes());
        config.setSendServerVersion(false);
        config.setSendDateHeader(false);
        // one acceptor and one selector thread: a connection costs no worker thread until its headers are in
        this.connector = new ServerConnector(http, 1, 1, new HttpConnectionFactory(config));
        connector.setHost(bindAddress);
        connector.setPort(port);
        connector.setIdleTimeout(limits.idleTimeoutMillis());
        connector.setAcceptQueueSize(64);
        http.addConnector(connector);
        http.addBean(new NetworkConnectionLimit(limits.maxConnections(), http));
        http.setErrorHandler(new JsonErrors());
        http.setHandler(new Routes());
        http.setStopTimeout(2000);
    }

    public static CompletionServer start(String bindAddress, int port, ContinuousBatcher batcher,
                                         TextTokenizer tokenizer, String modelId, boolean chatModel, long defaultSeed,
                                         int maxPositions, ServerLimits limits) {
        CompletionServer server = new CompletionServer(bindAddress, port, batcher, tokenizer, modelId, chatModel,
                defaultSeed, maxPositions, limits);
        try {
            server.http.start();
        } catch (Exception e) {
            server.stop();
            throw new IllegalArgumentException("cannot listen on " + bindAddress + ":" + port + " (" + e.getMessage()
                    + "); pick another --port, or 0 for a free one");
        }
        return server;
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** Stops accepting, lets running answers finish for up to 2 s, then stops the worker threads. */
    public void stop() {
        try {
            http.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the HTTP server failed: " + e, e);
        }
    }

    /** Dispatches by path; every refusal is a JSON error with a message saying what to do. */
    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = request.getHttpURI().getPath();
            String method = request.getMethod();
            try {
                switch (path == null ? "" : path) {
                    case "/health" -> {
                        requireMethod(method, "GET", "/health");
                        ObjectNode body = OpenAiJson.JSON.createObjectNode();
                        body.put("status", "ok");
                        body.put("model", json.modelId());
                        send(response, callback, 200, body);
                    }
                    case "/v1/models" -> {
                        requireMethod(method, "GET", "/v1/models");
                        send(response, callback, 200, json.models());
                    }
                    case "/v1/completions" -> complete(request, response, callback, false);
                    case "/v1/chat/completions" -> complete(request, response, callback, true);
                    default -> {
                        if (path != null && path.equals("/v1/models/" + json.modelId())) {
                            requireMethod(method, "GET", path);
                            send(response, callback, 200, json.model());
                        } else if (path != null && path.startsWith("/v1/models/")) {
                            throw new BadRequest(404, "no model '" + path.substring("/v1/models/".length())
                                    + "'; this server serves '" + json.modelId() + "' (GET /v1/models)");
                        } else {
                            throw new BadRequest(404, "no such endpoint: " + path + "; use POST /v1/completions, POST"
                                    + " /v1/chat/completions, GET /v1/models or GET /health");
                        }
                    }
                }
            } catch (BadRequest e) {
                send(response, callback, e.status(), OpenAiJson.error(e.getMessage(),
                        e.status() == 404 ? "not_found_error" : "invalid_request_error"));
            } catch (RuntimeException e) {
                send(response, callback, 500, OpenAiJson.error("internal error: " + e, "server_error"));
            }
            return true;
        }
    }

    private static void requireMethod(String method, String expected, String path) {
        if (!method.equals(expected)) {
            throw new BadRequest(405, "use " + expected + " " + path);
        }
    }

    private void complete(Request httpRequest, Response response, Callback callback, boolean chat) {
        requireMethod(httpRequest.getMethod(), "POST", chat ? "/v1/chat/completions" : "/v1/completions");
        CompletionRequest request = CompletionRequest.parse(readJson(httpRequest), chat, this::formatChat,
                maxPositions);
        long[] promptIds = tokenizer.encode(request.prompt());
        if (promptIds.length == 0) {
            throw new BadRequest("the prompt encodes to no tokens");
        }
        if (promptIds.length + request.maxTokens() > maxPositions) {
            throw new BadRequest("prompt (" + promptIds.length + " tokens) + max_tokens (" + request.maxTokens()
                    + ") is too large: the model has " + maxPositions + " positions; shorten the prompt or lower"
                    + " max_tokens");
        }
        long id = nextRequestId.getAndIncrement();
        SamplingConfig sampling = new SamplingConfig(request.temperature(), request.topP(),
                request.seed() == null ? defaultSeed : request.seed());
        Answer answer = new Answer(request, id, promptIds.length, new IncrementalText(tokenizer, request.stop()));
        ContinuousBatcher.Handle handle;
        try {
            handle = batcher.submit(new GenerationRequest(id, promptIds, request.maxTokens()), sampling, answer);
        } catch (IllegalStateException e) {
            throw new BadRequest(503, "the server is shutting down");
        }
        if (request.stream()) {
            answer.stream(response, callback, handle);
        } else {
            answer.whole(response, callback, handle);
        }
    }

    /** One request's answer: tokens arrive on the engine thread and are turned into text on the worker thread. */
    private final class Answer implements ContinuousBatcher.Listener {
        private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        private final CompletionRequest request;
        private final long id;
        private final int promptTokens;
        private final IncrementalText text;

        Answer(CompletionRequest request, long id, int promptTokens, IncrementalText text) {
            this.request = request;
            this.id = id;
            this.promptTokens = promptTokens;
            this.text = text;
        }

        @Override
        public void onToken(long tokenId) {
            events.add(tokenId);
        }

        @Override
        public void onFinish(GenerationResult result) {
            events.add(result);
        }

        @Override
        public void onError(RuntimeException error) {
            events.add(error);
        }

        /** Calls {@code piece} with each final piece of text; returns the finish reason. */
        private String run(ContinuousBatcher.Handle handle, PieceSink piece) throws IOException {
            try {
                while (true) {
                    Object event = events.take();
                    if (event instanceof Long token) {
                        piece.accept(text.add(token));
                        if (text.stopped()) {
                            handle.cancel();
                            return "stop";
                        }
                    } else if (event instanceof GenerationResult result) {
                        piece.accept(text.finish());
                        return result.finishReason().wireName();
                    } else {
                        throw (RuntimeException) event;
                    }
                }
            } catch (InterruptedException e) {
                handle.cancel();
                Thread.currentThread().interrupt();
                throw new BadRequest(503, "the server is shutting down");
            } catch (IOException | RuntimeException e) {
                handle.cancel();
                throw e;
            }
        }

        void whole(Response response, Callback callback, ContinuousBatcher.Handle handle) {
            String finish;
            try {
                finish = run(handle, piece -> { });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            send(response, callback, 200, json.completion(request.chat(), id, text.text(), finish, promptTokens,
                    text.tokens()));
        }

        void stream(Response response, Callback callback, ContinuousBatcher.Handle handle) {
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
            OutputStream out = Content.Sink.asOutputStream(response);
            boolean[] first = {true};
            try {
                if (request.chat()) { // OpenAI's first chat chunk carries the role only
                    event(out, json.chunk(true, id, "", true, null));
                    first[0] = false;
                }
                String finish;
                try {
                    finish = run(handle, piece -> {
                        if (!piece.isEmpty()) {
                            event(out, json.chunk(request.chat(), id, piece, first[0], null));
                            first[0] = false;
                        }
                    });
                } catch (RuntimeException e) {
                    event(out, OpenAiJson.error(e instanceof BadRequest ? e.getMessage() : "internal error: " + e,
                            "server_error"));
                    out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                    out.close();
                    callback.succeeded();
                    return;
                }
                event(out, json.chunk(request.chat(), id, request.chat() ? null : "", first[0], finish));
                if (request.includeUsage()) {
                    event(out, json.usageChunk(request.chat(), id, promptTokens, text.tokens()));
                }
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.close();
                callback.succeeded();
            } catch (IOException e) { // the client went away: its row has left the batch
                handle.cancel();
                callback.failed(e);
            }
        }

        private void event(OutputStream out, ObjectNode body) throws IOException {
            out.write(("data: " + write(body) + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    @FunctionalInterface
    private interface PieceSink {
        void accept(String piece) throws IOException;
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

    /** The body as JSON, refusing with 413 what is larger than the limit (announced or found while reading). */
    private JsonNode readJson(Request request) {
        int max = limits.maxBodyBytes();
        String tooLarge = "the request body is larger than " + max + " bytes; send a shorter prompt";
        if (request.getLength() > max) {
            throw new BadRequest(413, tooLarge);
        }
        byte[] bytes;
        try (InputStream in = Request.asInputStream(request)) {
            bytes = in.readNBytes(max + 1);
        } catch (IOException e) {
            throw new BadRequest("the request body could not be read: " + e.getMessage());
        }
        if (bytes.length > max) {
            throw new BadRequest(413, tooLarge);
        }
        try {
            return OpenAiJson.JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new BadRequest("the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadRequest("the body could not be parsed: " + e.getMessage());
        }
    }

    private static String write(ObjectNode body) {
        try {
            return OpenAiJson.JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void send(Response response, Callback callback, int status, ObjectNode body) {
        byte[] bytes = write(body).getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    /** Jetty's own refusals (bad request lines, over-size headers, ...) as OpenAI-style JSON too. */
    private static final class JsonErrors extends ErrorHandler {
        @Override
        protected void generateResponse(Request request, Response response, int code, String message,
                                        Throwable cause, Callback callback) {
            send(response, callback, code, OpenAiJson.error(message == null ? "HTTP " + code : message,
                    "invalid_request_error"));
        }
    }
}
