package io.moeagent.host.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.moeagent.host.model.ModelConfig;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Random weights of a model's exact shape, drawn by the engine on the target device when asked for, so a
 * reference-sized model needs neither a download nor a second copy in host memory. Each tensor's noise comes
 * from the engine's generator re-seeded from the tensor's name, so a tensor is the same whatever the load order
 * (on one device kind: CPU and CUDA generators draw different numbers from the same seed). The structured parts
 * of {@link SyntheticInit} are drawn in Java and identical everywhere.
 */
public final class SyntheticWeightSource implements WeightSource {
    private final ModelConfig config;
    private final long seed;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    public SyntheticWeightSource(ModelConfig config, long seed) {
        this.config = config;
        this.seed = seed;
        for (Qwen2MoeTensors.Spec s : Qwen2MoeTensors.all(config)) {
            shapes.put(s.name(), s.shape());
        }
    }

    @Override
    public NDArray load(String name, NDManager manager, DataType dtype, long... expectedShape) {
        long[] shape = shapes.get(name);
        if (shape == null) {
            throw new ModelLoadException("tensor '" + name + "' is not part of the synthetic " + config.modelType()
                    + " model");
        }
        if (expectedShape.length > 0 && !Arrays.equals(shape, expectedShape)) {
            throw new ModelLoadException("synthetic tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + " but the caller expects " + Arrays.toString(expectedShape));
        }
        TensorDType.fromComputeType(dtype);
        SyntheticInit.Recipe r = SyntheticInit.recipe(config, name, shape, seed);
        Shape s = new Shape(shape);
        if (r.std() == 0) {
            return manager.full(s, r.mean(), dtype);
        }
        try (NDManager scratch = manager.newSubManager()) {
            // the engine's seed is an int; fold the 64-bit name seed into it
            long mixed = SyntheticInit.seedFor(seed, name);
            manager.getEngine().setRandomSeed((int) (mixed ^ (mixed >>> 32)));
            NDArray values = scratch.randomNormal(r.mean(), r.std(), s, DataType.FLOAT32);
            if (r.rowOffset() != null) {
                values = values.add(scratch.create(r.rowOffset(), new Shape(1, shape[1])));
            }
            if (r.rowBias() != null) {
                NDArray bias = scratch.create(r.rowBias(), new Shape(shape[0], 1));
                NDArray direction = scratch.create(r.direction(), new Shape(1, shape[1]));
                values = values.add(bias.mul(direction));
            }
            NDArray result = values.toType(dtype, false);
            result.attach(manager);
            return result;
        }
    }

    @Override
    public boolean contains(String name) {
        return shapes.containsKey(name);
    }

    @Override
    public void close() {
        // nothing held: every tensor belongs to the caller's manager
    }
}
