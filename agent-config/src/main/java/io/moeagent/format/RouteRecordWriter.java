package io.moeagent.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32C;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Encodes schema-2 records ({@link RouteFormat}) onto one Chronicle appender. A record is assembled in a reused
 * heap buffer (arrays as bulk copies through aligned views), closed with a CRC32C of its bytes, and then copied
 * into the queue as one document; after warm-up the step and route paths allocate nothing.
 *
 * <p>An appender belongs to one thread, and so does its writer: callers keep one per thread.
 */
public final class RouteRecordWriter {
    private final ExcerptAppender appender;
    private final CRC32C crc = new CRC32C();
    private ByteBuffer buf;
    private LongBuffer longs;
    private IntBuffer ints;
    private FloatBuffer floats;

    public RouteRecordWriter(ExcerptAppender appender) {
        this.appender = appender;
        grow(4096);
    }

    public ExcerptAppender appender() {
        return appender;
    }

    /** Writes the meta record of run {@code m.runId()}; returns its size on disk in bytes. */
    public long writeMeta(MetaRecord m) {
        ensure(4096);
        buf.clear();
        buf.put(RouteFormat.TYPE_META).put((byte) 0).putShort((short) RouteFormat.SCHEMA_VERSION).putInt(0);
        buf.putLong(m.runId());
        for (String s : new String[] {m.agentVersion(), m.modelId(), m.engine(), m.engineVersion(),
                m.torchVersion(), m.javaVersion(), m.device(), m.dtype(), m.host(), m.configuration()}) {
            putString(s);
        }
        int[] layers = m.layersRecorded();
        ensure(buf.position() + 40L + layers.length * 4L);
        buf.putLong(m.seed()).putInt(m.numLayers()).putInt(m.numExperts()).putInt(m.topK());
        buf.putInt(layers.length);
        for (int layer : layers) {
            buf.putInt(layer);
        }
        buf.putLong(m.startTimeMillis()).putLong(m.pid());
        buf.putInt(m.extra().size());
        for (Map.Entry<String, String> e : m.extra().entrySet()) {
            putString(e.getKey());
            putString(e.getValue());
        }
        return commit(buf.position());
    }

    /**
     * Writes the token rows of one forward step: {@code tokens} entries of each array. {@code tokenIds} and
     * {@code rowPhases} may be null (not known); {@code phase} is the step's phase, {@link RouteFormat#PHASE_MIXED}
     * when its rows differ.
     *
     * @return the record's size on disk in bytes
     */
    public long writeStep(long runId, long stepId, byte phase, int tokens, long[] requestIds, int[] positions,
                          int[] tokenIds, byte[] rowPhases) {
        long size = RouteFormat.stepRecordBytes(tokens, tokenIds != null, rowPhases != null);
        ensure(size);
        int flags = (tokenIds != null ? RouteFormat.STEP_FLAG_TOKEN_IDS : 0)
                | (rowPhases != null ? RouteFormat.STEP_FLAG_ROW_PHASES : 0);
        buf.clear();
        buf.put(0, RouteFormat.TYPE_STEP).put(1, phase).put(2, (byte) flags).put(3, (byte) 0);
        buf.putInt(4, tokens).putLong(8, 0).putLong(16, runId).putLong(24, stepId);
        int at = RouteFormat.STEP_HEADER;                       // 32: 8-aligned
        longs.put(at / 8, requestIds, 0, tokens);
        at += tokens * 8;
        ints.put(at / 4, positions, 0, tokens);
        at += tokens * 4;
        if (tokenIds != null) {
            ints.put(at / 4, tokenIds, 0, tokens);
            at += tokens * 4;
        }
        if (rowPhases != null) {
            buf.put(at, rowPhases, 0, tokens);
            at += tokens;
        }
        return commit(at);
    }

