package io.moeagent.host.io;

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

import static org.junit.jupiter.api.Assertions.*;

/** Every way a checkpoint file can be unusable ends in one ModelLoadException naming the file and tensor. */
class SafetensorsErrorTest {
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

    /** A file with {@code header} as its JSON header and {@code dataBytes} zero bytes of data. */
    Path rawFile(String header, int dataBytes) throws Exception {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path file = dir.resolve("model.safetensors");
        Files.write(file, b.array());
        return file;
    }

    static ModelLoadException openFails(Path file, String... fragments) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeightSource.open(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        }
        return e;
    }

    @Test
    void headerLengthBeyondTheFile() throws Exception {
        Path file = dir.resolve("model.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1_000_000L);
        Files.write(file, b.array());
        openFails(file, "header length 1000000");
    }

    @Test
    void fileShorterThanTheLengthField() throws Exception {
        Path file = dir.resolve("model.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        openFails(file, "3 bytes");
    }

    @Test
    void headerThatIsNotJson() throws Exception {
        openFails(rawFile("{\"a\": {\"dtype\": \"F32\", ", 0), "not valid JSON");
    }

    @Test
    void duplicateTensorNames() throws Exception {
        openFails(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "not valid JSON", "'a'");
    }

    @Test
    void entryWithoutOffsets() throws Exception {
        openFails(rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8), "'w'", "data_offsets");
    }

    @Test
    void overlappingOffsets() throws Exception {
        openFails(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "'b'", "overlap");
    }

    @Test
    void gapBetweenTensors() throws Exception {
        openFails(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "'b'", "gap");
    }

    @Test
    void sizeNotMatchingShape() throws Exception {
        openFails(rawFile("{\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "'a'", "needs 6");
    }

    @Test
    void truncatedFile() throws Exception {
        SafetensorsWriter.write(dir.resolve("model.safetensors"), List.of(
                new SafetensorsWriter.Tensor("first", TensorDType.F32, new long[] {64}, () -> new float[64]),
                new SafetensorsWriter.Tensor("second", TensorDType.F32, new long[] {64}, () -> new float[64])), null);
        Path file = dir.resolve("model.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() - 10);
        }
        openFails(file, "'second'", "truncated");
    }

    @Test
    void trailingBytesAfterTheLastTensor() throws Exception {
        openFails(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 9), "cover only 4");
    }

    @Test
    void unsupportedDtypeFailsWhenLoaded() throws Exception {
        Path file = rawFile("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(file)) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> source.load("ids", manager, DataType.FLOAT32, 1));
            assertTrue(e.getMessage().contains("'ids'") && e.getMessage().contains("I64")
                    && e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void missingTensorAndWrongShape() throws Exception {
        SafetensorsWriter.write(dir.resolve("model.safetensors"), List.of(
                new SafetensorsWriter.Tensor("w", TensorDType.F32, new long[] {2, 3}, () -> new float[6])), null);
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(dir)) {
            ModelLoadException missing = assertThrows(ModelLoadException.class,
                    () -> source.load("v", manager, DataType.FLOAT32, 2, 3));
            assertTrue(missing.getMessage().contains("'v'") && missing.getMessage().contains(dir.toString()),
                    missing.getMessage());
            ModelLoadException shape = assertThrows(ModelLoadException.class,
                    () -> source.load("w", manager, DataType.FLOAT32, 3, 2));
            assertTrue(shape.getMessage().contains("[2, 3]") && shape.getMessage().contains("[3, 2]"),
                    shape.getMessage());
        }
    }

    @Test
    void valuesBeyondFloat16RangeAreRejectedNotTurnedIntoInfinity() throws Exception {
        SafetensorsWriter.write(dir.resolve("model.safetensors"), List.of(
                new SafetensorsWriter.Tensor("big", TensorDType.BF16, new long[] {3},
                        () -> new float[] {1f, 70000f, 2f}),
                new SafetensorsWriter.Tensor("edge", TensorDType.F32, new long[] {2},
                        () -> new float[] {65519f, -65504f})), null);
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(dir)) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> source.load("big", manager, DataType.FLOAT16, 3));
            assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("float16"), e.getMessage());
            assertArrayEquals(new float[] {1f, 70144f, 2f}, source.load("big", manager, DataType.FLOAT32, 3)
                    .toFloatArray(), "bf16 -> f32 still works");
            assertArrayEquals(new float[] {65504f, -65504f},
                    source.load("edge", manager, DataType.FLOAT16, 2).toType(DataType.FLOAT32, false).toFloatArray());
        }
    }

    @Test
    void directoryWithoutWeights() {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeightSource.open(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }
}
