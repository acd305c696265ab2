package io.moeagent.host;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.host.cli.CliHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host CLI as a user sees it: exit codes, stdout, stderr and the run report. */
class HostMainTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CACHE = CliHarness.CACHE.toString();

    @TempDir
    Path dir;

    @Test
    void defaultCommandRunsAndWritesAValidReport() throws Exception {
        Path report = dir.resolve("out/run.json");
        CliHarness run = CliHarness.run("--cache-dir", CACHE, "--limit", "3", "--max-new-tokens", "6",
                "--report", report.toString(), "--label", "smoke");
        assertEquals(0, run.exitCode, run.toString());
        assertTrue(run.out.contains("--- [0] "), run.toString());
        assertTrue(run.out.contains("--- [2] "), run.toString());
        assertTrue(run.err.contains("tokens/s"), run.toString());

        JsonNode r = JSON.readTree(report.toFile());
        for (String field : List.of("label", "model_id", "device", "dtype", "seed", "batch_size", "max_new_tokens",
                "num_layers", "moe_layers", "num_experts", "top_k", "prompt_tokens", "generated_tokens",
                "tokens_forwarded", "prefill_ms", "decode_ms", "wall_ms", "new_tokens_per_s", "java_version",
                "djl_version", "torch_version", "requests", "outputs_digest")) {
            assertTrue(r.has(field), "report lacks " + field);
        }
        assertEquals("smoke", r.get("label").asText());
        assertEquals("gsm8k-tiny", r.get("model_id").asText());
        assertEquals("cpu", r.get("device").asText());
        assertEquals("float32", r.get("dtype").asText());
        assertEquals(1234, r.get("seed").asLong());
        assertEquals(3, r.get("batch_size").asInt());
        assertEquals(r.get("num_layers").asInt(), r.get("moe_layers").size());
        JsonNode requests = r.get("requests");
        assertEquals(3, requests.size());
        long prompt = 0;
        long generated = 0;
        long fedBack = 0;
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            JsonNode q = requests.get(i);
            assertEquals(i, q.get("req_id").asInt());
            assertEquals(q.get("prompt_ids").size(), q.get("prompt_tokens").asInt());
            int n = q.get("generated_ids").size();
            assertEquals(n, q.get("generated_tokens").asInt());
            assertTrue(n >= 1 && n <= 6);
            assertTrue(List.of("stop", "length").contains(q.get("finish_reason").asText()));
            StringBuilder ids = new StringBuilder();
            q.get("generated_ids").forEach(id -> ids.append(ids.length() == 0 ? "" : ",").append(id.asLong()));
            assertEquals(sha256(ids.toString()), q.get("digest").asText());
            all.append(ids).append('\n');
            prompt += q.get("prompt_tokens").asLong();
            generated += n;
            fedBack += n - 1;
        }
        assertEquals(sha256(all.toString()), r.get("outputs_digest").asText());
        assertEquals(prompt, r.get("prompt_tokens").asLong());
        assertEquals(generated, r.get("generated_tokens").asLong());
        assertEquals(prompt + fedBack, r.get("tokens_forwarded").asLong());

        // per-step timing, CPU and GC figures for comparisons: one prefill step (one batch), a decode step per
        // further column, the steps' times adding up to the phase totals, CPU time within the process total
        assertEquals(1, r.get("prefill_step_ms").size());
        JsonNode decode = r.get("decode_step_ms");
        assertEquals(r.get("forward_steps").asInt() - 1, decode.size());
        double decodeSum = 0;
        double[] sorted = new double[decode.size()];
        for (int i = 0; i < decode.size(); i++) {
            assertTrue(decode.get(i).asDouble() > 0, "decode step " + i);
            decodeSum += decode.get(i).asDouble();
            sorted[i] = decode.get(i).asDouble();
        }
        java.util.Arrays.sort(sorted);
        assertEquals(r.get("decode_ms").asDouble(), decodeSum, 0.01 * decode.size());
        assertEquals(r.get("prefill_ms").asDouble(), r.get("prefill_step_ms").get(0).asDouble(), 0.01);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        assertEquals(median, r.get("median_decode_step_ms").asDouble(), 0.002);
        double cpu = r.get("process_cpu_ms").asDouble();
        assertTrue(cpu > 0 && cpu <= r.get("process_cpu_total_ms").asDouble(), r.toString());
        double thread = r.get("thread_cpu_ms").asDouble();
        assertTrue(thread > 0 && thread <= cpu + 1, "thread " + thread + " ms, process " + cpu + " ms");
        assertEquals(cpu / generated, r.get("cpu_ms_per_token").asDouble(), 0.001);
        assertTrue(r.get("gc_count").asLong() >= 0 && r.get("gc_count").asLong() <= r.get("gc_count_total").asLong());
        assertTrue(r.get("gc_ms").asLong() >= 0 && r.get("gc_ms").asLong() <= r.get("gc_ms_total").asLong());
        assertTrue(Math.abs(r.get("started_epoch_ms").asLong() - System.currentTimeMillis()) < 600_000);

        // the same job one prompt at a time generates the same tokens
        Path again = dir.resolve("again.json");
        CliHarness second = CliHarness.run("run", "--cache-dir", CACHE, "--limit", "3", "--max-new-tokens", "6",
                "--batch-size", "1", "--quiet", "--report", again.toString());
        assertEquals(0, second.exitCode, second.toString());
        assertEquals("", second.out);
        JsonNode r2 = JSON.readTree(again.toFile());
        assertEquals(1, r2.get("batch_size").asInt());
        assertEquals(r.get("outputs_digest").asText(), r2.get("outputs_digest").asText());
    }

    @Test
    void zeroNewTokensForwardsNothing() throws Exception {
        Path report = dir.resolve("zero.json");
        CliHarness run = CliHarness.run("--cache-dir", CACHE, "--limit", "2", "--max-new-tokens", "0",
                "--batch-size", "10", "--quiet", "--report", report.toString());
        assertEquals(0, run.exitCode, run.toString());
        JsonNode r = JSON.readTree(report.toFile());
        assertEquals(2, r.get("batch_size").asInt());
        assertEquals(0, r.get("generated_tokens").asInt());
        assertEquals(0, r.get("tokens_forwarded").asInt());
        assertTrue(r.get("prompt_tokens").asInt() > 0);
        assertEquals("length", r.get("requests").get(1).get("finish_reason").asText());
    }

    @Test
    void samplingSeedsAreReproducible() throws Exception {
        String[] a = sampledDigests("7");
        String[] b = sampledDigests("7");
        String[] c = sampledDigests("8");
        assertEquals(a[0], b[0]);
        assertNotEquals(a[0], c[0]);
    }

    private String[] sampledDigests(String seed) throws Exception {
        Path report = dir.resolve("sampled-" + seed + "-" + System.nanoTime() + ".json");
        CliHarness run = CliHarness.run("--cache-dir", CACHE, "--limit", "2", "--max-new-tokens", "8", "--quiet",
                "--temperature", "1.0", "--top-p", "0.9", "--seed", seed, "--report", report.toString());
        assertEquals(0, run.exitCode, run.toString());
        return new String[] {JSON.readTree(report.toFile()).get("outputs_digest").asText()};
    }

    @Test
    void badPromptsFileIsOneClearLine() throws Exception {
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, "{\"question\": \"fine\"}\n{not json\n");
        CliHarness run = CliHarness.run("--cache-dir", CACHE, "--prompts", prompts.toString());
        assertNotEquals(0, run.exitCode);
        assertOneErrorLine(run, prompts.getFileName().toString());

        CliHarness missing = CliHarness.run("--cache-dir", CACHE, "--prompts", dir.resolve("absent.txt").toString());
        assertNotEquals(0, missing.exitCode);
        assertOneErrorLine(missing, "absent.txt");
    }

    @Test
    void missingModelDirectoryIsOneClearLine() {
        CliHarness run = CliHarness.run("--model", dir.resolve("no-such-model").toString(), "--limit", "1");
        assertEquals(1, run.exitCode);
        assertOneErrorLine(run, "no-such-model");
    }

    @Test
    void badOptionsAreUsageErrors() {
        CliHarness notANumber = CliHarness.run("--limit", "many");
        assertEquals(2, notANumber.exitCode);
        assertTrue(notANumber.err.startsWith("error: "), notANumber.toString());
        assertFalse(notANumber.err.contains("Exception"), notANumber.toString());

        CliHarness unknown = CliHarness.run("run", "--bogus");
        assertEquals(2, unknown.exitCode);
        assertTrue(unknown.err.contains("--bogus"), unknown.toString());

        CliHarness device = CliHarness.run("--device", "tpu");
        assertEquals(2, device.exitCode);

        CliHarness limit = CliHarness.run("--cache-dir", CACHE, "--limit", "0");
        assertEquals(1, limit.exitCode);
        assertOneErrorLine(limit, "--limit");
    }

    @Test
    void helpAndVersion() {
        CliHarness help = CliHarness.run("--help");
        assertEquals(0, help.exitCode);
        assertTrue(help.out.contains("serve"), help.out);
        assertTrue(help.out.contains("train"), help.out);
        assertTrue(help.out.contains("--max-new-tokens"), help.out);
    }

    private static void assertOneErrorLine(CliHarness run, String mention) {
        List<String> lines = run.err.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), run.toString());
        assertTrue(lines.get(0).startsWith("error: "), run.toString());
        assertTrue(lines.get(0).contains(mention), run.toString());
        assertFalse(run.err.contains("\tat "), run.toString());
    }

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
