package io.moeagent.format;

import java.util.Map;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Encodes records in the layout of route schema 1 (uppercase record types, no run id, no checksum). The agent no
 * longer writes it; it stays so that tests and fixtures can produce the queues older agents wrote, which every
 * reader must keep reading. Stateless.
 */
public final class SchemaV1Writer {
    @SuppressWarnings({"removal", "deprecation"})
    private static final int INT_BASE = sun.misc.Unsafe.ARRAY_INT_BASE_OFFSET;
    @SuppressWarnings({"removal", "deprecation"})
    private static final int LONG_BASE = sun.misc.Unsafe.ARRAY_LONG_BASE_OFFSET;
    @SuppressWarnings({"removal", "deprecation"})
    private static final int FLOAT_BASE = sun.misc.Unsafe.ARRAY_FLOAT_BASE_OFFSET;

    private SchemaV1Writer() {
    }

    public static void writeMeta(ExcerptAppender appender, MetaRecord m) {
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte(RouteFormat.TYPE_META_V1);
            b.writeUnsignedShort(m.schemaVersion());
            b.writeUtf8(m.agentVersion());
            b.writeUtf8(m.modelId());
            b.writeUtf8(m.engine());
            b.writeUtf8(m.engineVersion());
            b.writeUtf8(m.torchVersion());
            b.writeUtf8(m.javaVersion());
            b.writeUtf8(m.device());
            b.writeUtf8(m.dtype());
            b.writeLong(m.seed());
            b.writeInt(m.numLayers());
            b.writeInt(m.numExperts());
            b.writeInt(m.topK());
            int[] layers = m.layersRecorded();
            b.writeInt(layers.length);
            for (int layer : layers) {
                b.writeInt(layer);
            }
            b.writeUtf8(m.configuration());
            b.writeLong(m.startTimeMillis());
            b.writeLong(m.pid());
            b.writeInt(m.extra().size());
            for (Map.Entry<String, String> e : m.extra().entrySet()) {
                b.writeUtf8(e.getKey());
                b.writeUtf8(e.getValue());
            }
        }
    }

    /** Writes the token rows of one forward step: {@code tokens} entries of each array. */
    public static void writeStep(ExcerptAppender appender, long stepId, boolean prefill,
                                 long[] requestIds, int[] positions, int tokens) {
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte(RouteFormat.TYPE_STEP_V1);
            b.writeLong(stepId);
            b.writeByte(prefill ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE);
            b.writeInt(tokens);
            b.unsafeWriteObject(requestIds, LONG_BASE, tokens * Long.BYTES);
            b.unsafeWriteObject(positions, INT_BASE, tokens * Integer.BYTES);
        }
    }

    /**
     * Writes one layer's selection: {@code tokens * k} ids and, unless {@code weights} is null, as many weights.
     */
    public static void writeRoute(ExcerptAppender appender, long stepId, int layer, int tokens, int k,
                                  int[] expertIds, float[] weights) {
        int n = tokens * k;
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte(RouteFormat.TYPE_ROUTE_V1);
            b.writeLong(stepId);
            b.writeInt(layer);
            b.writeInt(tokens);
            b.writeUnsignedByte(k);
            b.writeUnsignedByte(weights == null ? 0 : RouteFormat.FLAG_WEIGHTS);
            b.unsafeWriteObject(expertIds, INT_BASE, n * Integer.BYTES);
            if (weights != null) {
                b.unsafeWriteObject(weights, FLOAT_BASE, n * Float.BYTES);
            }
        }
    }
}
