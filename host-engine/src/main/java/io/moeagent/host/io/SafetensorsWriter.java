package io.moeagent.host.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Writes safetensors files (F32, F16 or BF16 on disk, converted from float32 values with round-to-nearest-even),
 * optionally sharded with a {@code model.safetensors.index.json} the way Hugging Face lays them out. Values are
 * produced one tensor at a time, so a writer never holds more than one tensor in memory.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One tensor to write; {@code values} is called once, when the tensor's bytes are written. */
    public record Tensor(String name, TensorDType dtype, long[] shape, Supplier<float[]> values) {
        public long numElements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        public long byteSize() {
            return numElements() * dtype.bytes();
        }
    }

    private SafetensorsWriter() {
    }

    /** Writes one file holding {@code tensors} in the given order. */
    public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        meta.put("format", "pt");
        if (metadata != null) {
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode entry = header.putObject(t.name());
            entry.put("dtype", t.dtype().name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + t.byteSize());
            offset += t.byteSize();
        }
        byte[] json = JSON.writeValueAsBytes(header);
        // pad with spaces to 8 bytes, as the reference implementation does, so the data section is aligned
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(out, head);
            for (Tensor t : tensors) {
                writeFully(out, encode(t));
            }
        }
    }

    /**
     * Writes {@code tensors} into shards of at most about {@code maxShardBytes} each (a tensor never splits), named
     * {@code model-00001-of-0000N.safetensors}, plus the index mapping every tensor to its shard. With one shard the
     * files are still named and indexed as shards.
     */
    public static void writeSharded(Path directory, List<Tensor> tensors, long maxShardBytes,
                                    Map<String, String> metadata) throws IOException {
        List<List<Tensor>> shards = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long currentBytes = 0;
        long total = 0;
        for (Tensor t : tensors) {
            if (!current.isEmpty() && currentBytes + t.byteSize() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += t.byteSize();
            total += t.byteSize();
        }
        if (!current.isEmpty()) {
            shards.add(current);
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode weightMap = index.putObject("weight_map");
        Map<String, String> sorted = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            write(directory.resolve(name), shards.get(i), metadata);
            for (Tensor t : shards.get(i)) {
                sorted.put(t.name(), name);
            }
        }
        sorted.forEach(weightMap::put);
        Files.write(directory.resolve(SafetensorsWeightSource.INDEX_FILE),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index).getBytes(StandardCharsets.UTF_8));
    }

    private static ByteBuffer encode(Tensor t) {
        float[] values = t.values().get();
        if (values.length != t.numElements()) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' got " + values.length
                    + " values for " + t.numElements() + " elements");
        }
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (t.dtype()) {
                case F32: bytes.putFloat(v); break;
                case F16: bytes.putShort(FloatConversions.f32ToF16(v)); break;
                default: bytes.putShort(FloatConversions.f32ToBf16(v)); break;
            }
        }
        return bytes.flip();
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (out.write(buffer) < 0) {
                throw new UncheckedIOException(new IOException("write failed"));
            }
        }
    }
}
