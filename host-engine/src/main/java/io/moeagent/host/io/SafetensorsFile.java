package io.moeagent.host.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One open safetensors file: its validated header and a way to map each tensor's bytes. The whole header is
 * checked when the file is opened (offsets contiguous, inside the file, sizes matching shapes), so that a
 * truncated or corrupt download fails before any weight is loaded.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The safetensors format's own limit on the JSON header. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** One entry of the header. {@code dtype} is null for element types this host cannot use. */
    public record TensorInfo(String name, String dtypeName, TensorDType dtype, long[] shape, long begin, long end) {
        public long numElements() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    /** Duplicate keys would let one entry silently hide another. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new ModelLoadException("cannot open safetensors file " + path + ": " + e, e);
        }
        try {
            return parse(path, channel);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel channel) {
        try {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw corrupt(path, "file has " + fileSize + " bytes, fewer than the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > fileSize - 8) {
                throw corrupt(path, "header length " + headerLength + " is impossible for a file of "
                        + fileSize + " bytes");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(channel, headerBytes, 8);
            String headerText = new String(headerBytes.array(), StandardCharsets.UTF_8);
            JsonNode header;
            try {
                header = JSON.readTree(headerText);
            } catch (JsonProcessingException e) {
                throw corrupt(path, "header is not valid JSON (" + e.getOriginalMessage() + ")");
            }
            if (header == null || !header.isObject()) {
                throw corrupt(path, "header is not a JSON object");
            }
            long dataStart = 8 + headerLength;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (field.getKey().equals("__metadata__")) {
                    field.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                tensors.put(field.getKey(), parseEntry(path, field.getKey(), field.getValue()));
            }
            checkLayout(path, tensors.values(), fileSize - dataStart);
            return new SafetensorsFile(path, channel, dataStart, Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            throw new ModelLoadException("cannot read safetensors file " + path + ": " + e, e);
        }
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode entry) {
        JsonNode dtype = entry.get("dtype");
        JsonNode shape = entry.get("shape");
        JsonNode offsets = entry.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray() || offsets == null
                || !offsets.isArray() || offsets.size() != 2) {
            throw corrupt(path, "tensor '" + name + "' needs dtype, shape and two data_offsets, has " + entry);
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw corrupt(path, "tensor '" + name + "' has an invalid shape " + shape);
            }
            dims[i] = d.asLong();
        }
        JsonNode b = offsets.get(0);
        JsonNode e = offsets.get(1);
        if (!b.isIntegralNumber() || !e.isIntegralNumber() || !b.canConvertToLong() || !e.canConvertToLong()
                || b.asLong() < 0 || e.asLong() < b.asLong()) {
            throw corrupt(path, "tensor '" + name + "' has invalid data_offsets " + offsets);
        }
        TensorInfo info = new TensorInfo(name, dtype.asText(), TensorDType.fromSafetensors(dtype.asText()), dims,
                b.asLong(), e.asLong());
        if (info.dtype() != null) {
            long expected;
            try {
                expected = Math.multiplyExact(info.numElements(), info.dtype().bytes());
            } catch (ArithmeticException overflow) {
                throw corrupt(path, "tensor '" + name + "' has an impossibly large shape " + shape);
            }
            if (info.end() - info.begin() != expected) {
                throw corrupt(path, "tensor '" + name + "' spans " + (info.end() - info.begin()) + " bytes but "
                        + info.dtypeName() + " " + Arrays.toString(dims) + " needs " + expected);
            }
        }
        return info;
    }

    /** Tensors must tile the data section from byte 0 with no overlap and no gap, and end inside the file. */
    private static void checkLayout(Path path, Iterable<TensorInfo> all, long dataBytes) {
        List<TensorInfo> sorted = new ArrayList<>();
        all.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expectedBegin = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() != expectedBegin) {
                String what = t.begin() < expectedBegin ? "overlaps" : "leaves a gap after";
                throw corrupt(path, "tensor '" + t.name() + "' (data_offsets [" + t.begin() + ", " + t.end() + "]) "
                        + what + (previous == null ? " the start of the data" : " tensor '" + previous.name()
                        + "' (ending at " + previous.end() + ")") + "; offsets overlap or are out of order");
            }
            if (t.end() > dataBytes) {
                throw new ModelLoadException("tensor '" + t.name() + "' in " + path + " ends at data byte " + t.end()
                        + " but the file holds only " + dataBytes + " data bytes: the file is truncated"
                        + " (an interrupted download?); download it again");
            }
            expectedBegin = t.end();
            previous = t;
        }
        if (expectedBegin != dataBytes) {
            throw corrupt(path, "the data section has " + dataBytes + " bytes but the tensors cover only "
                    + expectedBegin);
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public TensorInfo info(String name) {
        return tensors.get(name);
    }

    /** A read-only little-endian mapping of the tensor's bytes; never hand it to an in-place operation. */
    public MappedByteBuffer map(TensorInfo t) {
        long size = t.end() - t.begin();
        if (size > Integer.MAX_VALUE) {
            throw new ModelLoadException("tensor '" + t.name() + "' in " + path + " has " + size
                    + " bytes; tensors over 2 GiB are not supported");
        }
        try {
            MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), size);
            buffer.order(ByteOrder.LITTLE_ENDIAN);
            return buffer;
        } catch (IOException e) {
            throw new ModelLoadException("cannot map tensor '" + t.name() + "' of " + path + ": " + e, e);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        while (into.hasRemaining()) {
            int n = channel.read(into, position + into.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static ModelLoadException corrupt(Path path, String what) {
        return new ModelLoadException("corrupt safetensors header in " + path + ": " + what
                + "; the file is damaged or not a safetensors file, download it again");
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing useful to do: the mappings stay valid and the descriptor is gone either way
        }
    }
}
