package io.moeagent.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Reads route records from a queue directory in order, decoding into reused objects.
 * Opens the queue read-only, so it can follow a queue a live host is still writing.
 */
public final class RouteQueueReader implements AutoCloseable {
    @SuppressWarnings({"removal", "deprecation"})
    private static final int INT_BASE = sun.misc.Unsafe.ARRAY_INT_BASE_OFFSET;
    @SuppressWarnings({"removal", "deprecation"})
    private static final int LONG_BASE = sun.misc.Unsafe.ARRAY_LONG_BASE_OFFSET;
    @SuppressWarnings({"removal", "deprecation"})
    private static final int FLOAT_BASE = sun.misc.Unsafe.ARRAY_FLOAT_BASE_OFFSET;

    private final Path dir;
    private final ChronicleQueue queue;
    private final ExcerptTailer tailer;
    private final StepRecord step = new StepRecord();
    private final RouteRecord route = new RouteRecord();
    private long skipped;

    private RouteQueueReader(Path dir, ChronicleQueue queue) {
        this.dir = dir;
        this.queue = queue;
        this.tailer = queue.createTailer();
    }

    /**
     * Opens {@code dir} read-only.
     *
     * @throws RouteFormatException when the directory is missing or holds no queue files
     */
    public static RouteQueueReader open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new RouteFormatException("queue directory " + dir + " does not exist; pass the directory the agent wrote"
                    + " (MOE_ROUTE_LOG / queue=...)");
        }
        if (!hasQueueFiles(dir)) {
            throw new RouteFormatException("no queue files (*.cq4) in " + dir
                    + "; is this the agent's queue directory, and did the host record anything?");
        }
        ChronicleQueue q = null;
        try {
            q = SingleChronicleQueueBuilder.binary(dir).readOnly(true).build();
            return new RouteQueueReader(dir, q);
        } catch (Exception e) {
            // createTailer() can throw a checked StreamCorruptedException that Chronicle hides from the compiler
            if (q != null) {
                q.close();
            }
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.getClass().getSimpleName());
            throw new RouteFormatException("cannot open " + dir + " as a route queue (" + why + "); its *.cq4"
                    + " files are not Chronicle Queue files written by moe-agent", e);
        }
    }

    public static boolean hasQueueFiles(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".cq4"));
        } catch (IOException e) {
            return false;
        }
    }

    public Path directory() {
        return dir;
    }

    /** Records that were present but could not be decoded (e.g. cut short); they are passed over. */
    public long skippedRecords() {
        return skipped;
    }

    /**
     * Decodes the next record into {@code visitor}.
     *
     * @return false when no complete record is available (now)
     * @throws RouteFormatException on a record of an unknown type or schema version
     */
    public boolean readNext(RecordVisitor visitor) {
        try (DocumentContext dc = tailer.readingDocument()) {
            if (!dc.isPresent()) {
                return false;
            }
            if (dc.isMetaData()) {
                return true;
            }
            long index = dc.index();
            Bytes<?> b = dc.wire().bytes();
            if (b.readRemaining() < 1) {
                skipped++;
                return true;
            }
            byte type = b.readByte();
            try {
                switch (type) {
                    case RouteFormat.TYPE_ROUTE -> {
                        if (readRoute(b)) {
                            visitor.onRoute(route, index);
                        } else {
                            skipped++;
                        }
                    }
                    case RouteFormat.TYPE_STEP -> {
                        if (readStep(b)) {
                            visitor.onStep(step, index);
                        } else {
                            skipped++;
                        }
                    }
                    case RouteFormat.TYPE_META -> visitor.onMeta(readMeta(b, index), index);
                    default -> throw new RouteFormatException("record at index " + Long.toHexString(index) + " of "
                            + dir + " has unknown type 0x" + Integer.toHexString(type & 0xff)
                            + "; this is not a moe-agent route queue, or it was written by a newer agent");
                }
            } catch (java.nio.BufferUnderflowException e) {
                skipped++;
            }
            return true;
        }
    }

    /** Reads every record available now; returns how many were read. */
    public long readAll(RecordVisitor visitor) {
        long n = 0;
        while (readNext(visitor)) {
            n++;
        }
        return n;
    }

    private boolean readRoute(Bytes<?> b) {
        if (b.readRemaining() < 8 + 4 + 4 + 2) {
            return false;
        }
        route.stepId = b.readLong();
        route.layer = b.readInt();
        int tokens = b.readInt();
        int k = b.readUnsignedByte();
        int flags = b.readUnsignedByte();
        long n = (long) tokens * k;
        boolean weights = (flags & RouteFormat.FLAG_WEIGHTS) != 0;
        long need = n * Integer.BYTES + (weights ? n * Float.BYTES : 0);
        if (tokens < 0 || k < 1 || need > b.readRemaining()) {
            return false;
        }
        route.tokens = tokens;
        route.k = k;
        route.hasWeights = weights;
        route.ensureCapacity((int) n);
        b.unsafeReadObject(route.expertIds, INT_BASE, (int) n * Integer.BYTES);
        if (weights) {
            b.unsafeReadObject(route.weights, FLOAT_BASE, (int) n * Float.BYTES);
        }
        return true;
    }

    private boolean readStep(Bytes<?> b) {
        if (b.readRemaining() < 8 + 1 + 4) {
            return false;
        }
        step.stepId = b.readLong();
        step.prefill = b.readByte() == RouteFormat.PHASE_PREFILL;
        int tokens = b.readInt();
        if (tokens < 0 || (long) tokens * (Long.BYTES + Integer.BYTES) > b.readRemaining()) {
            return false;
        }
        step.tokens = tokens;
        step.ensureCapacity(tokens);
        b.unsafeReadObject(step.requestIds, LONG_BASE, tokens * Long.BYTES);
        b.unsafeReadObject(step.positions, INT_BASE, tokens * Integer.BYTES);
        return true;
    }

    private MetaRecord readMeta(Bytes<?> b, long index) {
        int schema = b.readUnsignedShort();
        if (schema != RouteFormat.SCHEMA_VERSION) {
            throw new RouteFormatException("queue " + dir + " has route schema version " + schema
                    + " (meta record at index " + Long.toHexString(index) + "); this reader knows version "
                    + RouteFormat.SCHEMA_VERSION + ": use the analyzer that matches the agent that wrote it");
        }
        String agentVersion = b.readUtf8();
        String modelId = b.readUtf8();
        String engine = b.readUtf8();
        String engineVersion = b.readUtf8();
        String torchVersion = b.readUtf8();
        String javaVersion = b.readUtf8();
        String device = b.readUtf8();
        String dtype = b.readUtf8();
        long seed = b.readLong();
        int numLayers = b.readInt();
        int numExperts = b.readInt();
        int topK = b.readInt();
        int nLayers = b.readInt();
        if (nLayers < 0 || nLayers > 1 << 16) {
            throw new RouteFormatException("meta record at index " + Long.toHexString(index) + " of " + dir
                    + " is corrupt (" + nLayers + " recorded layers)");
        }
        int[] layers = new int[nLayers];
        for (int i = 0; i < nLayers; i++) {
            layers[i] = b.readInt();
        }
        String configuration = b.readUtf8();
        long start = b.readLong();
        long pid = b.readLong();
        int nExtra = b.readInt();
        Map<String, String> extra = new LinkedHashMap<>();
        for (int i = 0; i < nExtra; i++) {
            extra.put(b.readUtf8(), b.readUtf8());
        }
        return new MetaRecord(schema, agentVersion, modelId, engine, engineVersion, torchVersion, javaVersion,
                device, dtype, seed, numLayers, numExperts, topK, layers, configuration, start, pid, extra);
    }

    @Override
    public void close() {
        tailer.close();
        queue.close();
    }
}
