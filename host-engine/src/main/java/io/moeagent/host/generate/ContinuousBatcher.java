package io.moeagent.host.generate;

import io.moeagent.host.model.KvCache;
import io.moeagent.host.model.PackedStepInput;
import io.moeagent.host.model.Qwen2MoeModel;
import io.moeagent.host.model.StepContext;
import io.moeagent.host.model.StepOutput;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * Continuous batching: one engine thread runs forward steps over at most {@code maxBatch} running requests, each in
 * its own KV-cache slot. Between two steps it drops finished and cancelled requests at once and admits waiting ones
 * into the free slots; every step packs one decode token of each running request with prefill chunks of new ones
 * (at most {@code prefillChunk} tokens per request and {@code maxBatchTokens} tokens per step, decode first).
 * Tokens reach each request's {@link Listener} on the engine thread as soon as they are sampled.
 */
public final class ContinuousBatcher implements AutoCloseable {
    private static final int INITIAL_CACHE_COLUMNS = 64;

    /** How much one step may hold. */
    public record Limits(int maxBatch, int maxBatchTokens, int prefillChunk) {
        public Limits {
            if (maxBatch < 1 || prefillChunk < 1 || maxBatchTokens < maxBatch) {
                throw new IllegalArgumentException("batch limits need max batch >= 1, prefill chunk >= 1 and a token"
                        + " budget >= max batch; got " + maxBatch + ", " + prefillChunk + ", " + maxBatchTokens);
            }
        }
    }

    /** Receives one request's tokens; called on the engine thread, so it must not block. */
    public interface Listener {
        void onToken(long tokenId);

        void onFinish(GenerationResult result);

        void onError(RuntimeException error);
    }

    /** A submitted request; {@link #cancel()} drops it before the next step (no further callbacks). */
    public static final class Handle {
        private volatile boolean cancelled;

        public void cancel() {
            cancelled = true;
        }
    }

    private final Qwen2MoeModel model;
    private final long[] eosTokenIds;
    private final Map<String, String> runInfo;
    private final Limits limits;
    private final GenerationProgress progress;
    private final Deque<Row> waiting = new ArrayDeque<>();
    private final Row[] slots;
    private final Thread engine;
    private final long started = System.nanoTime();
    private long nextStepId;
    private long generatedTokens;
    private boolean closed;
    private volatile boolean aborted;

    public ContinuousBatcher(Qwen2MoeModel model, int[] eosTokenIds, Map<String, String> runInfo, Limits limits,
                             GenerationProgress progress) {
        this.model = model;
        this.eosTokenIds = Arrays.stream(eosTokenIds).asLongStream().toArray();
        this.runInfo = runInfo;
        this.limits = limits;
        this.progress = progress;
        this.slots = new Row[limits.maxBatch()];
        this.engine = new Thread(this::run, "host-batcher");
        engine.setDaemon(true);
        engine.start();
    }

