package io.moeagent.host.cli;

import io.moeagent.host.generate.GenerationProgress;
import io.moeagent.host.generate.GenerationRequest;
import io.moeagent.host.generate.GenerationResult;
import io.moeagent.host.generate.GenerationStats;
import io.moeagent.host.generate.SamplingConfig;
import io.moeagent.host.prompts.Prompts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** Generates continuations for a set of prompts in batches and optionally writes a run report. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Generate continuations of prompts (the default command).")
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    RunOptions run = new RunOptions();

    @Override
    public Integer call() {
        return execute(spec, model, run);
    }

    /** Shared by {@code run} and the top-level command, which runs the same job when no subcommand is given. */
    public static int execute(CommandSpec spec, ModelOptions model, RunOptions run) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        validate(run);
        SamplingConfig sampling = sampling(run, model.seed);
        List<String> prompts = Prompts.load(run.prompts, run.limit);
        if (prompts.isEmpty()) {
            throw new UserError("no prompts to run" + (run.prompts == null ? "" : " in " + run.prompts)
                    + "; give a file with at least one prompt");
        }
        try (EngineSession engine = EngineSession.open(model, run.quiet ? null : err)) {
            long start = System.nanoTime();
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                requests.add(new GenerationRequest(i, engine.encodePrompt(prompts.get(i)), run.maxNewTokens));
            }
            int positions = engine.model.config().maxPositionEmbeddings();
            for (GenerationRequest r : requests) {
                if (r.promptIds().length + run.maxNewTokens > positions) {
                    throw new UserError("prompt " + r.id() + " has " + r.promptIds().length + " tokens; with "
                            + "--max-new-tokens " + run.maxNewTokens + " it exceeds the model's " + positions
                            + " positions. Shorten the prompt or lower --max-new-tokens");
                }
            }
            int batchSize = run.batchSize == null ? requests.size() : Math.min(run.batchSize, requests.size());
            if (!run.quiet) {
                if (engine.deviceNote != null) {
                    err.println(engine.deviceNote);
                }
                err.printf(Locale.ROOT, "%s on %s (%s, %s experts): %d prompts, batch %d, up to %d new tokens each%n",
                        engine.runInfo.get("model_id"), engine.runInfo.get("device"), engine.runInfo.get("dtype"),
                        engine.layout.name().toLowerCase(Locale.ROOT), requests.size(), batchSize, run.maxNewTokens);
                err.flush();
            }
            GenerationStats stats = new GenerationStats();
            ResourceClock before = ResourceClock.now();
            List<GenerationResult> results = engine.generator.generate(requests, batchSize, sampling, stats,
                    run.quiet ? GenerationProgress.NONE : new ProgressPrinter(err));
            ResourceClock after = ResourceClock.now();
            double wallMillis = (System.nanoTime() - start) / 1e6;
            if (!run.quiet) {
                for (GenerationResult r : results) {
                    out.printf(Locale.ROOT, "--- [%d] %d tokens, %s ---%n%s%n", r.id(), r.generatedIds().length,
                            r.finishReason().wireName(), engine.tokenizer().decode(r.generatedIds()));
                }
                out.flush();
                err.printf(Locale.ROOT, "done: %d new tokens in %.0f ms (%.1f tokens/s; prefill %.0f ms, decode %.0f ms)%n",
                        stats.generatedTokens(), wallMillis, stats.generatedTokens() / (wallMillis / 1000),
                        stats.prefillMillis(), stats.decodeMillis());
                err.flush();
            }
            if (run.report != null) {
                RunReport.write(RunReport.build(run.label, engine.runInfo, engine.model.config(),
                        engine.layout.name().toLowerCase(Locale.ROOT), batchSize, run.maxNewTokens, sampling, results,
                        stats, engine.loadMillis, wallMillis, before, after), run.report);
            }
        }
        return 0;
    }

    private static void validate(RunOptions run) {
        if (run.limit < 1) {
            throw new UserError("--limit must be at least 1, got " + run.limit);
        }
        if (run.maxNewTokens < 0) {
            throw new UserError("--max-new-tokens must be >= 0, got " + run.maxNewTokens);
        }
        if (run.batchSize != null && run.batchSize < 1) {
            throw new UserError("--batch-size must be at least 1, got " + run.batchSize);
        }
    }

    private static SamplingConfig sampling(RunOptions run, long seed) {
        try {
            return new SamplingConfig(run.temperature, run.topP, seed);
        } catch (IllegalArgumentException e) {
            throw new UserError("--temperature/--top-p: " + e.getMessage());
        }
    }

    /** Tokens per second on stderr, at most once a second. */
    private static final class ProgressPrinter implements GenerationProgress {
        private final PrintWriter err;
        private long lastPrintNanos;

        ProgressPrinter(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void onStep(io.moeagent.host.model.StepContext step, long generatedTokens, long elapsedNanos) {
            if (elapsedNanos - lastPrintNanos < 1_000_000_000L) {
                return;
            }
            lastPrintNanos = elapsedNanos;
            err.printf(Locale.ROOT, "  %d tokens, %.1f tokens/s%n", generatedTokens,
                    generatedTokens / (elapsedNanos / 1e9));
            err.flush();
        }
    }
}
