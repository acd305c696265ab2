package io.moeagent.agent.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.host.io.FloatConversions;
import io.moeagent.host.io.SafetensorsFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs the real host jar and reads what it leaves: the run report and the tiny checkpoint's tensors. */
public final class Host {
    /** Shared by all tests, so the synthetic checkpoint is written once. */
    public static final Path CACHE = Path.of("target/moe-cache").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();

    private Host() {
    }

    public static Map<String, String> env(String moeRouteLog) {
        Map<String, String> env = new HashMap<>();
        env.put("MOE_CACHE_DIR", CACHE.toString());
        if (moeRouteLog != null) {
            env.put("MOE_ROUTE_LOG", moeRouteLog);
        }
        return env;
    }

    /** {@code java [-javaagent] [jvmArgs] -jar host.jar run ... --report report} */
    public static List<String> run(String java, String agentOptions, List<String> jvmArgs, Path report,
                                   String... hostArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        if (agentOptions != null) {
            cmd.add("-javaagent:" + Forked.AGENT_JAR + (agentOptions.isEmpty() ? "" : "=" + agentOptions));
        }
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-jar", Forked.HOST_JAR.toString(), "run", "--model", "synthetic:tiny", "--quiet",
                "--report", report.toString()));
        cmd.addAll(List.of(hostArgs));
        return cmd;
    }

    public static JsonNode report(Path file) throws IOException {
        return JSON.readTree(file.toFile());
    }

    /**
     * The tiny checkpoint's tensors as float32 by name, decoded in plain Java through the host's file reader (its
     * own tests cover it), so the reference model sees the weights without DJL or the agent in between.
     */
    public static Map<String, float[]> tensors(Path safetensors) {
        Map<String, float[]> out = new HashMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(safetensors)) {
            for (SafetensorsFile.TensorInfo t : file.tensors().values()) {
                ByteBuffer data = file.map(t);
                float[] f = new float[Math.toIntExact(t.numElements())];
                for (int i = 0; i < f.length; i++) {
                    switch (t.dtype()) {
                        case F32 -> f[i] = data.getFloat(i * 4);
                        case BF16 -> f[i] = FloatConversions.bf16ToF32(data.getShort(i * 2));
                        case F16 -> f[i] = FloatConversions.f16ToF32(data.getShort(i * 2));
                    }
                }
                out.put(t.name(), f);
            }
        }
        return out;
    }
}
