package io.moeagent.host.train;

import io.moeagent.host.cli.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code host train}: trains a small Qwen2-MoE on GSM8K and writes a Hugging Face checkpoint. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a Qwen2-MoE on GSM8K's train split with libtorch autograd (CPU) and write a Hugging"
                + " Face checkpoint to OUT/model; the defaults reproduce the shipped gsm8k-tiny model.",
                "Run under OMP_WAIT_POLICY=PASSIVE on small machines."})
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "../shared/data/gsm8k",
            description = "Folder with GSM8K's train.jsonl and test.jsonl (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "Run folder: tokenizer/, checkpoints/, model/ (the result), report.json.")
    Path out;

    @Option(names = "--resume", description = "Continue from the newest checkpoint in OUT (same options required).")
    boolean resume;

    @Option(names = "--steps", defaultValue = "1000", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "8", description = "Windows per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq-len", defaultValue = "256", description = "Tokens per window (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--lr", defaultValue = "2e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--warmup", defaultValue = "30", description = "Warm-up steps (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--aux-loss-coef", defaultValue = "0.01",
            description = "Load-balancing loss coefficient (default: ${DEFAULT-VALUE}).")
    double auxLossCoef;

    @Option(names = "--grad-clip", defaultValue = "1.0", description = "Global gradient norm clip, 0 = off (default: ${DEFAULT-VALUE}).")
    double gradClip;

    @Option(names = "--seed", defaultValue = "1234", description = "Initialisation and data-order seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--train-limit", defaultValue = "0", description = "Use only the first N train problems (0 = all).")
    int trainLimit;

    @Option(names = "--eval-limit", defaultValue = "0", description = "Held-out loss on the first N test problems (0 = all).")
    int evalLimit;

    @Option(names = "--hidden", defaultValue = "128", description = "Hidden size (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--layers", defaultValue = "4", description = "Decoder layers, all MoE (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--heads", defaultValue = "4", description = "Attention heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "2", description = "Key/value heads (default: ${DEFAULT-VALUE}).")
    int kvHeads;

    @Option(names = "--experts", defaultValue = "60", description = "Routed experts (default: ${DEFAULT-VALUE}).")
    int experts;

    @Option(names = "--top-k", defaultValue = "4", description = "Experts per token (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--moe-intermediate", defaultValue = "32", description = "Expert width (default: ${DEFAULT-VALUE}).")
    int moeIntermediate;

    @Option(names = "--shared-intermediate", defaultValue = "128",
            description = "Shared expert width, 0 = none (default: ${DEFAULT-VALUE}).")
    int sharedIntermediate;

    @Option(names = "--vocab-size", defaultValue = "2048",
            description = "Tokenizer size incl. 256 bytes and 3 ChatML specials (default: ${DEFAULT-VALUE}).")
    int vocabSize;

    @Option(names = "--checkpoint-every", defaultValue = "50", description = "Steps between checkpoints, 0 = none (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--keep-checkpoints", defaultValue = "2", hidden = true)
    int keepCheckpoints;

    @Option(names = "--log-every", defaultValue = "10", description = "Steps between progress lines (default: ${DEFAULT-VALUE}).")
    int logEvery;

    @Option(names = "--stop-after", defaultValue = "0", hidden = true,
            description = "Stop (checkpointed) after this many steps of the schedule, as if interrupted.")
    int stopAfter;

    @Option(names = "--threads", defaultValue = "1",
            description = "libtorch intra-op threads; 1 (default) is bitwise reproducible, 0 = libtorch's default"
                    + " (all cores: faster, but gradients round differently from run to run).")
    int threads;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        TrainConfig config = new TrainConfig(hidden, layers, heads, kvHeads, moeIntermediate, sharedIntermediate,
                experts, topK, vocabSize, seqLen, batch, steps, lr, warmup, weightDecay, auxLossCoef, gradClip, seed,
                trainLimit);
        if (logEvery < 1 || checkpointEvery < 0 || keepCheckpoints < 1 || evalLimit < 0 || stopAfter < 0
                || threads < 0) {
            throw new UserError("--log-every must be >= 1, --checkpoint-every, --eval-limit and --threads >= 0");
        }
        try {
            new Trainer(config, new Trainer.Run(data, out, resume, checkpointEvery, keepCheckpoints, logEvery,
                    evalLimit, stopAfter, threads), spec.commandLine().getErr()).train();
        } catch (IOException e) {
            throw new UncheckedIOException("training in " + out + " failed: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        return 0;
    }
}
