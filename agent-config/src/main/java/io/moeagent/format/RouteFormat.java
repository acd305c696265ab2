package io.moeagent.format;

/**
 * The binary route-record format, defined once: the agent writes it, the analyzer reads it.
 *
 * <p>Every Chronicle Queue document holds exactly one record and starts with a one-byte record type. All integers
 * are little-endian; arrays are bulk copies of Java arrays. Two layouts exist, told apart by that first byte, so one
 * queue may hold records of both (an older agent wrote the first run, a newer one the next):
 *
 * <p><b>Schema 2</b> (written by this agent; lowercase types). Every record carries the recording session's run id
 * and ends with a CRC32C of all its preceding bytes; fixed fields come first and are laid out so that every array
 * starts aligned to its element size:
 * <pre>
 * META  'm' u8 0, u16 schemaVersion (2), u32 0, i64 runId, then length-prefixed UTF-8 strings and numbers
 *           (see {@link RouteRecordWriter#writeMeta}), u32 crc
 * STEP  's' u8 phase (0 prefill, 1 decode, 2 mixed), u8 flags (1 token ids, 2 row phases), u8 0, i32 tokens T,
 *           u64 0, i64 runId, i64 stepId, i64[T] requestIds, i32[T] positions, [i32[T] tokenIds],
 *           [u8[T] rowPhases], u32 crc
 * ROUTE 'r' u8 flags (1 weights, 2 engine order), u8 k, u8 0, i32 layer, i32 tokens T, i64 runId, i64 stepId,
 *           i32[T*k] expertIds, [f32[T*k] weights], u32 crc
 * STATS 'x' u8 reason, u16 0, u32 0, i64 runId, then the {@link StatsRecord} counters (i64 each), u32 crc
 * </pre>
 *
 * <p><b>Schema 1</b> (older agents; uppercase types, no run id, no checksum; see {@link SchemaV1Writer}):
 * <pre>
 * META  'M' u16 schemaVersion (1), then the {@link MetaRecord} fields
 * STEP  'S' i64 stepId, u8 phase, i32 tokens T, i64[T] requestIds, i32[T] positions
 * ROUTE 'R' i64 stepId, i32 layer, i32 tokens T, u8 k, u8 flags, i32[T*k] expertIds, [f32[T*k] weights if flags&amp;1]
 * </pre>
 *
 * <p>A STEP record describes the token rows of one forward step; every ROUTE record with the same
 * <b>(runId, stepId)</b> refers to those rows in the same order ({@link #joinKey}). Step ids are unique within a
 * run (the writer numbers steps itself); run ids tell recording sessions apart (schema 1 records have run id 0).
 * Row i of a route is token {@code positions[i]} of request {@code requestIds[i]}. A reader must skip a route whose
 * step it has not seen, and count (never decode) a record whose checksum does not match.
 */
public final class RouteFormat {
    /** The schema this agent writes. Bumped on any incompatible change; readers refuse versions they do not know. */
    public static final int SCHEMA_VERSION = 2;
    /** The schema of the first agent; readers keep reading it. */
    public static final int SCHEMA_V1 = 1;

    public static final byte TYPE_META = 'm';
    public static final byte TYPE_STEP = 's';
    public static final byte TYPE_ROUTE = 'r';
    public static final byte TYPE_STATS = 'x';

    public static final byte TYPE_META_V1 = 'M';
    public static final byte TYPE_STEP_V1 = 'S';
    public static final byte TYPE_ROUTE_V1 = 'R';

    public static final byte PHASE_PREFILL = 0;
    public static final byte PHASE_DECODE = 1;
    /** A step whose rows are of both phases; the per-row phases say which row is which. */
    public static final byte PHASE_MIXED = 2;

    /** Route flag: the record holds weights. */
    public static final int FLAG_WEIGHTS = 1;
    /**
     * Route flag: each row's experts are in the engine's own order, not best-first (the engine returned them unsorted
     * and no weights were known to sort them by).
     */
    public static final int FLAG_ENGINE_ORDER = 2;

    /** Step flag: the record holds each row's input token id. */
    public static final int STEP_FLAG_TOKEN_IDS = 1;
    /** Step flag: the record holds each row's phase. */
    public static final int STEP_FLAG_ROW_PHASES = 2;

    /** Why a statistics record was written. */
    public static final byte STATS_PERIODIC = 0;
    public static final byte STATS_EXIT = 1;
    public static final byte STATS_DETACH = 2;
    public static final byte STATS_STOPPED = 3;

    /** Bytes of the fixed part of a schema-2 step record, before its arrays. */
    public static final int STEP_HEADER = 32;
    /** Bytes of the fixed part of a schema-2 route record, before its arrays. */
    public static final int ROUTE_HEADER = 28;
    /** The trailing CRC32C. */
    public static final int CRC_BYTES = 4;
    /** Chronicle's per-document header, counted so that byte caps are close to the bytes on disk. */
    public static final int DOCUMENT_HEADER = 4;

    /** k is stored in one byte. */
    public static final int MAX_TOP_K = 255;

    private RouteFormat() {
    }

    /** Schema-2 size in bytes of a step record of {@code tokens} rows (without Chronicle's document header). */
    public static long stepRecordBytes(int tokens, boolean tokenIds, boolean rowPhases) {
        return STEP_HEADER + tokens * 12L + (tokenIds ? tokens * 4L : 0) + (rowPhases ? tokens : 0) + CRC_BYTES;
    }

    /** Schema-2 size in bytes of a route record (without Chronicle's document header). */
    public static long routeRecordBytes(int tokens, int k, boolean weights) {
        long n = (long) tokens * k;
        return ROUTE_HEADER + n * 4 + (weights ? n * 4 : 0) + CRC_BYTES;
    }

    /** The step↔route join: a route belongs to the step record with the same run id and step id. */
    public static StepKey joinKey(long runId, long stepId) {
        return new StepKey(runId, stepId);
    }

    /** Identifies one step record in a queue. */
    public record StepKey(long runId, long stepId) {
    }

    /** A run id as the analyzer prints it: 16 lowercase hex digits ({@code 0000000000000000} for schema 1). */
    public static String runIdText(long runId) {
        String hex = Long.toHexString(runId);
        return "0".repeat(16 - hex.length()) + hex;
    }

    /** Parses {@link #runIdText}; throws NumberFormatException on anything else. */
    public static long parseRunId(String text) {
        String t = text.trim();
        if (t.isEmpty() || t.length() > 16) {
            throw new NumberFormatException("a run id is 1 to 16 hex digits, got '" + t + "'");
        }
        return Long.parseUnsignedLong(t, 16);
    }
}