    /** Queues {@code request}; its tokens go to {@code listener}. */
    public Handle submit(GenerationRequest request, SamplingConfig sampling, Listener listener) {
        Row row = new Row(request, new TokenSampler(sampling, request.id()), listener);
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the engine is shutting down");
            }
            waiting.add(row);
            notifyAll();
        }
        return row.handle;
    }

    /** Stops admitting, lets running and waiting requests finish, then stops the engine thread. */
    @Override
    public void close() {
        close(Long.MAX_VALUE);
    }

    /**
     * Stops admitting and lets running and waiting requests finish for up to {@code graceMillis}; then the rest get
     * {@link Listener#onError} and the engine thread stops after its current step.
     */
    public void close(long graceMillis) {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            engine.join(graceMillis == Long.MAX_VALUE ? 0 : Math.max(1, graceMillis));
            if (engine.isAlive()) {
                aborted = true;
                synchronized (this) {
                    notifyAll();
                }
                engine.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try (KvCache cache = model.newCache(limits.maxBatch(), INITIAL_CACHE_COLUMNS)) {
            while (admit()) {
                Step step = plan();
                if (step == null) {
                    continue;
                }
                try {
                    cache.ensureLength(step.columns);
                    StepOutput out = model.forward(step.input, cache, false);
                    accept(step, out);
                    progress.onStep(step.input.context(), generatedTokens, System.nanoTime() - started);
                } catch (RuntimeException e) {
                    failRunning(e);
                }
            }
        } catch (RuntimeException e) {
            failRunning(e);
            synchronized (this) {
                closed = true;
                waiting.forEach(row -> row.listener.onError(e));
                waiting.clear();
            }
        }
    }

    /**
     * Drops cancelled rows and fills free slots from the queue; waits while nothing runs. False once closed and
     * drained.
     */
    private boolean admit() {
        if (aborted) {
            IllegalStateException stopping = new IllegalStateException("the server is shutting down");
            failRunning(stopping);
            synchronized (this) {
                waiting.forEach(row -> row.listener.onError(stopping));
                waiting.clear();
            }
            return false;
        }
        for (int s = 0; s < slots.length; s++) {
            if (slots[s] != null && slots[s].handle.cancelled) {
                slots[s] = null;
            }
        }
        synchronized (this) {
            while (true) {
                for (int s = 0; s < slots.length && !waiting.isEmpty(); s++) {
                    if (slots[s] == null) {
                        Row row = waiting.poll();
                        if (row.handle.cancelled) {
                            s--;
                        } else if (row.request.maxNewTokens() == 0) {
                            row.finish(FinishReason.LENGTH);
                            s--;
                        } else {
                            slots[s] = row;
                        }
                    }
                }
                if (running() > 0) {
                    return true;
                }
                if (closed) {
                    return false;
                }
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
    }

    private int running() {
        int n = 0;
        for (Row row : slots) {
            n += row == null ? 0 : 1;
        }
        return n;
    }

    /** One step: every decoding row's next token first, then prefill chunks in slot order within the budget. */
    private Step plan() {
        int[] take = new int[slots.length];
        int budget = limits.maxBatchTokens();
        for (int s = 0; s < slots.length; s++) {
            if (slots[s] != null && slots[s].decoding()) {
                take[s] = 1;
                budget--;
            }
        }
        for (int s = 0; s < slots.length; s++) {
            if (slots[s] != null && !slots[s].decoding() && budget > 0) {
                take[s] = Math.min(Math.min(slots[s].promptLeft(), limits.prefillChunk()), budget);
                budget -= take[s];
            }
        }
        int tokens = Arrays.stream(take).sum();
        if (tokens == 0) {
            return null;
        }
        long[] ids = new long[tokens];
        int[] positions = new int[tokens];
        int[] slotOf = new int[tokens];
        long[] requestIds = new long[tokens];
        int[] tokenIds = new int[tokens];
        byte[] phases = new byte[tokens];
        List<Integer> sampleTokens = new ArrayList<>();
        List<Row> sampled = new ArrayList<>();
        int t = 0;
        int columns = 0;
        for (int s = 0; s < slots.length; s++) {
            Row row = slots[s];
            for (int i = 0; i < take[s]; i++, t++) {
                int position = row.fed + i;
                ids[t] = row.inputAt(position);
                positions[t] = position;
                slotOf[t] = s;
                requestIds[t] = row.request.id();
                tokenIds[t] = (int) ids[t];
                phases[t] = position < row.promptLength() ? StepContext.PREFILL_ROW : StepContext.DECODE_ROW;
            }
            if (take[s] > 0) {
                row.fed += take[s];
                columns = Math.max(columns, row.fed);
                if (row.fed >= row.promptLength()) { // the prompt is in: this token's logits give the next one
                    sampleTokens.add(t - 1);
                    sampled.add(row);
                }
            }
        }
        StepContext context = new StepContext(nextStepId++, tokens, requestIds, positions, tokenIds, phases, runInfo);
        PackedStepInput input = new PackedStepInput(ids, positions, slotOf,
                sampleTokens.stream().mapToInt(Integer::intValue).toArray(), context);
        return new Step(input, sampled, columns);
    }

    /** Samples each sampled row's next token, tells its listener, and frees the slots of finished rows. */
    private void accept(Step step, StepOutput out) {
        int vocab = out.vocabSize();
        for (int i = 0; i < step.sampled.size(); i++) {
            Row row = step.sampled.get(i);
            long token = row.sampler.next(out.logits(), i * vocab, vocab);
            row.generated.add(token);
            generatedTokens++;
            if (!row.handle.cancelled) {
                row.listener.onToken(token);
            }
            if (isEos(token)) {
                release(row, FinishReason.STOP);
            } else if (row.generated.size() >= row.request.maxNewTokens()) {
                release(row, FinishReason.LENGTH);
            }
        }
    }

    private void release(Row row, FinishReason reason) {
        for (int s = 0; s < slots.length; s++) {
            if (slots[s] == row) {
                slots[s] = null;
            }
        }
        if (!row.handle.cancelled) {
            row.finish(reason);
        }
    }

    private void failRunning(RuntimeException e) {
        for (int s = 0; s < slots.length; s++) {
            if (slots[s] != null) {
                slots[s].listener.onError(e);
                slots[s] = null;
            }
        }
    }

    private boolean isEos(long token) {
        for (long eos : eosTokenIds) {
            if (eos == token) {
                return true;
            }
        }
        return false;
    }

    private record Step(PackedStepInput input, List<Row> sampled, int columns) {
    }

    /** One running request: its prompt, what it generated, and how many of its tokens are in its cache slot. */
    private static final class Row {
        final GenerationRequest request;
        final TokenSampler sampler;
        final Listener listener;
        final Handle handle = new Handle();
        final List<Long> generated = new ArrayList<>();
        int fed;

        Row(GenerationRequest request, TokenSampler sampler, Listener listener) {
            this.request = request;
            this.sampler = sampler;
            this.listener = listener;
        }

        int promptLength() {
            return request.promptIds().length;
        }

        int promptLeft() {
            return promptLength() - fed;
        }

        boolean decoding() {
            return fed >= promptLength();
        }

        /** The token at {@code position}: the prompt, then the generated tokens fed back. */
        long inputAt(int position) {
            long[] prompt = request.promptIds();
            return position < prompt.length ? prompt[position] : generated.get(position - prompt.length);
        }

        void finish(FinishReason reason) {
            long[] ids = generated.stream().mapToLong(Long::longValue).toArray();
            listener.onFinish(new GenerationResult(request.id(), request.promptIds(), ids, reason));
        }
    }
}
