package io.moeagent.host.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsRoundTripTest {
    static NDManager manager;

    @TempDir
    Path dir;

    @BeforeAll
    static void engine() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** Values that every on-disk dtype holds exactly, including a float16 subnormal and the extremes. */
    static float[] exactValues() {
        return new float[] {0f, -0f, 1f, -1.5f, 0.25f, 3.140625f, -1024f, 57344f, 0x1.0p-14f, 2.5f, 0.375f, -7f};
    }

    static SafetensorsWriter.Tensor tensor(String name, TensorDType dtype, long[] shape, float[] values) {
        return new SafetensorsWriter.Tensor(name, dtype, shape, () -> values);
    }

    @Test
    void everyDiskTypeLoadsBitExactAsFloat32AndFloat16() throws Exception {
        float[] values = exactValues();
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, List.of(
                tensor("a.f32", TensorDType.F32, new long[] {3, 4}, values),
                tensor("b.f16", TensorDType.F16, new long[] {3, 4}, values),
                tensor("c.bf16", TensorDType.BF16, new long[] {12}, values)), Map.of("k", "v"));
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(dir)) {
            assertTrue(source.contains("a.f32") && source.contains("b.f16") && source.contains("c.bf16"));
            assertFalse(source.contains("d"));
            for (String name : List.of("a.f32", "b.f16")) {
                NDArray f32 = source.load(name, manager, DataType.FLOAT32, 3, 4);
                assertEquals(DataType.FLOAT32, f32.getDataType());
                assertArrayEquals(bits(values), bits(f32.toFloatArray()), name);
                NDArray f16 = source.load(name, manager, DataType.FLOAT16, 3, 4);
                assertEquals(DataType.FLOAT16, f16.getDataType());
                assertArrayEquals(halfBits(values), halfBits(f16), name);
            }
            NDArray bf = source.load("c.bf16", manager, DataType.FLOAT32, 12);
            assertArrayEquals(bits(values), bits(bf.toFloatArray()));
            NDArray bfHalf = source.load("c.bf16", manager, DataType.FLOAT16, 12);
            assertArrayEquals(halfBits(values), halfBits(bfHalf));
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals("v", f.metadata().get("k"));
            assertEquals("pt", f.metadata().get("format"));
        }
    }

    @Test
    void writerRoundsToTheDiskTypeToNearestEven() throws Exception {
        float[] values = {1.0f + 0x1.0p-11f, 1.0f + 3 * 0x1.0p-11f, Float.intBitsToFloat(0x3F808000)};
        SafetensorsWriter.write(dir.resolve("model.safetensors"), List.of(
                tensor("h", TensorDType.F16, new long[] {3}, values),
                tensor("b", TensorDType.BF16, new long[] {3}, values)), null);
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(dir)) {
            // float16 has 10 fraction bits: ties go to the even neighbour, 1 + 2^-8 is exact
            assertArrayEquals(new float[] {1.0f, 1.0f + 0x1.0p-9f, 1.0f + 0x1.0p-8f},
                    source.load("h", manager, DataType.FLOAT32).toFloatArray());
            // bfloat16 has 7: all three round to 1 (the last one is an exact tie, to even)
            assertArrayEquals(new float[] {1.0f, 1.0f, 1.0f},
                    source.load("b", manager, DataType.FLOAT32).toFloatArray());
        }
    }

    @Test
    void shardedCheckpointLoadsThroughItsIndex() throws Exception {
        List<SafetensorsWriter.Tensor> tensors = List.of(
                tensor("x", TensorDType.F32, new long[] {4}, new float[] {1, 2, 3, 4}),
                tensor("y", TensorDType.BF16, new long[] {2, 2}, new float[] {5, 6, 7, 8}),
                tensor("z", TensorDType.F16, new long[] {3}, new float[] {9, 10, 11}));
        SafetensorsWriter.writeSharded(dir, tensors, 10, null);
        assertTrue(Files.isRegularFile(dir.resolve("model-00001-of-00003.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve("model-00003-of-00003.safetensors")));
        String index = Files.readString(dir.resolve(SafetensorsWeightSource.INDEX_FILE));
        assertTrue(index.contains("\"total_size\" : 30"), index);
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(dir)) {
            assertEquals(List.of("x", "y", "z"), List.copyOf(source.names()));
            assertArrayEquals(new float[] {1, 2, 3, 4}, source.load("x", manager, DataType.FLOAT32, 4).toFloatArray());
            assertArrayEquals(new float[] {5, 6, 7, 8},
                    source.load("y", manager, DataType.FLOAT32, 2, 2).toFloatArray());
            assertArrayEquals(new float[] {9, 10, 11}, source.load("z", manager, DataType.FLOAT32, 3).toFloatArray());
        }
    }

    @Test
    void shardMissingFromDiskIsNamed() throws Exception {
        SafetensorsWriter.writeSharded(dir, List.of(
                tensor("x", TensorDType.F32, new long[] {4}, new float[] {1, 2, 3, 4}),
                tensor("y", TensorDType.F32, new long[] {4}, new float[] {1, 2, 3, 4})), 16, null);
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeightSource.open(dir));
        assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors") && e.getMessage().contains("'y'"),
                e.getMessage());
    }

    /** Offsets are longs: a tensor that starts and ends past 2 GiB reads back through its own mapping. */
    @Test
    void tensorEndingPast2GiBInASparseFile() throws Exception {
        long gap = (1L << 31) + 4096; // a filler tensor pushes the real one past 2 GiB
        long fillerElements = gap / 4;
        String header = "{\"filler\":{\"dtype\":\"F32\",\"shape\":[" + fillerElements + "],\"data_offsets\":[0,"
                + gap + "]},\"tail\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + gap + "," + (gap + 16)
                + "]},\"tail16\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[" + (gap + 16) + ","
                + (gap + 20) + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer head = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(json.length).put(json);
            raf.write(head.array());
            long dataStart = 8 + json.length;
            raf.setLength(dataStart + gap + 20); // sparse: the filler's 2 GiB are never written
            ByteBuffer tail = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
            tail.putFloat(1.5f).putFloat(-2f).putFloat(1e-3f).putFloat(123456f);
            tail.putShort(FloatConversions.f32ToBf16(-0.75f)).putShort(FloatConversions.f32ToBf16(96f));
            raf.seek(dataStart + gap);
            raf.write(tail.array());
        }
        assertTrue(Files.size(file) > (1L << 31));
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(file)) {
            assertArrayEquals(new float[] {1.5f, -2f, 1e-3f, 123456f},
                    source.load("tail", manager, DataType.FLOAT32, 2, 2).toFloatArray());
            assertArrayEquals(new float[] {-0.75f, 96f}, source.load("tail16", manager, DataType.FLOAT32, 2)
                    .toFloatArray());
            SafetensorsFile.TensorInfo filler = source.info("filler");
            assertEquals(gap, filler.end());
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> source.load("filler", manager, DataType.FLOAT32));
            assertTrue(e.getMessage().contains("over 2 GiB"), e.getMessage());
        }
    }

    static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }

    static short[] halfBits(float[] values) {
        short[] out = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = FloatConversions.f32ToF16(values[i]);
        }
        return out;
    }

    static short[] halfBits(NDArray half) {
        ByteBuffer b = half.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        short[] out = new short[(int) half.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getShort(i * 2);
        }
        return out;
    }
}
