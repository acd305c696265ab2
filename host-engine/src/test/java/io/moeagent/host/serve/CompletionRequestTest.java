package io.moeagent.host.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompletionRequestTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CompletionRequest.ChatFormatter LAST_CONTENT =
            messages -> messages.get(messages.size() - 1).get("content").asText();

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void defaultsAreGreedyAndShort() throws Exception {
        CompletionRequest r = CompletionRequest.parse(json("{\"prompt\": \"hi\"}"), false, LAST_CONTENT, 2048);
        assertEquals("hi", r.prompt());
        assertEquals(CompletionRequest.DEFAULT_MAX_TOKENS, r.maxTokens());
        assertEquals(0.0, r.temperature());
        assertEquals(1.0, r.topP());
        assertNull(r.seed());
    }

    @Test
    void readsChatMessagesAndSamplingFields() throws Exception {
        CompletionRequest r = CompletionRequest.parse(json("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}],"
                + " \"max_tokens\": 7, \"temperature\": 0.5, \"top_p\": 0.8, \"seed\": 9}"), true, LAST_CONTENT, 2048);
        assertTrue(r.chat());
        assertEquals("q", r.prompt());
        assertEquals(7, r.maxTokens());
        assertEquals(0.5, r.temperature());
        assertEquals(0.8, r.topP());
        assertEquals(9L, r.seed());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[1, 2]|request body must be a JSON object",
        "{}|'prompt'",
        "{\"prompt\": 3}|'prompt'",
        "{\"prompt\": \"\"}|'prompt'",
        "{\"prompt\": \"x\", \"max_tokens\": 0}|'max_tokens'",
        "{\"prompt\": \"x\", \"max_tokens\": 2.5}|'max_tokens'",
        "{\"prompt\": \"x\", \"max_tokens\": \"5\"}|'max_tokens'",
        "{\"prompt\": \"x\", \"temperature\": -1}|'temperature'",
        "{\"prompt\": \"x\", \"top_p\": 0}|'top_p'",
        "{\"prompt\": \"x\", \"seed\": \"a\"}|'seed'",
        "{\"prompt\": \"x\", \"stream\": \"yes\"}|'stream'",
        "{\"prompt\": \"x\", \"stream_options\": {\"include_usage\": true}}|'stream_options'",
        "{\"prompt\": \"x\", \"max_tokens\": 1e9}|too large",
        "{\"prompt\": \"x\", \"max_tokens\": 2048}|too large",
        "{\"prompt\": \"x\", \"max_tokens\": 123456789012345678901234567890}|too large",
        "{\"prompt\": \"x\", \"stop\": 3}|'stop'",
        "{\"prompt\": \"x\", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}|'stop'",
        "{\"prompt\": \"x\", \"stop\": [\"\"]}|'stop'",
        "{\"prompt\": \"x\", \"n\": 2}|'n'",
    })
    void rejectsBadCompletionRequests(String body, String mention) throws Exception {
        BadRequest e = assertThrows(BadRequest.class, () -> CompletionRequest.parse(json(body), false, LAST_CONTENT, 2048));
        assertTrue(e.getMessage().contains(mention), e.getMessage());
    }

    @Test
    void readsStreamingAndStopFields() throws Exception {
        CompletionRequest r = CompletionRequest.parse(json("{\"prompt\": \"x\", \"stream\": true,"
                + " \"stream_options\": {\"include_usage\": true}, \"stop\": [\"\\n\", \"END\"], \"max_tokens\": 1e1}"),
                false, LAST_CONTENT, 2048);
        assertTrue(r.stream());
        assertTrue(r.includeUsage());
        assertEquals(java.util.List.of("\n", "END"), r.stop());
        assertEquals(10, r.maxTokens());
        assertEquals(java.util.List.of("."), CompletionRequest.parse(json("{\"prompt\": \"x\", \"stop\": \".\"}"),
                false, LAST_CONTENT, 2048).stop());
    }

    @Test
    void rejectsChatRequestsWithoutMessages() throws Exception {
        assertThrows(BadRequest.class, () -> CompletionRequest.parse(json("{\"messages\": []}"), true, LAST_CONTENT, 2048));
        assertThrows(BadRequest.class, () -> CompletionRequest.parse(json("{\"prompt\": \"x\"}"), true, LAST_CONTENT, 2048));
    }
}
