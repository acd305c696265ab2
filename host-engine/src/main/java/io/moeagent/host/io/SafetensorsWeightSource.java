package io.moeagent.host.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Weights from one {@code model.safetensors} or from shards listed in {@code model.safetensors.index.json}.
 *
 * <p>When the file's dtype is the requested one, a CPU tensor wraps the file mapping itself (zero-copy, read-only:
 * never run an in-place op on it) and a GPU tensor is copied straight from the mapping. Otherwise the values are
 * converted in Java: into a fresh direct buffer that the CPU tensor then owns, or into one reused scratch buffer
 * that DJL copies to the GPU, so the loader never holds a second copy of the model.
 */
public final class SafetensorsWeightSource implements WeightSource {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Conversion is parallel in blocks of this many elements. */
    private static final int BLOCK = 1 << 20;

    private final Path location;
    private final Map<String, SafetensorsFile> fileOf;
    private final Set<SafetensorsFile> files;
    private ByteBuffer scratch;

    private SafetensorsWeightSource(Path location, Map<String, SafetensorsFile> fileOf, Set<SafetensorsFile> files) {
        this.location = location;
        this.fileOf = fileOf;
        this.files = files;
    }

    /** A safetensors file, or a model directory holding model.safetensors or a sharded index. */
    public static SafetensorsWeightSource open(Path fileOrDirectory) {
        if (Files.isDirectory(fileOrDirectory)) {
            Path index = fileOrDirectory.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) {
                return openSharded(index);
            }
            Path single = fileOrDirectory.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) {
                return openSingle(single);
            }
            throw new ModelLoadException("no " + SINGLE_FILE + " or " + INDEX_FILE + " in " + fileOrDirectory
                    + "; point --model at a Hugging Face model directory with safetensors weights");
        }
        if (fileOrDirectory.getFileName().toString().endsWith(".index.json")) {
            return openSharded(fileOrDirectory);
        }
        return openSingle(fileOrDirectory);
    }

    private static SafetensorsWeightSource openSingle(Path file) {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
        f.tensors().keySet().forEach(name -> fileOf.put(name, f));
        return new SafetensorsWeightSource(file, fileOf, Set.of(f));
    }

    private static SafetensorsWeightSource openSharded(Path index) {
        JsonNode weightMap;
        try {
            JsonNode root = JSON.readTree(index.toFile());
            weightMap = root == null ? null : root.get("weight_map");
        } catch (IOException e) {
            throw new ModelLoadException("cannot read sharded index " + index + ": " + e.getMessage()
                    + "; the file is damaged, download it again", e);
        }
        if (weightMap == null || !weightMap.isObject()) {
            throw new ModelLoadException("sharded index " + index + " has no \"weight_map\" object");
        }
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String shardName = e.getValue().asText();
                if (shardName.contains("/") || shardName.contains("\\") || shardName.equals("..")) {
                    throw new ModelLoadException("sharded index " + index + " names shard '" + shardName
                            + "' for tensor '" + e.getKey() + "'; shards must sit next to the index");
                }
                SafetensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    Path shardPath = index.resolveSibling(shardName);
                    if (!Files.isRegularFile(shardPath)) {
                        throw new ModelLoadException("shard " + shardPath + " listed in " + index + " for tensor '"
                                + e.getKey() + "' is missing; download it");
                    }
                    shard = SafetensorsFile.open(shardPath);
                    shards.put(shardName, shard);
                }
                if (shard.info(e.getKey()) == null) {
                    throw new ModelLoadException("tensor '" + e.getKey() + "' is listed in " + index + " under "
                            + shard.path() + " but that file does not contain it");
                }
                fileOf.put(e.getKey(), shard);
            }
        } catch (RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
        return new SafetensorsWeightSource(index, fileOf, Set.copyOf(shards.values()));
    }

    public Set<String> names() {
        return fileOf.keySet();
    }

    /** The header entry for {@code name}, or null. */
    public SafetensorsFile.TensorInfo info(String name) {
        SafetensorsFile f = fileOf.get(name);
        return f == null ? null : f.info(name);
    }

    @Override
    public boolean contains(String name) {
        return fileOf.containsKey(name);
    }

    @Override
    public NDArray load(String name, NDManager manager, DataType dtype, long... expectedShape) {
        SafetensorsFile file = fileOf.get(name);
        if (file == null) {
            throw new ModelLoadException("tensor '" + name + "' is missing from " + location
                    + "; the checkpoint does not match its config.json (wrong or incomplete download?)");
        }
        SafetensorsFile.TensorInfo t = file.info(name);
        if (expectedShape.length > 0 && !Arrays.equals(t.shape(), expectedShape)) {
            throw new ModelLoadException("tensor '" + name + "' in " + file.path() + " has shape "
                    + Arrays.toString(t.shape()) + " but config.json implies " + Arrays.toString(expectedShape));
        }
        if (t.dtype() == null) {
            throw new ModelLoadException("tensor '" + name + "' in " + file.path() + " has dtype " + t.dtypeName()
                    + "; only F32, F16 and BF16 weights are supported");
        }
        TensorDType target = TensorDType.fromComputeType(dtype);
        Shape shape = new Shape(t.shape());
        ByteBuffer mapped = file.map(t);
        if (t.dtype() == target) {
            return manager.create(mapped, shape, dtype);
        }
        int n = Math.toIntExact(t.numElements());
        long bytes = (long) n * target.bytes();
        if (bytes > Integer.MAX_VALUE) {
            throw new ModelLoadException("tensor '" + name + "' in " + file.path() + " would take " + bytes
                    + " bytes as " + dtype + "; tensors over 2 GiB are not supported");
        }
        boolean onCpu = !manager.getDevice().isGpu();
        // on the CPU the tensor keeps this buffer as its storage; on a GPU DJL copies it synchronously
        ByteBuffer converted = onCpu ? ByteBuffer.allocateDirect((int) bytes) : scratch((int) bytes);
        converted.order(ByteOrder.LITTLE_ENDIAN);
        convert(name, file.path(), mapped, t.dtype(), converted, target, n);
        NDArray array = manager.create(converted, shape, dtype);
        if (!onCpu) {
            converted.clear(); // DJL copied it to the device; the scratch is free for the next tensor
        }
        return array;
    }

    private ByteBuffer scratch(int bytes) {
        if (scratch == null || scratch.capacity() < bytes) {
            scratch = null;
            scratch = ByteBuffer.allocateDirect(bytes);
        }
        ByteBuffer view = scratch.duplicate();
        view.clear().limit(bytes);
        return view.slice();
    }

    /** Element-wise conversion, in parallel blocks; F16 targets reject values beyond the float16 range. */
    static void convert(String name, Path file, ByteBuffer from, TensorDType fromType, ByteBuffer to,
                        TensorDType toType, int n) {
        ByteBuffer src = from.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer dst = to.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int blocks = (n + BLOCK - 1) / BLOCK;
        IntStream.range(0, blocks).parallel().forEach(b -> {
            int start = b * BLOCK;
            int end = Math.min(n, start + BLOCK);
            for (int i = start; i < end; i++) {
                float v = readAsFloat(src, fromType, i);
                if (toType == TensorDType.F32) {
                    dst.putFloat(i * 4, v);
                } else if (toType == TensorDType.F16) {
                    short half = FloatConversions.f32ToF16(v);
                    if ((half & 0x7FFF) == 0x7C00 && Float.isFinite(v)) {
                        throw new ModelLoadException("tensor '" + name + "' in " + file + " holds " + v
                                + " at element " + i + ", beyond float16's range (±65504); load it with"
                                + " --dtype float32");
                    }
                    dst.putShort(i * 2, half);
                } else {
                    dst.putShort(i * 2, FloatConversions.f32ToBf16(v));
                }
            }
        });
    }

    private static float readAsFloat(ByteBuffer src, TensorDType type, int i) {
        switch (type) {
            case F32: return src.getFloat(i * 4);
            case F16: return FloatConversions.f16ToF32(src.getShort(i * 2));
            default: return FloatConversions.bf16ToF32(src.getShort(i * 2));
        }
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
        scratch = null;
    }
}
