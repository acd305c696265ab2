package io.moeagent.agent.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
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

    /** The tiny checkpoint's tensors as float32 by name (BF16/F16/F32 safetensors), read without the host's code. */
    public static Map<String, float[]> tensors(Path safetensors) throws IOException {
        Map<String, float[]> out = new HashMap<>();
        try (FileChannel ch = FileChannel.open(safetensors)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long headerLength = len.getLong(0);
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            ch.read(header, 8);
            JsonNode root = JSON.readTree(header.array());
            long base = 8 + headerLength;
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                String dtype = e.getValue().get("dtype").asText();
                long begin = e.getValue().get("data_offsets").get(0).asLong();
                long end = e.getValue().get("data_offsets").get(1).asLong();
                ByteBuffer data = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(data, base + begin);
                data.flip();
                out.put(e.getKey(), decode(dtype, data));
            }
        }
        return out;
    }

    private static float[] decode(String dtype, ByteBuffer data) {
        switch (dtype) {
            case "F32": {
                float[] f = new float[data.remaining() / 4];
                data.asFloatBuffer().get(f);
                return f;
            }
            case "BF16": {
                float[] f = new float[data.remaining() / 2];
                for (int i = 0; i < f.length; i++) {
                    f[i] = Float.intBitsToFloat((data.getShort() & 0xFFFF) << 16);
                }
                return f;
            }
            case "F16": {
                float[] f = new float[data.remaining() / 2];
                for (int i = 0; i < f.length; i++) {
                    f[i] = halfToFloat(data.getShort() & 0xFFFF);
                }
                return f;
            }
            default:
                throw new IllegalArgumentException("tensor dtype " + dtype);
        }
    }

    private static float halfToFloat(int h) {
        int sign = (h >>> 15) == 0 ? 1 : -1;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            return sign * mant * 0x1p-24f;
        }
        if (exp == 31) {
            return mant == 0 ? sign * Float.POSITIVE_INFINITY : Float.NaN;
        }
        return sign * (1 + mant / 1024f) * (float) Math.pow(2, exp - 15);
    }
}
