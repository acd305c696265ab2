package io.moeagent.host.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeagent.host.io.SafetensorsWeightSource;
import io.moeagent.host.io.SafetensorsWriter;
import io.moeagent.host.io.TensorDType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A resumable training checkpoint: {@code checkpoints/step-NNNNNNN/} holding {@code state.safetensors} (parameters
 * and both AdamW moments, F32, exact) and {@code state.json} (the next step, the run's config, the loss history).
 * The data order is a function of the step (see {@link TokenWindows}), so nothing else is needed for a resume that
 * equals an uninterrupted run. Written into a temporary folder and renamed, so a checkpoint is whole or absent.
 */
final class TrainState {
    static final String DIRECTORY = "checkpoints";
    static final String TENSORS = "state.safetensors";
    static final String META = "state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a checkpoint restores. */
    record Loaded(int nextStep, Map<String, NDArray> params, Map<String, NDArray> first, Map<String, NDArray> second,
                  JsonNode meta) {
    }

    private TrainState() {
    }

    static void save(Path out, int nextStep, TrainConfig config, TrainableMoe model, AdamW optimizer,
                     ObjectNode history, int keep) throws IOException {
        Path root = out.resolve(DIRECTORY);
        Files.createDirectories(root);
        Path temp = Files.createTempDirectory(root, "tmp-");
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        add(tensors, "param.", model.params());
        add(tensors, "m.", optimizer.firstMoments());
        add(tensors, "v.", optimizer.secondMoments());
        SafetensorsWriter.write(temp.resolve(TENSORS), tensors, Map.of("moe_train_step", Integer.toString(nextStep)));
        ObjectNode meta = JSON.createObjectNode();
        meta.put("next_step", nextStep);
        meta.set("config", JSON.valueToTree(config));
        meta.set("history", history);
        Files.writeString(temp.resolve(META), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta));
        Path target = root.resolve(String.format("step-%07d", nextStep));
        if (Files.exists(target)) {
            deleteRecursively(target);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        List<Path> all = list(out);
        for (int i = 0; i < all.size() - keep; i++) {
            deleteRecursively(all.get(i));
        }
    }

    private static void add(List<SafetensorsWriter.Tensor> tensors, String prefix, Map<String, NDArray> arrays) {
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            NDArray a = e.getValue();
            tensors.add(new SafetensorsWriter.Tensor(prefix + e.getKey(), TensorDType.F32, a.getShape().getShape(),
                    a::toFloatArray));
        }
    }

    /** Finished checkpoints, oldest first. */
    static List<Path> list(Path out) throws IOException {
        Path root = out.resolve(DIRECTORY);
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d{7}"))
                    .filter(p -> Files.isRegularFile(p.resolve(META)))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    /** The newest finished checkpoint folder under {@code out}, or null. */
    static Path latest(Path out) throws IOException {
        List<Path> all = list(out);
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    static JsonNode meta(Path checkpoint) throws IOException {
        return JSON.readTree(checkpoint.resolve(META).toFile());
    }

    /** Reads checkpoint {@code dir}; arrays are writable copies on {@code manager}. */
    static Loaded load(Path dir, Iterable<String> names, NDManager manager) throws IOException {
        JsonNode meta = meta(dir);
        Map<String, NDArray> params = new LinkedHashMap<>();
        Map<String, NDArray> first = new LinkedHashMap<>();
        Map<String, NDArray> second = new LinkedHashMap<>();
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(dir.resolve(TENSORS))) {
            for (String name : names) {
                // duplicate(): the loaded array wraps a read-only mapping, and training updates in place
                params.put(name, copy(source, "param." + name, manager));
                first.put(name, copy(source, "m." + name, manager));
                second.put(name, copy(source, "v." + name, manager));
            }
        }
        return new Loaded(meta.get("next_step").asInt(), params, first, second, meta);
    }

    private static NDArray copy(SafetensorsWeightSource source, String name, NDManager manager) {
        NDArray mapped = source.load(name, manager, DataType.FLOAT32);
        NDArray copy = mapped.duplicate();
        mapped.close();
        return copy;
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
