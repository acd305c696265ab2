package io.moeagent.host.reference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.moeagent.host.io.ModelLoadException;
import io.moeagent.host.io.WeightSource;
import io.moeagent.host.model.ModelConfig;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** A {@link WeightSource} over float arrays held in memory; {@link #random} fills a whole model from a seed. */
public final class InMemoryWeights implements WeightSource {
    private final Map<String, float[]> values;
    private final Map<String, long[]> shapes;

    public InMemoryWeights(Map<String, float[]> values, Map<String, long[]> shapes) {
        this.values = values;
        this.shapes = shapes;
    }

    /**
     * Gaussian weights scaled like a trained model's (1/sqrt(fan-in)), norms around 1, biases small; the router
     * gates are scaled up so that top-k choices are well separated (few near-ties).
     */
    public static InMemoryWeights random(ModelConfig config, long seed) {
        Random random = new Random(seed);
        Map<String, long[]> shapes = Qwen2MoeTensors.shapes(config);
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            float[] data = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
            double scale;
            double offset = 0;
            if (name.endsWith("norm.weight")) {
                scale = 0.1;
                offset = 1.0;
            } else if (name.endsWith(".bias")) {
                scale = 0.05;
            } else if (name.endsWith("embed_tokens.weight")) {
                scale = 1.0;
            } else if (name.endsWith("mlp.gate.weight")) {
                scale = 3.0 / Math.sqrt(shape[1]);
            } else {
                scale = 1.0 / Math.sqrt(shape[shape.length - 1]);
            }
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) (offset + scale * random.nextGaussian());
            }
            values.put(name, data);
        }
        return new InMemoryWeights(values, shapes);
    }

    public float[] values(String name) {
        float[] v = values.get(name);
        if (v == null) {
            throw new ModelLoadException("no tensor " + name);
        }
        return v;
    }

    public Map<String, float[]> asMap() {
        return values;
    }

    @Override
    public NDArray load(String name, NDManager manager, DataType dtype, long... expectedShape) {
        float[] data = values(name);
        if (!Arrays.equals(shapes.get(name), expectedShape)) {
            throw new ModelLoadException("tensor " + name + " has shape " + Arrays.toString(shapes.get(name))
                    + ", expected " + Arrays.toString(expectedShape));
        }
        NDArray array = manager.create(data, new Shape(expectedShape));
        if (dtype == DataType.FLOAT32) {
            return array;
        }
        NDArray converted = array.toType(dtype, false);
        array.close();
        return converted;
    }

    @Override
    public boolean contains(String name) {
        return values.containsKey(name);
    }

    @Override
    public void close() {
    }
}
