package io.moeagent.host.generate;

import ai.djl.engine.Engine;
import io.moeagent.host.model.ModelConfig;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/** The engine metadata every StepContext carries and the run report repeats. */
public final class RunInfo {
    public static final String ENGINE = "moe-host";

    private RunInfo() {
    }

    public static Map<String, String> of(String modelId, ModelConfig config, String device, String dtype, long seed) {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("model_id", modelId);
        info.put("engine", ENGINE);
        info.put("engine_version", engineVersion());
        info.put("djl_version", Engine.getDjlVersion());
        info.put("torch_version", Engine.getEngine("PyTorch").getVersion());
        info.put("java_version", System.getProperty("java.version"));
        info.put("device", device);
        info.put("dtype", dtype);
        info.put("seed", Long.toString(seed));
        info.put("num_layers", Integer.toString(config.numHiddenLayers()));
        info.put("num_experts", Integer.toString(config.numExperts()));
        info.put("top_k", Integer.toString(config.numExpertsPerTok()));
        info.put("moe_layers", moeLayers(config));
        return Collections.unmodifiableMap(info);
    }

    /** Comma-separated indices of the sparse layers. */
    public static String moeLayers(ModelConfig config) {
        StringJoiner joined = new StringJoiner(",");
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            if (config.isMoeLayer(layer)) {
                joined.add(Integer.toString(layer));
            }
        }
        return joined.toString();
    }

    static String engineVersion() {
        String version = RunInfo.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
