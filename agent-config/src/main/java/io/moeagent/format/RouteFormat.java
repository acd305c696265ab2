package io.moeagent.format;

/**
 * The binary route-record format, defined once: the agent writes it, the analyzer reads it.
 *
 * <p>Every Chronicle Queue document holds exactly one record and starts with a one-byte record type.
 * All integers are little-endian (Chronicle's native order); arrays are bulk copies of Java arrays.
 *
 * <pre>
 * META  'M' u16 schemaVersion, then the {@link MetaRecord} fields (see {@link RouteRecordWriter#writeMeta})
 * STEP  'S' i64 stepId, u8 phase (0 prefill, 1 decode), i32 tokens T, i64[T] requestIds, i32[T] positions
 * ROUTE 'R' i64 stepId, i32 layer, i32 tokens T, u8 k, u8 flags, i32[T*k] expertIds, [f32[T*k] weights if flags&1]
 * </pre>
 *
 * <p>A STEP record describes the token rows of one forward step; every ROUTE record with the same stepId refers to
 * those rows in the same order. Step ids are unique within a queue (the writer numbers steps itself). Row i of a route is token
 * {@code positions[i]} of request {@code requestIds[i]}. A reader must skip a route whose step it has not seen.
 */
public final class RouteFormat {
    /** Bumped on any incompatible change; readers refuse versions they do not know. */
    public static final int SCHEMA_VERSION = 1;

    public static final byte TYPE_META = 'M';
    public static final byte TYPE_STEP = 'S';
    public static final byte TYPE_ROUTE = 'R';

    public static final byte PHASE_PREFILL = 0;
    public static final byte PHASE_DECODE = 1;

    public static final int FLAG_WEIGHTS = 1;

    /** k is stored in one byte. */
    public static final int MAX_TOP_K = 255;

    private RouteFormat() {
    }
}
