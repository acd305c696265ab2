package io.moeagent.host.generate;

import io.moeagent.host.model.KvCache;
import io.moeagent.host.model.Qwen2MoeModel;
import io.moeagent.host.model.StepContext;
import io.moeagent.host.model.StepInput;
import io.moeagent.host.model.StepOutput;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Batched, KV-cached generation. A batch is left-padded to its longest prompt: every row writes cache column c
 * at the same step, row b's real tokens start at column {@code L - len_b}, and each row's rotary positions
 * start at 0. Finished rows keep their cache slot but are never routed again. One instance numbers its forward
 * steps 0, 1, 2, ... across all calls; calls are serialised.
 */
public final class Generator {
    private final Qwen2MoeModel model;
    private final long[] eosTokenIds;
    private final Map<String, String> runInfo;
    private long nextStepId;

    public Generator(Qwen2MoeModel model, int[] eosTokenIds, Map<String, String> runInfo) {
        this.model = model;
        this.eosTokenIds = Arrays.stream(eosTokenIds).asLongStream().toArray();
        this.runInfo = runInfo;
    }

    /** Runs {@code requests} in consecutive batches of at most {@code batchSize}; results in request order. */
    public synchronized List<GenerationResult> generate(List<GenerationRequest> requests, int batchSize,
                                                        SamplingConfig sampling, GenerationStats stats,
                                                        GenerationProgress progress) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        List<GenerationResult> results = new ArrayList<>();
        long start = System.nanoTime();
        for (int from = 0; from < requests.size(); from += batchSize) {
            List<GenerationRequest> batch = requests.subList(from, Math.min(requests.size(), from + batchSize));
            results.addAll(runBatch(batch, sampling, stats, progress, start));
        }
        return results;
    }

    private List<GenerationResult> runBatch(List<GenerationRequest> batch, SamplingConfig sampling,
                                            GenerationStats stats, GenerationProgress progress, long runStart) {
        Rows rows = new Rows(batch, sampling);
        stats.promptTokens += rows.promptTokens();
        if (rows.maxNewTokens == 0) {
            return rows.results(); // nothing to generate: no forward step at all
        }
        try (KvCache cache = model.newCache(rows.size, rows.promptColumns + rows.maxNewTokens - 1)) {
            long t0 = System.nanoTime();
            StepInput prefill = rows.prefillInput(nextStepId++);
            StepOutput out = model.forward(prefill, cache, false);
            stats.timeStep(true, System.nanoTime() - t0);
            stats.steps++;
            stats.tokensForwarded += rows.promptTokens();
            stats.generatedTokens += rows.accept(out, rows.allRows());
            progress.onStep(prefill.context(), stats.generatedTokens, System.nanoTime() - runStart);
            for (int column = rows.promptColumns; rows.anyLive(); column++) {
                long[] live = rows.liveRows();
                t0 = System.nanoTime();
                StepInput decode = rows.decodeInput(nextStepId++, column, live);
                out = model.forward(decode, cache, false);
                stats.timeStep(false, System.nanoTime() - t0);
                stats.steps++;
                stats.tokensForwarded += live.length;
                stats.generatedTokens += rows.accept(out, live);
                progress.onStep(decode.context(), stats.generatedTokens, System.nanoTime() - runStart);
            }
        }
        return rows.results();
    }

    private boolean isEos(long token) {
        for (long eos : eosTokenIds) {
            if (eos == token) {
                return true;
            }
        }
        return false;
    }

    /** The per-row state of one batch. */
    private final class Rows {
        final List<GenerationRequest> requests;
        final int size;
        final int promptColumns;
        final int maxNewTokens;
        final int[] firstColumn;
        final TokenSampler[] samplers;
        final List<List<Long>> generated = new ArrayList<>();
        final FinishReason[] finished;

        Rows(List<GenerationRequest> requests, SamplingConfig sampling) {
            this.requests = requests;
            this.size = requests.size();
            this.promptColumns = requests.stream().mapToInt(r -> r.promptIds().length).max().orElse(0);
            this.maxNewTokens = requests.stream().mapToInt(GenerationRequest::maxNewTokens).max().orElse(0);
            this.firstColumn = new int[size];
            this.samplers = new TokenSampler[size];
            this.finished = new FinishReason[size];
            for (int b = 0; b < size; b++) {
                GenerationRequest r = requests.get(b);
                firstColumn[b] = promptColumns - r.promptIds().length;
                samplers[b] = new TokenSampler(sampling, r.id());
                generated.add(new ArrayList<>());
                if (r.maxNewTokens() == 0) {
                    finished[b] = FinishReason.LENGTH;
                }
            }
        }

        long promptTokens() {
            return requests.stream().mapToLong(r -> r.promptIds().length).sum();
        }

        /** Every prompt token; pad columns hold token 0 and are neither attended to nor routed. */
        StepInput prefillInput(long stepId) {
            long[] ids = new long[size * promptColumns];
            int[] positions = new int[size * promptColumns];
            int tokens = (int) promptTokens();
            long[] routedRows = new long[tokens];
            long[] requestIds = new long[tokens];
            int[] routedPositions = new int[tokens];
            int[] routedTokens = new int[tokens];
            int t = 0;
            for (int b = 0; b < size; b++) {
                long[] prompt = requests.get(b).promptIds();
                for (int p = 0; p < prompt.length; p++) {
                    int row = b * promptColumns + firstColumn[b] + p;
                    ids[row] = prompt[p];
                    positions[row] = p;
                    routedRows[t] = row;
                    requestIds[t] = requests.get(b).id();
                    routedPositions[t] = p;
                    routedTokens[t] = (int) prompt[p];
                    t++;
                }
            }
            StepContext context = new StepContext(stepId, tokens, requestIds, routedPositions, routedTokens,
                    StepContext.phases(tokens, true), runInfo);
            return new StepInput(size, promptColumns, ids, positions, 0, firstColumn, routedRows, context);
        }

        /** Feeds each live row's last generated token at cache {@code column}. */
        StepInput decodeInput(long stepId, int column, long[] live) {
            long[] ids = new long[size];
            int[] positions = new int[size];
            long[] requestIds = new long[live.length];
            int[] routedPositions = new int[live.length];
            int[] routedTokens = new int[live.length];
            for (int i = 0; i < live.length; i++) {
                int b = (int) live[i];
                List<Long> tokens = generated.get(b);
                ids[b] = tokens.get(tokens.size() - 1);
                positions[b] = requests.get(b).promptIds().length + tokens.size() - 1;
                requestIds[i] = requests.get(b).id();
                routedPositions[i] = positions[b];
                routedTokens[i] = (int) ids[b];
            }
            StepContext context = new StepContext(stepId, live.length, requestIds, routedPositions, routedTokens,
                    StepContext.phases(live.length, false), runInfo);
            return new StepInput(size, 1, ids, positions, column, firstColumn, live, context);
        }

        /** Samples the next token of each row in {@code rows}; returns how many tokens were added. */
        int accept(StepOutput out, long[] rows) {
            int added = 0;
            for (long row : rows) {
                int b = (int) row;
                if (finished[b] != null) {
                    continue;
                }
                long token = samplers[b].next(out.logits(), b * out.vocabSize(), out.vocabSize());
                generated.get(b).add(token);
                added++;
                if (isEos(token)) {
                    finished[b] = FinishReason.STOP;
                } else if (generated.get(b).size() >= requests.get(b).maxNewTokens()) {
                    finished[b] = FinishReason.LENGTH;
                }
            }
            return added;
        }

        long[] allRows() {
            long[] all = new long[size];
            Arrays.setAll(all, b -> b);
            return all;
        }

        boolean anyLive() {
            return Arrays.stream(finished).anyMatch(f -> f == null);
        }

        long[] liveRows() {
            List<Long> live = new ArrayList<>();
            for (int b = 0; b < size; b++) {
                if (finished[b] == null) {
                    live.add((long) b);
                }
            }
            return live.stream().mapToLong(Long::longValue).toArray();
        }

        List<GenerationResult> results() {
            List<GenerationResult> results = new ArrayList<>();
            for (int b = 0; b < size; b++) {
                GenerationRequest r = requests.get(b);
                long[] ids = generated.get(b).stream().mapToLong(Long::longValue).toArray();
                results.add(new GenerationResult(r.id(), r.promptIds(), ids,
                        finished[b] == null ? FinishReason.LENGTH : finished[b]));
            }
            return results;
        }
    }
}