    /**
     * Writes one layer's selection: {@code tokens * k} ids and, unless {@code weights} is null, as many weights.
     * {@code engineOrder} marks rows kept in the engine's order (not known to be best-first).
     *
     * @return the record's size on disk in bytes
     */
    public long writeRoute(long runId, long stepId, int layer, int tokens, int k, int[] expertIds, float[] weights,
                           boolean engineOrder) {
        int n = Math.multiplyExact(tokens, k);
        ensure(RouteFormat.routeRecordBytes(tokens, k, weights != null));
        int flags = (weights != null ? RouteFormat.FLAG_WEIGHTS : 0) | (engineOrder ? RouteFormat.FLAG_ENGINE_ORDER : 0);
        buf.clear();
        buf.put(0, RouteFormat.TYPE_ROUTE).put(1, (byte) flags).put(2, (byte) k).put(3, (byte) 0);
        buf.putInt(4, layer).putInt(8, tokens).putLong(12, runId).putLong(20, stepId);
        int at = RouteFormat.ROUTE_HEADER;                      // 28: 4-aligned
        ints.put(at / 4, expertIds, 0, n);
        at += n * 4;
        if (weights != null) {
            floats.put(at / 4, weights, 0, n);
            at += n * 4;
        }
        return commit(at);
    }

    /** Writes the agent's statistics for run {@code runId}; returns the record's size on disk in bytes. */
    public long writeStats(long runId, StatsRecord s) {
        ensure(1024);
        buf.clear();
        buf.put(RouteFormat.TYPE_STATS).put(s.reason()).putShort((short) 0).putInt(0);
        buf.putLong(runId);
        buf.putLong(s.timeMillis()).putLong(s.elapsedNanos()).putLong(s.calls()).putLong(s.recordedCalls())
                .putLong(s.nanosInside()).putLong(s.records()).putLong(s.bytes()).putLong(s.droppedCap())
                .putLong(s.droppedDisk()).putLong(s.droppedError());
        buf.putInt(s.extra().size());
        for (Map.Entry<String, Long> e : s.extra().entrySet()) {
            putString(e.getKey());
            ensure(buf.position() + 8L);
            buf.putLong(e.getValue());
        }
        return commit(buf.position());
    }

    /** Checks arguments once, outside the hot path; returns null when they describe a valid route. */
    public static String checkRoute(int tokens, int k, int[] expertIds, float[] weights) {
        if (tokens < 0) {
            return "negative token count " + tokens;
        }
        if (k < 1 || k > RouteFormat.MAX_TOP_K) {
            return "top-k " + k + " outside 1.." + RouteFormat.MAX_TOP_K;
        }
        long n = (long) tokens * k;
        if (n > Integer.MAX_VALUE / 8) {
            return "tokens*k = " + n + " is too large for one record";
        }
        if (expertIds == null || expertIds.length < n) {
            return "expert ids hold fewer than tokens*k = " + n + " entries";
        }
        if (weights != null && weights.length < n) {
            return "weights hold fewer than tokens*k = " + n + " entries";
        }
        return null;
    }

    /** Appends the CRC32C of bytes [0, length) and writes the record as one document. */
    private long commit(int length) {
        buf.limit(length).position(0);
        crc.reset();
        crc.update(buf);
        buf.limit(length + RouteFormat.CRC_BYTES);
        buf.putInt(length, (int) crc.getValue());
        buf.position(0);
        try (DocumentContext dc = appender.writingDocument()) {
            dc.wire().bytes().write(buf.array(), 0, length + RouteFormat.CRC_BYTES);
        }
        return (long) length + RouteFormat.CRC_BYTES + RouteFormat.DOCUMENT_HEADER;
    }

    private void putString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        ensure(buf.position() + 4L + utf8.length + 64);
        buf.putInt(utf8.length).put(utf8);
    }

    /** Makes room for a record of {@code bytes} (plus its CRC), keeping what the buffer holds up to its position. */
    private void ensure(long bytes) {
        long need = bytes + RouteFormat.CRC_BYTES + 8;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("record of " + bytes + " bytes is too large");
        }
        if (buf == null || buf.capacity() < need) {
            grow((int) Math.max(need, Math.min(Integer.MAX_VALUE - 16L, 2L * (buf == null ? 0 : buf.capacity()))));
        }
    }

    private void grow(int capacity) {
        int cap = (capacity + 7) & ~7;
        // a heap buffer: Chronicle copies a byte[] the same way on every JVM, whereas its path for a direct buffer
        // needs java.base opened to it (without the opens it wrote zeros, silently)
        ByteBuffer next = ByteBuffer.allocate(cap).order(ByteOrder.LITTLE_ENDIAN);
        if (buf != null) {
            int pos = buf.position();
            next.put(0, buf, 0, pos);
            next.position(pos);
        }
        buf = next;
        longs = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0).asLongBuffer();
        ints = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0).asIntBuffer();
        floats = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0).asFloatBuffer();
    }
}
