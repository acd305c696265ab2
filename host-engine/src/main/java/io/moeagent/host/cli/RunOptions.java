package io.moeagent.host.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options of a batch generation run. */
public final class RunOptions {
    @Option(names = "--prompts", paramLabel = "FILE",
            description = "GSM8K-style JSONL (a \"question\" per line) or one prompt per line; default: 25 built-in problems.")
    Path prompts;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "25", description = "Use at most N prompts (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64",
            description = "Tokens to generate per prompt at most (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--batch-size", paramLabel = "N", description = "Prompts per batch (default: all prompts in one batch).")
    Integer batchSize;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0",
            description = "0 = greedy (default); above 0 samples with the seed.")
    double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--report", paramLabel = "FILE", description = "Write a JSON run report here.")
    Path report;

    @Option(names = "--label", paramLabel = "TEXT", defaultValue = "", description = "Free text copied into the report.")
    String label;

    @Option(names = "--quiet", description = "No progress on stderr and no generated text on stdout.")
    boolean quiet;
}
