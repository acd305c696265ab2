package io.moeagent.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Reads route records of both schemas ({@link RouteFormat}) from a queue directory in order, decoding into reused
 * objects. Opens the queue read-only, so it can follow a queue a live host is still writing. A schema-2 record whose
 * CRC32C does not match is counted ({@link #corruptRecords()}) and never decoded.
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
    private final CRC32C crc = new CRC32C();
    private ByteBuffer buf;
    private LongBuffer longs;
    private IntBuffer ints;
    private FloatBuffer floats;
    private long skipped;
    private long corrupt;
    /** Cycle files cut short, by cycle: the tailer must never read past their last complete record. */
    private final Map<Integer, CycleFileScan.Cut> cuts;
    private final java.util.List<String> cutReports;
    /** Set after the last complete record of a cut cycle file: the next read would touch missing pages. */
    private int atCutOfCycle = Integer.MIN_VALUE;

    private RouteQueueReader(Path dir, ChronicleQueue queue, Map<Integer, CycleFileScan.Cut> cuts) {
        this.dir = dir;
        this.queue = queue;
        this.cuts = cuts;
        java.util.List<String> reports = new java.util.ArrayList<>();
        for (CycleFileScan.Cut c : cuts.values()) {
            reports.add("queue file " + c.file().getFileName() + " is cut short at " + c.length() + " bytes (truncated"
                    + " or partly copied): its " + c.dataDocuments() + " complete records were read, the record at byte "
                    + c.cutAt() + " and anything after it are lost");
        }
        this.cutReports = java.util.List.copyOf(reports);
        this.tailer = queue.createTailer();
        grow(4096);
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
            return new RouteQueueReader(dir, q, findCuts(dir, (SingleChronicleQueue) q));
        } catch (RouteFormatException e) {
            if (q != null) {
                q.close();
            }
            throw e;
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

    /**
     * Scans every cycle file whose length is not one Chronicle gives its files (whole chunks plus the overlap) and
     * maps the ones cut short to their cycle. Building the read-only queue maps only the metadata file, not these.
     */
    private static Map<Integer, CycleFileScan.Cut> findCuts(Path dir, SingleChronicleQueue q) throws IOException {
        Map<String, CycleFileScan.Cut> byName = new LinkedHashMap<>();
        java.util.List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".cq4")).sorted().toList();
        }
        for (Path f : files) {
            if (!CycleFileScan.chronicleLength(Files.size(f), q.blockSize(), q.overlapSize())) {
                CycleFileScan.Cut cut = CycleFileScan.scan(f);
                if (cut != null && cut.notChronicle()) {
                    throw new RouteFormatException("cannot open " + dir + " as a route queue (" + f.getFileName()
                            + " does not start with a Chronicle file header); its *.cq4 files are not Chronicle Queue"
                            + " files written by moe-agent");
                }
                if (cut != null && cut.dataDocuments() == 0) {
                    throw new RouteFormatException("queue file " + f + " is cut short at " + cut.length() + " bytes,"
                            + " before its first record (inside its header and index): it holds nothing readable"
                            + (files.size() == 1 ? ", and it is the queue's only file"
                            : ", and a reader cannot pass it; move it out of " + dir + " to read the other files"));
                }
                if (cut != null) {
                    byName.put(f.getFileName().toString(), cut);
                }
            }
        }
        Map<Integer, CycleFileScan.Cut> byCycle = new LinkedHashMap<>();
        if (byName.isEmpty()) {
            return byCycle;
        }
        RollCycle roll = q.rollCycle();
        java.time.format.DateTimeFormatter name = java.time.format.DateTimeFormatter.ofPattern(roll.format())
                .withZone(java.time.ZoneOffset.UTC);
        java.util.List<Long> cycles = new java.util.ArrayList<>(q.listCyclesBetween(q.firstCycle(), q.lastCycle()));
        for (int i = 0; i < cycles.size(); i++) {
            int cycle = cycles.get(i).intValue();
            String file = name.format(java.time.Instant.ofEpochMilli(q.epoch() + (long) cycle * roll.lengthInMillis()))
                    + ".cq4";
            CycleFileScan.Cut cut = byName.remove(file);
            if (cut == null && cycles.size() == files.size()) {
                // a naming this formatting does not reproduce: cycles and files are both in ascending order
                cut = byName.remove(files.get(i).getFileName().toString());
            }
            if (cut != null) {
                byCycle.put(cycle, cut);
            }
        }
        if (!byName.isEmpty()) {
            throw new RouteFormatException("queue files " + byName.keySet() + " in " + dir + " are cut short and"
                    + " match no cycle of the queue; move them out of the directory to read the others");
        }
        return byCycle;
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
     * One line per cycle file that was cut short (truncated, or partly copied): where, and how many of its records
     * could be read. Reading stops before the cut, so it never touches pages the file does not have.
     */
    public java.util.List<String> cutFiles() {
        return cutReports;
    }

    /**
     * Schema-2 records whose checksum did not match their bytes (damaged on disk, or never fully written), and
     * records of either schema that are zero-filled (no record type is 0).
     */
    public long corruptRecords() {
        return corrupt;
    }

    /**
     * Decodes the next record into {@code visitor}.
     *
     * @return false when no complete record is available (now)
     * @throws RouteFormatException on a record of an unknown type or schema version
     */
    public boolean readNext(RecordVisitor visitor) {
        if (atCutOfCycle != Integer.MIN_VALUE && !leaveCutCycle()) {
            return false;
        }
        try (DocumentContext dc = tailer.readingDocument()) {
            if (!dc.isPresent()) {
                return false;
            }
            if (dc.isMetaData()) {
                return true;
            }
            long index = dc.index();
            if (!cuts.isEmpty() && beyondCut(index)) {
                return true;
            }
            Bytes<?> b = dc.wire().bytes();
            if (b.readRemaining() < 1) {
                skipped++;
                return true;
            }
            byte type = (byte) b.peekUnsignedByte();
            if (type == 0) {
                // a zero-filled record (pages a full disk never backed): no record type is 0
                corrupt++;
                return true;
            }
            if (type == RouteFormat.TYPE_ROUTE || type == RouteFormat.TYPE_STEP || type == RouteFormat.TYPE_META
                    || type == RouteFormat.TYPE_STATS) {
                readV2(b, type, index, visitor);
                return true;
            }
            b.readSkip(1);
            try {
                switch (type) {
                    case RouteFormat.TYPE_ROUTE_V1 -> {
                        if (readRoute(b)) {
                            visitor.onRoute(route, index);
                        } else {
                            skipped++;
                        }
                    }
                    case RouteFormat.TYPE_STEP_V1 -> {
                        if (readStep(b)) {
                            visitor.onStep(step, index);
                        } else {
                            skipped++;
                        }
                    }
                    case RouteFormat.TYPE_META_V1 -> visitor.onMeta(readMeta(b, index), index);
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

    /**
     * Notes when the record at {@code index} is the last complete one of a cut cycle file; true when it lies past the
     * cut (not expected: the scan counted the same documents Chronicle reads).
     */
    private boolean beyondCut(long index) {
        RollCycle roll = queue.rollCycle();
        int cycle = roll.toCycle(index);
        CycleFileScan.Cut cut = cuts.get(cycle);
        if (cut == null) {
            return false;
        }
        long seq = roll.toSequenceNumber(index);
        if (seq + 1 >= cut.dataDocuments()) {
            atCutOfCycle = cycle;
        }
        return seq >= cut.dataDocuments();
    }

    /** Moves the tailer to the cycle after a cut one; false when there is none (yet). */
    private boolean leaveCutCycle() {
        SingleChronicleQueue q = (SingleChronicleQueue) queue;
        int last = q.lastCycle();
        if (last <= atCutOfCycle) {
            return false;
        }
        Long next = q.listCyclesBetween(atCutOfCycle + 1, last).stream().findFirst().orElse(null);
        if (next == null || !tailer.moveToCycle(next.intValue())) {
            return false;
        }
        atCutOfCycle = Integer.MIN_VALUE;
        return true;
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
        route.runId = 0;
        route.engineOrder = false;
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
        step.runId = 0;
        step.hasTokenIds = false;
        step.hasRowPhases = false;
        step.stepId = b.readLong();
        step.phase = b.readByte() == RouteFormat.PHASE_PREFILL ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE;
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
        if (schema != RouteFormat.SCHEMA_V1) {
            throw unknownSchema(schema, index);
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

    private RouteFormatException unknownSchema(int schema, long index) {
        return new RouteFormatException("queue " + dir + " has route schema version " + schema
                + " (meta record at index " + Long.toHexString(index) + "); this reader knows versions "
                + RouteFormat.SCHEMA_V1 + " and " + RouteFormat.SCHEMA_VERSION
                + ": use the analyzer that matches the agent that wrote it");
    }

    /** Copies a schema-2 record out of the queue, checks its CRC32C and decodes it. */
    private void readV2(Bytes<?> b, byte type, long index, RecordVisitor visitor) {
        long remaining = b.readRemaining();
        if (remaining < 8 + RouteFormat.CRC_BYTES || remaining > Integer.MAX_VALUE - 16) {
            skipped++;
            return;
        }
        int length = (int) remaining;
        if (buf.capacity() < length) {
            grow(Math.max(length, 2 * buf.capacity()));
        }
        buf.clear().limit(length);
        if (b.read(buf.array(), 0, length) != length) {
            skipped++;
            return;
        }
        int body = length - RouteFormat.CRC_BYTES;
        buf.position(0).limit(body);
        crc.reset();
        crc.update(buf);
        buf.limit(length);
        if ((int) crc.getValue() != buf.getInt(body)) {
            corrupt++;
            return;
        }
        buf.position(0).limit(body);
        try {
            switch (type) {
                case RouteFormat.TYPE_ROUTE -> {
                    if (decodeRoute(body)) {
                        visitor.onRoute(route, index);
                    } else {
                        corrupt++;
                    }
                }
                case RouteFormat.TYPE_STEP -> {
                    if (decodeStep(body)) {
                        visitor.onStep(step, index);
                    } else {
                        corrupt++;
                    }
                }
                case RouteFormat.TYPE_META -> visitor.onMeta(decodeMeta(index), index);
                default -> {
                    long runId = buf.getLong(8);
                    visitor.onStats(decodeStats(), runId, index);
                }
            }
        } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException | IllegalArgumentException e) {
            // a record whose checksum matched but whose fields do not fit: written by a broken writer
            corrupt++;
        }
    }

    private boolean decodeRoute(int body) {
        if (body < RouteFormat.ROUTE_HEADER) {
            return false;
        }
        int flags = buf.get(1) & 0xff;
        int k = buf.get(2) & 0xff;
        int tokens = buf.getInt(8);
        boolean weights = (flags & RouteFormat.FLAG_WEIGHTS) != 0;
        long n = (long) tokens * k;
        if (tokens < 0 || k < 1 || RouteFormat.routeRecordBytes(tokens, k, weights) != body + RouteFormat.CRC_BYTES) {
            return false;
        }
        route.layer = buf.getInt(4);
        route.runId = buf.getLong(12);
        route.stepId = buf.getLong(20);
        route.tokens = tokens;
        route.k = k;
        route.hasWeights = weights;
        route.engineOrder = (flags & RouteFormat.FLAG_ENGINE_ORDER) != 0;
        route.ensureCapacity((int) n);
        int at = RouteFormat.ROUTE_HEADER;
        ints.get(at / 4, route.expertIds, 0, (int) n);
        if (weights) {
            floats.get(at / 4 + (int) n, route.weights, 0, (int) n);
        }
        return true;
    }

    private boolean decodeStep(int body) {
        if (body < RouteFormat.STEP_HEADER) {
            return false;
        }
        byte phase = buf.get(1);
        int flags = buf.get(2) & 0xff;
        int tokens = buf.getInt(4);
        boolean tokenIds = (flags & RouteFormat.STEP_FLAG_TOKEN_IDS) != 0;
        boolean rowPhases = (flags & RouteFormat.STEP_FLAG_ROW_PHASES) != 0;
        if (tokens < 0 || phase < RouteFormat.PHASE_PREFILL || phase > RouteFormat.PHASE_MIXED
                || RouteFormat.stepRecordBytes(tokens, tokenIds, rowPhases) != body + RouteFormat.CRC_BYTES) {
            return false;
        }
        step.phase = phase;
        step.tokens = tokens;
        step.runId = buf.getLong(16);
        step.stepId = buf.getLong(24);
        step.hasTokenIds = tokenIds;
        step.hasRowPhases = rowPhases;
        step.ensureCapacity(tokens);
        int at = RouteFormat.STEP_HEADER;
        longs.get(at / 8, step.requestIds, 0, tokens);
        at += tokens * 8;
        ints.get(at / 4, step.positions, 0, tokens);
        at += tokens * 4;
        if (tokenIds) {
            ints.get(at / 4, step.tokenIds, 0, tokens);
            at += tokens * 4;
        }
        if (rowPhases) {
            buf.get(at, step.rowPhases, 0, tokens);
        }
        return true;
    }

    private MetaRecord decodeMeta(long index) {
        int schema = buf.getShort(2) & 0xffff;
        if (schema != RouteFormat.SCHEMA_VERSION) {
            throw unknownSchema(schema, index);
        }
        buf.position(8);
        long runId = buf.getLong();
        String agentVersion = getString();
        String modelId = getString();
        String engine = getString();
        String engineVersion = getString();
        String torchVersion = getString();
        String javaVersion = getString();
        String device = getString();
        String dtype = getString();
        String host = getString();
        String configuration = getString();
        long seed = buf.getLong();
        int numLayers = buf.getInt();
        int numExperts = buf.getInt();
        int topK = buf.getInt();
        int nLayers = buf.getInt();
        if (nLayers < 0 || nLayers > buf.remaining() / 4) {
            throw new IllegalArgumentException("recorded layers");
        }
        int[] layers = new int[nLayers];
        for (int i = 0; i < nLayers; i++) {
            layers[i] = buf.getInt();
        }
        long start = buf.getLong();
        long pid = buf.getLong();
        int nExtra = buf.getInt();
        if (nExtra < 0 || nExtra > buf.remaining() / 8) {
            throw new IllegalArgumentException("extra");
        }
        Map<String, String> extra = new LinkedHashMap<>();
        for (int i = 0; i < nExtra; i++) {
            extra.put(getString(), getString());
        }
        return new MetaRecord(schema, agentVersion, modelId, engine, engineVersion, torchVersion, javaVersion,
                device, dtype, seed, numLayers, numExperts, topK, layers, configuration, start, pid, extra, runId, host);
    }

    private StatsRecord decodeStats() {
        byte reason = buf.get(1);
        buf.position(16);
        long time = buf.getLong();
        long elapsed = buf.getLong();
        long calls = buf.getLong();
        long recordedCalls = buf.getLong();
        long inside = buf.getLong();
        long records = buf.getLong();
        long bytes = buf.getLong();
        long droppedCap = buf.getLong();
        long droppedDisk = buf.getLong();
        long droppedError = buf.getLong();
        int nExtra = buf.getInt();
        if (nExtra < 0 || nExtra > buf.remaining() / 12) {
            throw new IllegalArgumentException("extra");
        }
        Map<String, Long> extra = new LinkedHashMap<>();
        for (int i = 0; i < nExtra; i++) {
            extra.put(getString(), buf.getLong());
        }
        return new StatsRecord(reason, time, elapsed, calls, recordedCalls, inside, records, bytes, droppedCap,
                droppedDisk, droppedError, extra);
    }

    private String getString() {
        int n = buf.getInt();
        if (n < 0 || n > buf.remaining()) {
            throw new IllegalArgumentException("string length " + n);
        }
        byte[] bytes = new byte[n];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private void grow(int capacity) {
        int cap = (capacity + 7) & ~7;
        buf = ByteBuffer.allocate(cap).order(ByteOrder.LITTLE_ENDIAN);
        longs = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0).asLongBuffer();
        ints = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0).asIntBuffer();
        floats = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0).asFloatBuffer();
    }

    @Override
    public void close() {
        tailer.close();
        queue.close();
    }
}
