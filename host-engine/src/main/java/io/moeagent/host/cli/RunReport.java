package io.moeagent.host.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeagent.host.generate.GenerationResult;
import io.moeagent.host.generate.GenerationStats;
import io.moeagent.host.generate.SamplingConfig;
import io.moeagent.host.model.ModelConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The JSON summary of a run. Digests are SHA-256 (hex) of the generated ids written as decimal numbers joined by
 * ',' (UTF-8); {@code outputs_digest} covers every request in id order, each request's ids followed by '\n'.
 */
final class RunReport {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RunReport() {
    }

    static ObjectNode build(String label, Map<String, String> runInfo, ModelConfig config, String expertLayout,
                            int batchSize, int maxNewTokens, SamplingConfig sampling, List<GenerationResult> results,
                            GenerationStats stats, double loadMillis, double wallMillis, ResourceClock before,
                            ResourceClock after) {
        ObjectNode report = JSON.createObjectNode();
        report.put("label", label);
        report.put("model_id", runInfo.get("model_id"));
        report.put("engine", runInfo.get("engine"));
        report.put("engine_version", runInfo.get("engine_version"));
        report.put("device", runInfo.get("device"));
        report.put("dtype", runInfo.get("dtype"));
        report.put("expert_layout", expertLayout);
        report.put("seed", sampling.seed());
        report.put("temperature", sampling.temperature());
        report.put("top_p", sampling.topP());
        report.put("batch_size", batchSize);
        report.put("max_new_tokens", maxNewTokens);
        report.put("num_layers", config.numHiddenLayers());
        ArrayNode moeLayers = report.putArray("moe_layers");
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            if (config.isMoeLayer(layer)) {
                moeLayers.add(layer);
            }
        }
        report.put("num_experts", config.numExperts());
        report.put("top_k", config.numExpertsPerTok());
        report.put("num_requests", results.size());
        report.put("prompt_tokens", stats.promptTokens());
        report.put("generated_tokens", stats.generatedTokens());
        report.put("tokens_forwarded", stats.tokensForwarded());
        report.put("forward_steps", stats.steps());
        report.put("load_ms", round(loadMillis));
        report.put("prefill_ms", round(stats.prefillMillis()));
        report.put("decode_ms", round(stats.decodeMillis()));
        report.put("wall_ms", round(wallMillis));
        report.put("new_tokens_per_s", round(wallMillis > 0 ? stats.generatedTokens() / (wallMillis / 1000) : 0));
        timing(report, stats, before, after);
        report.put("java_version", runInfo.get("java_version"));
        report.put("djl_version", runInfo.get("djl_version"));
        report.put("torch_version", runInfo.get("torch_version"));
        ArrayNode requests = report.putArray("requests");
        StringBuilder all = new StringBuilder();
        for (GenerationResult r : results) {
            ObjectNode node = requests.addObject();
            node.put("req_id", r.id());
            node.put("prompt_tokens", r.promptIds().length);
            node.put("generated_tokens", r.generatedIds().length);
            ArrayNode promptIds = node.putArray("prompt_ids");
            for (long id : r.promptIds()) {
                promptIds.add(id);
            }
            ArrayNode generatedIds = node.putArray("generated_ids");
            for (long id : r.generatedIds()) {
                generatedIds.add(id);
            }
            String joined = join(r.generatedIds());
            node.put("digest", sha256(joined));
            node.put("finish_reason", r.finishReason().wireName());
            all.append(joined).append('\n');
        }
        report.put("outputs_digest", sha256(all.toString()));
        return report;
    }

    /**
     * What robust comparisons need: when generation started, every forward step's wall time, CPU and GC figures
     * over the generation (process: all threads; thread: the generating one), and CPU totals since JVM start.
     */
    private static void timing(ObjectNode report, GenerationStats stats, ResourceClock before, ResourceClock after) {
        report.put("started_epoch_ms", before.epochMillis());
        long[] decode = stats.decodeStepNanos();
        report.put("median_decode_step_ms", decode.length == 0 ? 0 : round(medianNanos(decode) / 1e6));
        long processCpu = after.processCpuSince(before);
        long threadCpu = after.threadCpuSince(before);
        report.put("process_cpu_ms", processCpu < 0 ? -1 : round(processCpu / 1e6));
        report.put("thread_cpu_ms", threadCpu < 0 ? -1 : round(threadCpu / 1e6));
        report.put("cpu_ms_per_token", processCpu < 0 || stats.generatedTokens() == 0 ? -1
                : round(processCpu / 1e6 / stats.generatedTokens()));
        report.put("gc_count", after.gcCount() - before.gcCount());
        report.put("gc_ms", after.gcMillis() - before.gcMillis());
        report.put("process_cpu_total_ms", after.processCpuNanos() < 0 ? -1 : round(after.processCpuNanos() / 1e6));
        report.put("gc_count_total", after.gcCount());
        report.put("gc_ms_total", after.gcMillis());
        stepArray(report.putArray("prefill_step_ms"), stats.prefillStepNanos());
        stepArray(report.putArray("decode_step_ms"), decode);
    }

    private static void stepArray(ArrayNode array, long[] nanos) {
        for (long n : nanos) {
            array.add(Math.round(n / 1e3) / 1000.0);
        }
    }

    private static double medianNanos(long[] values) {
        long[] v = values.clone();
        java.util.Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    }

    static void write(ObjectNode report, Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            JSON.writeValue(file.toFile(), report);
        } catch (IOException e) {
            throw new UserError("cannot write the report to " + file + ": " + e.getMessage()
                    + "; choose a writable --report path", e);
        }
    }

    static String join(long[] ids) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                s.append(',');
            }
            s.append(ids[i]);
        }
        return s.toString();
    }

    static String sha256(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }
}
