package io.moeagent.host.generate;

/** A finished request: its prompt, the ids it generated (an end-of-sequence id included) and why it stopped. */
public record GenerationResult(long id, long[] promptIds, long[] generatedIds, FinishReason finishReason) {
}
