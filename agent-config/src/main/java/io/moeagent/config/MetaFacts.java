package io.moeagent.config;

/**
 * Run facts for the meta record from the configuration, used where the engine's run info (if any) lacks them.
 * Each is null (unknown), a {@link ValuePath} (read at the first recorded call) or, for text, a literal.
 *
 * @param topK null = the k of the first recorded call
 */
public record MetaFacts(Object modelId, Object engine, Object engineVersion, ValuePath numExperts,
                        ValuePath numLayers, ValuePath topK) {
    public static final MetaFacts NONE = new MetaFacts(null, null, null, null, null, null);
}
