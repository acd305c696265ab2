package io.moeagent.format;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * The first record of a queue: what ran, where, and how the agent was configured.
 * Unknown values are empty strings or -1; {@code extra} carries engine-specific facts in insertion order.
 * {@code runId} identifies the recording session (0 for schema 1, which had none); {@code host} is the host name
 * of the machine that recorded (empty for schema 1).
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
        Map<String, String> extra,
        long runId,
        String host) {

    /** A meta record without run id and host, as schema 1 held it. */
    public MetaRecord(int schemaVersion, String agentVersion, String modelId, String engine, String engineVersion,
                      String torchVersion, String javaVersion, String device, String dtype, long seed, int numLayers,
                      int numExperts, int topK, int[] layersRecorded, String configuration, long startTimeMillis,
                      long pid, Map<String, String> extra) {
        this(schemaVersion, agentVersion, modelId, engine, engineVersion, torchVersion, javaVersion, device, dtype,
                seed, numLayers, numExperts, topK, layersRecorded, configuration, startTimeMillis, pid, extra, 0L, "");
    }

    /** The same facts for another recording session. */
    public MetaRecord withRun(long newRunId, String newHost) {
        return new MetaRecord(schemaVersion, agentVersion, modelId, engine, engineVersion, torchVersion, javaVersion,
                device, dtype, seed, numLayers, numExperts, topK, layersRecorded, configuration, startTimeMillis, pid,
                extra, newRunId, newHost);
    }

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
        host = host == null ? "" : host;
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
                && pid == m.pid && runId == m.runId && host.equals(m.host) && agentVersion.equals(m.agentVersion) && modelId.equals(m.modelId)
                && engine.equals(m.engine) && engineVersion.equals(m.engineVersion)
                && torchVersion.equals(m.torchVersion) && javaVersion.equals(m.javaVersion)
                && device.equals(m.device) && dtype.equals(m.dtype) && configuration.equals(m.configuration)
                && Arrays.equals(layersRecorded, m.layersRecorded) && extra.equals(m.extra);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelId, engine, seed, startTimeMillis, runId, Arrays.hashCode(layersRecorded));
    }
}
