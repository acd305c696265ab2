package io.moeagent.host.cli;

import picocli.CommandLine.Option;

/** Options that pick and place the model, shared by {@code run} and {@code serve}. */
public final class ModelOptions {
    @Option(names = "--model", paramLabel = "SPEC", defaultValue = "gsm8k-tiny",
            description = "gsm8k-tiny (default: trained on GSM8K by the project, shipped in the jar), synthetic:tiny"
                    + " (random weights), synthetic:qwen1.5-moe-a2.7b, or a Hugging Face model directory.")
    String model;

    @Option(names = "--device", paramLabel = "auto|cpu|gpu", defaultValue = "auto",
            description = "Where to run: auto picks the GPU when one is present (default: ${DEFAULT-VALUE}).")
    DeviceChoice device;

    @Option(names = "--dtype", paramLabel = "auto|float32|float16", defaultValue = "auto",
            description = "Compute dtype: auto = float16 on a GPU, float32 on the CPU (default: ${DEFAULT-VALUE}).")
    DtypeChoice dtype;

    @Option(names = "--experts", paramLabel = "auto|loop|stacked", defaultValue = "auto", hidden = true,
            description = "Expert dispatch layout: loop per expert, or stacked batched matmuls (auto: stacked on GPU).")
    String expertLayout;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where synthetic checkpoints are written (default: $MOE_CACHE_DIR, else ~/.cache/moe-agent).")
    java.nio.file.Path cacheDir;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1234", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    public enum DeviceChoice { auto, cpu, gpu }

    public enum DtypeChoice { auto, float32, float16 }
}
