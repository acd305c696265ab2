package io.moeagent.host.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Streaming, stop strings, model listing and concurrent requests against a forked {@code serve}. */
class ServeStreamingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PROMPTS = {"Tom has 3 apples.", "What is 7 * 6?", "Name a colour.",
        "Count to five:", "A short story about a cat.", "Why is the sky blue?"};
    private static ForkedServer server;

    @BeforeAll
    static void start() throws IOException {
        server = ForkedServer.start("--max-batch", "4", "--prefill-chunk", "5", "--max-batch-tokens", "12");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** The SSE events of a response: the JSON of every {@code data:} line, checked to end with [DONE]. */
    static List<JsonNode> events(HttpResponse<String> response) throws IOException {
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> events = new ArrayList<>();
        String[] blocks = response.body().split("\n\n");
        assertEquals("data: [DONE]", blocks[blocks.length - 1], "the stream ends with [DONE]");
        for (int i = 0; i < blocks.length - 1; i++) {
            assertTrue(blocks[i].startsWith("data: "), blocks[i]);
            events.add(JSON.readTree(blocks[i].substring("data: ".length())));
        }
        return events;
    }

    private static String body(String prompt, int maxTokens, boolean stream, String extra) {
        return "{\"prompt\": " + JSON.valueToTree(prompt) + ", \"max_tokens\": " + maxTokens + ", \"stream\": " + stream
                + extra + "}";
    }

    @Test
    void streamedTextEqualsTheWholeAnswer() throws Exception {
        JsonNode whole = JSON.readTree(server.post("/v1/completions", body(PROMPTS[0], 12, false, "")).body());
        List<JsonNode> events = events(server.post("/v1/completions", body(PROMPTS[0], 12, true,
                ", \"stream_options\": {\"include_usage\": true}")));
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < events.size() - 1; i++) {
            JsonNode event = events.get(i);
            assertEquals("text_completion", event.get("object").asText());
            assertTrue(event.get("id").asText().startsWith("cmpl-"));
            text.append(event.get("choices").get(0).get("text").asText());
            boolean last = i == events.size() - 2;
            assertEquals(last, !event.get("choices").get(0).get("finish_reason").isNull(), "finish_reason only last");
        }
        JsonNode usage = events.get(events.size() - 1);
        assertEquals(0, usage.get("choices").size());
        assertEquals(whole.get("usage"), usage.get("usage"));
        assertEquals(whole.get("choices").get(0).get("text").asText(), text.toString());
        assertEquals(whole.get("choices").get(0).get("finish_reason"),
                events.get(events.size() - 2).get("choices").get(0).get("finish_reason"));
    }

    @Test
    void chatStreamStartsWithTheRoleAndEndsWithAnEmptyDelta() throws Exception {
        String request = "{\"messages\": [{\"role\": \"user\", \"content\": \"How many?\"}], \"max_tokens\": 6,"
                + " \"stream\": true}";
        List<JsonNode> events = events(server.post("/v1/chat/completions", request));
        assertEquals("assistant", events.get(0).get("choices").get(0).get("delta").get("role").asText());
        StringBuilder content = new StringBuilder();
        for (JsonNode event : events) {
            assertEquals("chat.completion.chunk", event.get("object").asText());
            JsonNode delta = event.get("choices").get(0).get("delta");
            if (delta.has("content")) {
                content.append(delta.get("content").asText());
            }
        }
        JsonNode last = events.get(events.size() - 1).get("choices").get(0);
        assertEquals(0, last.get("delta").size());
        assertFalse(last.get("finish_reason").isNull());
        JsonNode whole = JSON.readTree(server.post("/v1/chat/completions", request.replace("true", "false")).body());
        assertEquals(whole.get("choices").get(0).get("message").get("content").asText(), content.toString());
    }

    /** Requests sent together share steps (4 slots, 6 requests) and get exactly their single-request answers. */
    @Test
    void concurrentAnswersEqualSingleAnswers() throws Exception {
        List<String> single = new ArrayList<>();
        for (String prompt : PROMPTS) {
            single.add(JSON.readTree(server.post("/v1/completions", body(prompt, 10, false, "")).body())
                    .get("choices").get(0).get("text").asText());
        }
        ExecutorService pool = Executors.newFixedThreadPool(PROMPTS.length);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < PROMPTS.length; i++) {
                String prompt = PROMPTS[i];
                boolean stream = i % 2 == 0;
                answers.add(pool.submit(() -> {
                    HttpResponse<String> r = server.post("/v1/completions", body(prompt, 10, stream, ""));
                    if (!stream) {
                        return JSON.readTree(r.body()).get("choices").get(0).get("text").asText();
                    }
                    StringBuilder text = new StringBuilder();
                    for (JsonNode event : events(r)) {
                        text.append(event.get("choices").get(0).get("text").asText());
                    }
                    return text.toString();
                }));
            }
            for (int i = 0; i < PROMPTS.length; i++) {
                assertEquals(single.get(i), answers.get(i).get(), "prompt " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void stopStringEndsTheTextBeforeIt() throws Exception {
        JsonNode whole = JSON.readTree(server.post("/v1/completions", body(PROMPTS[1], 16, false, "")).body());
        String text = whole.get("choices").get(0).get("text").asText();
        assertTrue(text.length() >= 4, "need some text to cut: '" + text + "'");
        String stop = text.substring(text.length() / 2, text.length() / 2 + 2);
        String expected = text.substring(0, text.indexOf(stop));
        for (boolean stream : new boolean[] {false, true}) {
            HttpResponse<String> r = server.post("/v1/completions",
                    body(PROMPTS[1], 16, stream, ", \"stop\": [" + JSON.valueToTree(stop) + "]"));
            String got;
            String finish;
            if (stream) {
                StringBuilder b = new StringBuilder();
                List<JsonNode> events = events(r);
                for (JsonNode event : events) {
                    b.append(event.get("choices").get(0).get("text").asText());
                }
                got = b.toString();
                finish = events.get(events.size() - 1).get("choices").get(0).get("finish_reason").asText();
            } else {
                JsonNode choice = JSON.readTree(r.body()).get("choices").get(0);
                got = choice.get("text").asText();
                finish = choice.get("finish_reason").asText();
            }
            assertEquals(expected, got, "stop " + JSON.valueToTree(stop) + " in '" + text + "', stream " + stream);
            assertEquals("stop", finish);
        }
    }

    @Test
    void listsTheModelAndRefusesClearly() throws Exception {
        JsonNode models = JSON.readTree(server.get("/v1/models").body());
        assertEquals("list", models.get("object").asText());
        String id = models.get("data").get(0).get("id").asText();
        assertEquals("synthetic:tiny", id);
        assertEquals(200, server.get("/v1/models/" + id).statusCode());
        HttpResponse<String> missing = server.get("/v1/models/gpt-9");
        assertEquals(404, missing.statusCode());
        assertTrue(missing.body().contains("synthetic:tiny"), missing.body());
        HttpResponse<String> wrongMethod = server.get("/v1/completions");
        assertEquals(405, wrongMethod.statusCode());
        assertTrue(JSON.readTree(wrongMethod.body()).get("error").get("message").asText().contains("POST"));
        HttpResponse<String> nowhere = server.get("/v2/anything");
        assertEquals(404, nowhere.statusCode());
        assertTrue(JSON.readTree(nowhere.body()).get("error").get("message").asText().contains("/v1/models"));
    }
}
