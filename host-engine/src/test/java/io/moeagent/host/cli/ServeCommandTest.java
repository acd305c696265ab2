package io.moeagent.host.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.host.HostMain;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code host serve --port 0} in a forked JVM, spoken to over loopback, stopped with SIGTERM. */
class ServeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void answersCompletionsOverLoopbackAndStopsOnSigterm() throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                HostMain.class.getName(), "serve", "--port", "0", "--cache-dir", CliHarness.CACHE.toString()));
        Process server = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader stdout = new BufferedReader(
                    new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String line = stdout.readLine();
            assertNotNull(line, "the server printed nothing");
            assertTrue(line.matches("listening on port \\d+"), line);
            int port = Integer.parseInt(line.substring(line.lastIndexOf(' ') + 1));
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            String base = "http://127.0.0.1:" + port;

            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertEquals("ok", JSON.readTree(health.body()).get("status").asText());

            HttpResponse<String> first = post(http, base + "/v1/completions",
                    "{\"prompt\": \"Tom has 3 apples.\", \"max_tokens\": 5}");
            assertEquals(200, first.statusCode(), first.body());
            JsonNode body = JSON.readTree(first.body());
            assertEquals("cmpl-0", body.get("id").asText());
            assertTrue(body.get("choices").get(0).has("text"));
            int completionTokens = body.get("usage").get("completion_tokens").asInt();
            assertTrue(completionTokens >= 1 && completionTokens <= 5, first.body());
            assertEquals(body.get("usage").get("prompt_tokens").asInt() + completionTokens,
                    body.get("usage").get("total_tokens").asInt());

            HttpResponse<String> repeat = post(http, base + "/v1/completions",
                    "{\"prompt\": \"Tom has 3 apples.\", \"max_tokens\": 5}");
            JsonNode repeated = JSON.readTree(repeat.body());
            assertEquals("cmpl-1", repeated.get("id").asText(), "request ids count up");
            assertEquals(body.get("choices").get(0).get("text"), repeated.get("choices").get(0).get("text"),
                    "greedy decoding is deterministic");

            HttpResponse<String> chat = post(http, base + "/v1/chat/completions",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"How many?\"}], \"max_tokens\": 4,"
                            + " \"temperature\": 0.8, \"seed\": 3}");
            assertEquals(200, chat.statusCode(), chat.body());
            JsonNode chatBody = JSON.readTree(chat.body());
            assertEquals("chatcmpl-2", chatBody.get("id").asText());
            assertEquals("assistant", chatBody.get("choices").get(0).get("message").get("role").asText());
            assertTrue(chatBody.get("choices").get(0).get("message").has("content"));

            HttpResponse<String> badJson = post(http, base + "/v1/completions", "{\"prompt\": ");
            assertEquals(400, badJson.statusCode());
            assertFalse(JSON.readTree(badJson.body()).get("error").get("message").asText().isBlank());

            HttpResponse<String> badTokens = post(http, base + "/v1/completions",
                    "{\"prompt\": \"x\", \"max_tokens\": -3}");
            assertEquals(400, badTokens.statusCode());
            assertTrue(badTokens.body().contains("max_tokens"), badTokens.body());

            HttpResponse<String> noMessages = post(http, base + "/v1/chat/completions", "{\"prompt\": \"x\"}");
            assertEquals(400, noMessages.statusCode());

            server.destroy(); // SIGTERM
            assertTrue(server.waitFor(20, TimeUnit.SECONDS), "the server did not stop on SIGTERM");
        } finally {
            server.destroyForcibly();
        }
    }

    /** Bad batching and limit options: one error line naming the option, exit 1, before any model is loaded. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "--max-batch|0|--max-batch",
        "--prefill-chunk|0|--prefill-chunk",
        "--max-batch-tokens|3|--max-batch-tokens",
        "--idle-timeout-ms|0|--idle-timeout-ms",
        "--http-threads|2|--http-threads",
    })
    void refusesBadServeOptions(String option, String value, String mention) {
        CliHarness run = CliHarness.run("serve", "--port", "0", "--cache-dir", CliHarness.CACHE.toString(),
                option, value);
        assertEquals(1, run.exitCode, run.toString());
        List<String> lines = run.err.lines().toList();
        assertEquals(1, lines.size(), run.toString());
        assertTrue(lines.get(0).startsWith("error: ") && lines.get(0).contains(mention), run.toString());
    }

    private static HttpResponse<String> post(HttpClient http, String url, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
