package io.moeagent.format;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * The first record of a queue: what ran, where, and how the agent was configured.
 * Unknown values are empty strings or -1; {@code extra} carries engine-specific facts in insertion order.
 */
public record MetaRecord(
        int schemaVersion,
        String agentVersion,
        String modelId,
        String engine,
        String engineVersion,
        String torchVersion,
        String javaVersion,
        String device,
        String dtype,
        long seed,
        int numLayers,
        int numExperts,
        int topK,
        int[] layersRecorded,
        String configuration,
        long startTimeMillis,
        long pid,
        Map<String, String> extra) {

    public MetaRecord {
        Objects.requireNonNull(agentVersion, "agentVersion");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(engineVersion, "engineVersion");
        Objects.requireNonNull(torchVersion, "torchVersion");
        Objects.requireNonNull(javaVersion, "javaVersion");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(configuration, "configuration");
        layersRecorded = layersRecorded == null ? new int[0] : layersRecorded.clone();
        extra = extra == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(extra));
    }

    @Override
    public int[] layersRecorded() {
        return layersRecorded.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MetaRecord m
                && schemaVersion == m.schemaVersion && seed == m.seed && numLayers == m.numLayers
                && numExperts == m.numExperts && topK == m.topK && startTimeMillis == m.startTimeMillis
                && pid == m.pid && agentVersion.equals(m.agentVersion) && modelId.equals(m.modelId)
                && engine.equals(m.engine) && engineVersion.equals(m.engineVersion)
                && torchVersion.equals(m.torchVersion) && javaVersion.equals(m.javaVersion)
                && device.equals(m.device) && dtype.equals(m.dtype) && configuration.equals(m.configuration)
                && Arrays.equals(layersRecorded, m.layersRecorded) && extra.equals(m.extra);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelId, engine, seed, startTimeMillis, Arrays.hashCode(layersRecorded));
    }
}
