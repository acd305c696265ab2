package io.moeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.agent.support.Attach;
import io.moeagent.agent.support.Forked;
import io.moeagent.agent.support.Host;
import io.moeagent.agent.support.Routes;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.StepRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, live: 8 concurrent streaming clients on loopback keep a continuously batching {@code serve} busy; the
 * agent is attached mid-stream and detached while they go on. Every recorded route row must belong to a real
 * (request, position) with the right per-row phase; nothing may be lost or duplicated while attached; every answer,
 * recorded or not, must equal the single-request answer.
 */
class ServeLoadIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PROMPTS = {"Tom has 3 apples.", "What is 7 * 6?", "Name a colour.",
        "Count to five:", "A short story about a cat.", "Why is the sky blue?", "List three fruits.", "Say hello."};
    private static final int CLIENTS = 8;
    private static final int MAX_TOKENS = 20;
    private static final int MAX_REQUESTS_PER_CLIENT = 40;

    @TempDir
    Path work;

    /** What the server said about one request. */
    private record Answer(long requestId, int prompt, String text, int promptTokens, int completionTokens) {
    }

    @Test
    void attachedMidStreamUnderLoadRecordsEveryRowOnceWithItsPhase() throws Exception {
        Assumptions.assumeTrue(Forked.hostBuilt(), "host-engine/target/host.jar not built");
        Process server = Forked.start(List.of(Forked.JAVA, "-jar", Forked.HOST_JAR.toString(), "serve", "--port", "0",
                "--model", "synthetic:tiny", "--max-batch", "8", "--prefill-chunk", "6", "--max-batch-tokens", "24"),
                Host.env(null), work);
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            int port = awaitPort(server);
            String base = "http://127.0.0.1:" + port;
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            Map<Integer, Answer> single = new HashMap<>();
            for (int p = 0; p < PROMPTS.length; p++) {
                single.put(p, whole(http, base, p));
            }

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger streaming = new AtomicInteger();
            Map<Long, Answer> answers = new ConcurrentHashMap<>();
            List<Future<Integer>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(pool.submit(() -> {
                    int done = 0;
                    while (!stop.get() && done < MAX_REQUESTS_PER_CLIENT) {
                        Answer a = streamed(http, base, (client + done) % PROMPTS.length, streaming);
                        answers.put(a.requestId, a);
                        done++;
                    }
                    return done;
                }));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (streaming.get() < CLIENTS && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(streaming.get() >= CLIENTS, "every client is mid-stream before the attach");

            String pid = Long.toString(server.pid());
            Path queue = work.resolve("q");
            Forked.Result attach = Attach.cli(work, "attach", pid, "queue=" + queue);
            assertEquals(0, attach.exitCode(), attach::toString);
            int atAttach = answers.size();
            while (answers.size() < atAttach + 2 * CLIENTS && System.nanoTime() < deadline + 60_000_000_000L) {
                Thread.sleep(50);
            }
            Forked.Result detach = Attach.cli(work, "detach", pid);
            assertEquals(0, detach.exitCode(), detach::toString);
            int atDetach = answers.size();
            while (answers.size() < atDetach + CLIENTS && System.nanoTime() < deadline + 120_000_000_000L) {
                Thread.sleep(50);
            }
            stop.set(true);
            int total = 0;
            for (Future<Integer> f : clients) {
                total += f.get();
            }
            assertEquals(total, answers.size(), "every request got an answer with its own id");

            for (Answer a : answers.values()) {
                Answer alone = single.get(a.prompt);
                assertEquals(alone.text, a.text, "request " + a.requestId + " (prompt " + a.prompt + ") under load");
                assertEquals(alone.completionTokens, a.completionTokens, "request " + a.requestId);
                assertEquals(alone.promptTokens, a.promptTokens, "request " + a.requestId);
            }
            checkRoutes(Routes.read(queue), answers);
            assertTrue(server.isAlive(), "the server survived");
            assertEquals(List.of(), Forked.stderrSoFar(server).lines().filter(l -> l.contains("Exception")).toList());
        } finally {
            pool.shutdownNow();
            server.destroy();
            server.waitFor();
            Forked.collect(server);
        }
    }

    private static void checkRoutes(Routes routes, Map<Long, Answer> answers) {
        assertEquals(0, routes.orphanRoutes, "route records without their step record");
        assertEquals(0, routes.skipped, "unreadable records");
        assertTrue(routes.rows.size() > 0, "something was recorded while attached");
        int layers = routes.metas.get(0).numLayers();
        Set<Integer> layerSet = routes.rows.stream().map(Routes.Row::layer).collect(Collectors.toSet());
        assertEquals(layers, layerSet.size(), "every layer recorded");

        // every row: a real (request, position), its own phase, one input token per (request, position)
        Map<String, Integer> seen = new HashMap<>();
        Map<String, Integer> tokenOf = new HashMap<>();
        Map<Long, TreeSet<Integer>> positionsOf = new HashMap<>();
        for (Routes.Row row : routes.rows) {
            Answer a = answers.get(row.request());
            assertTrue(a != null, "row of request " + row.request() + " which no client sent");
            int fed = a.promptTokens + a.completionTokens - 1; // the last generated token is never fed back
            assertTrue(row.position() >= 0 && row.position() < fed,
                    "request " + row.request() + " has positions [0, " + fed + "), recorded " + row.position());
            byte expected = row.position() < a.promptTokens ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE;
            assertEquals(expected, row.phase(), "phase of request " + row.request() + " position " + row.position());
            assertEquals(1, seen.merge(row.key(), 1, Integer::sum), "duplicate row " + row.key());
            if (row.tokenId() >= 0) {
                String rp = row.request() + "/" + row.position();
                assertEquals(tokenOf.computeIfAbsent(rp, k -> row.tokenId()), row.tokenId(), "token id of " + rp);
            }
            positionsOf.computeIfAbsent(row.request(), k -> new TreeSet<>()).add(row.position());
        }

        // steps while attached: consecutive ids, and every step between the first and the last is complete
        List<Long> stepIds = routes.steps.stream().map(StepRecord::stepId).sorted().toList();
        long first = stepIds.get(0);
        long last = stepIds.get(stepIds.size() - 1);
        assertEquals(last - first + 1, stepIds.size(), "no step lost or duplicated between attach and detach");
        Map<Long, StepRecord> steps = routes.steps.stream().collect(Collectors.toMap(StepRecord::stepId, s -> s));
        Map<Long, Map<Integer, Integer>> rowsPerLayer = new HashMap<>();
        for (Routes.Row row : routes.rows) {
            rowsPerLayer.computeIfAbsent(row.stepId(), k -> new HashMap<>()).merge(row.layer(), 1, Integer::sum);
        }
        int mixed = 0;
        for (long id = first + 1; id < last; id++) {
            StepRecord step = steps.get(id);
            Map<Integer, Integer> perLayer = rowsPerLayer.getOrDefault(id, Map.of());
            assertEquals(layers, perLayer.size(), "step " + id + " has a route record for every layer");
            for (int count : perLayer.values()) {
                assertEquals(step.tokens(), count, "step " + id + ": one row per token in every layer");
            }
            boolean anyPrefill = false;
            boolean anyDecode = false;
            for (int r = 0; r < step.tokens(); r++) {
                anyPrefill |= step.rowPrefill(r);
                anyDecode |= !step.rowPrefill(r);
            }
            if (anyPrefill && anyDecode) {
                assertEquals(RouteFormat.PHASE_MIXED, step.phase(), "step " + id);
                mixed++;
            }
        }
        assertTrue(mixed > 0, "some recorded step mixes prefill rows of new requests with decode rows");

        // a request whose first and last fed positions were recorded in interior steps has every position
        int whole = 0;
        for (Map.Entry<Long, TreeSet<Integer>> e : positionsOf.entrySet()) {
            Answer a = answers.get(e.getKey());
            int fed = a.promptTokens + a.completionTokens - 1;
            boolean interior = routes.rows.stream().filter(r -> r.request() == a.requestId
                            && (r.position() == 0 || r.position() == fed - 1))
                    .allMatch(r -> r.stepId() > first && r.stepId() < last);
            if (e.getValue().first() == 0 && e.getValue().last() == fed - 1 && interior) {
                assertEquals(fed, e.getValue().size(), "request " + a.requestId + ": every position recorded");
                whole++;
            }
        }
        assertTrue(whole > 0, "some request ran entirely while attached");
    }

    private static Answer whole(HttpClient http, String base, int prompt) throws Exception {
        HttpResponse<String> r = http.send(post(base, prompt, false), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        return new Answer(requestId(body), prompt, body.get("choices").get(0).get("text").asText(),
                body.get("usage").get("prompt_tokens").asInt(), body.get("usage").get("completion_tokens").asInt());
    }

    /** One streamed completion, read line by line as it arrives; counts itself in {@code streaming} once. */
    private static Answer streamed(HttpClient http, String base, int prompt, AtomicInteger streaming)
            throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = http.send(post(base, prompt, true),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        StringBuilder text = new StringBuilder();
        long id = -1;
        JsonNode usage = null;
        boolean counted = false;
        boolean done = false;
        for (String line : (Iterable<String>) r.body()::iterator) {
            if (line.isEmpty()) {
                continue;
            }
            assertTrue(line.startsWith("data: "), line);
            String data = line.substring(6);
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            JsonNode chunk = JSON.readTree(data);
            id = requestId(chunk);
            if (chunk.has("usage") && !chunk.get("usage").isNull()) {
                usage = chunk.get("usage");
            }
            for (JsonNode choice : chunk.get("choices")) {
                text.append(choice.get("text").asText());
            }
            if (!counted) {
                streaming.incrementAndGet();
                counted = true;
            }
        }
        assertTrue(done && usage != null, "stream of request " + id + " ended with usage and [DONE]");
        return new Answer(id, prompt, text.toString(), usage.get("prompt_tokens").asInt(),
                usage.get("completion_tokens").asInt());
    }

    private static HttpRequest post(String base, int prompt, boolean stream) {
        String body = "{\"prompt\": " + JSON.valueToTree(PROMPTS[prompt]) + ", \"max_tokens\": " + MAX_TOKENS
                + (stream ? ", \"stream\": true, \"stream_options\": {\"include_usage\": true}" : "") + "}";
        return HttpRequest.newBuilder(URI.create(base + "/v1/completions")).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static long requestId(JsonNode body) {
        String id = body.get("id").asText();
        return Long.parseLong(id.substring(id.indexOf('-') + 1));
    }

    private static int awaitPort(Process server) throws Exception {
        Pattern p = Pattern.compile("listening on port (\\d+)");
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = p.matcher(Forked.stdoutSoFar(server));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            assertTrue(server.isAlive(), () -> "server exited");
            Thread.sleep(200);
        }
        throw new AssertionError("server did not report its port");
    }
}
