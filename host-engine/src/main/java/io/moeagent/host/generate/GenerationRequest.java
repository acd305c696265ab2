package io.moeagent.host.generate;

/** One prompt to continue: its id (the StepContext request id), its token ids and how many tokens to add at most. */
public record GenerationRequest(long id, long[] promptIds, int maxNewTokens) {
    public GenerationRequest {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("request " + id + " has an empty prompt: it needs at least one token");
        }
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        }
    }
}
