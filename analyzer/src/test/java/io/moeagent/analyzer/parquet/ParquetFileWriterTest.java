package io.moeagent.analyzer.parquet;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files from {@link ParquetFileWriter} read back by DuckDB's Parquet reader (an independent implementation), value
 * for value: nulls, empty and uneven lists, many row groups, level patterns on both sides of the RLE / bit-packing
 * choice, dictionaries, statistics, key-value metadata.
 */
class ParquetFileWriterTest {
    @TempDir
    Path tmp;

    /** What one row should read back as, in the test's own words. */
    record Row(Long id, Integer small, String tag, int[] ids, float[] weights) {
        String text() {
            return id + "|" + small + "|" + tag + "|" + (ids == null ? "null" : Arrays.toString(ids)) + "|"
                    + (weights == null ? "null" : floats(weights));
        }
    }

    static String floats(float[] w) {
        StringBuilder sb = new StringBuilder("[");
        for (float f : w) {
            sb.append(Integer.toHexString(Float.floatToRawIntBits(f))).append(',');
        }
        return sb.append(']').toString();
    }

    @Test
    void duckDbReadsEveryValueBack() throws Exception {
        Random rnd = new Random(7);
        List<Row> rows = new ArrayList<>();
        String[] tags = {"prefill", "decode", "mixed", "ünïcode"};
        for (int i = 0; i < 5_003; i++) {
            // stretches of 1..20 equal values, so both RLE runs and bit-packed groups (and their seams) occur
            int band = (i / (1 + (i % 20))) % 3;
            Long id = i % 97 == 0 ? null : (long) i * 1_000_003L - 40_000_000_000L;
            Integer small = band == 2 && i % 5 == 0 ? null : band;
            String tag = i % 131 == 0 ? null : tags[(i / 9) % tags.length];
            int len = i % 53 == 0 ? 0 : 1 + (i % 7 == 0 ? rnd.nextInt(9) : 3);
            int[] ids = i % 61 == 0 ? null : rnd.ints(len, 0, 60).toArray();
            float[] w = null;
            if (i % 43 != 0) {
                w = new float[len];
                for (int j = 0; j < len; j++) {
                    w[j] = j == 0 && i % 11 == 0 ? Float.NaN : rnd.nextFloat() / (1 + j);
                }
            }
            rows.add(new Row(id, small, tag, ids, w));
        }
        Path file = tmp.resolve("t.parquet");
        ParquetColumn.Integers id = ParquetColumn.int64("id");
        ParquetColumn.Integers small = ParquetColumn.int32("small");
        ParquetColumn.Utf8 tag = ParquetColumn.utf8("tag");
        ParquetColumn.Int32List ids = ParquetColumn.int32List("ids");
        ParquetColumn.Float32List weights = ParquetColumn.float32List("weights");
        try (PageEncoder encoder = new PageEncoder(1);
             ParquetFileWriter w = new ParquetFileWriter(file, List.of(id, small, tag, ids, weights),
                     Map.of("moe_meta", "{\"a\": 1}"), 1_000, encoder, "test")) {
            for (Row r : rows) {
                if (r.id() == null) {
                    id.appendNull();
                } else {
                    id.append(r.id());
                }
                if (r.small() == null) {
                    small.appendNull();
                } else {
                    small.append(r.small());
                }
                if (r.tag() == null) {
                    tag.appendNull();
                } else {
                    tag.append(r.tag());
                }
                if (r.ids() == null) {
                    ids.appendNull();
                } else {
                    ids.append(r.ids(), 0, r.ids().length);
                }
                if (r.weights() == null) {
                    weights.appendNull();
                } else {
                    weights.append(r.weights(), 0, r.weights().length);
                }
                w.endRow();
            }
        }
        List<String> actual = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT * FROM read_parquet('" + file + "')")) {
                while (rs.next()) {
                    long idValue = rs.getLong(1);
                    Long idOrNull = rs.wasNull() ? null : idValue;
                    int smallValue = rs.getInt(2);
                    Integer smallOrNull = rs.wasNull() ? null : smallValue;
                    Array a = rs.getArray(4);
                    int[] idArray = a == null ? null
                            : Arrays.stream((Object[]) a.getArray()).mapToInt(o -> (Integer) o).toArray();
                    Array b = rs.getArray(5);
                    float[] wArray = null;
                    if (b != null) {
                        Object[] o = (Object[]) b.getArray();
                        wArray = new float[o.length];
                        for (int j = 0; j < o.length; j++) {
                            wArray[j] = (Float) o[j];
                        }
                    }
                    actual.add(new Row(idOrNull, smallOrNull, rs.getString(3), idArray, wArray).text());
                }
            }
            assertEquals(rows.stream().map(Row::text).toList(), actual, "every value, in order");
            try (ResultSet rs = s.executeQuery("SELECT count(DISTINCT row_group_id), min(stats_min_value::BIGINT),"
                    + " max(stats_max_value::BIGINT) FROM parquet_metadata('" + file + "')"
                    + " WHERE path_in_schema = 'id'")) {
                rs.next();
                assertEquals(6, rs.getInt(1), "1,000-row groups, the last one partial");
                long min = rows.stream().filter(r -> r.id() != null).mapToLong(Row::id).min().getAsLong();
                long max = rows.stream().filter(r -> r.id() != null).mapToLong(Row::id).max().getAsLong();
                assertEquals(min, rs.getLong(2));
                assertEquals(max, rs.getLong(3));
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM read_parquet('" + file + "') WHERE id > "
                    + (rows.get(2_500).id()))) {
                rs.next();
                assertEquals(rows.stream().filter(r -> r.id() != null && r.id() > rows.get(2_500).id()).count(),
                        rs.getLong(1), "a filter that row-group statistics can prune gives the same answer");
            }
            try (ResultSet rs = s.executeQuery("SELECT value FROM parquet_kv_metadata('" + file + "')"
                    + " WHERE key = 'moe_meta'")) {
                assertTrue(rs.next());
                assertEquals("{\"a\": 1}", new String(rs.getBytes(1), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void integersAreDictionaryEncodedOnlyWhereThatIsSmaller() throws Exception {
        Path file = tmp.resolve("dict.parquet");
        ParquetColumn.Integers distinct = ParquetColumn.int32("many");
        ParquetColumn.Integers few = ParquetColumn.int64("few");
        ParquetColumn.Int32List experts = ParquetColumn.int32List("experts");
        int n = 50_000;
        try (PageEncoder encoder = new PageEncoder(1);
             ParquetFileWriter w = new ParquetFileWriter(file, List.of(distinct, few, experts), Map.of(), 40_000,
                     encoder, "test")) {
            for (int i = 0; i < n; i++) {
                distinct.append(i * 7 - 1_000_000);
                few.append((i % 100) * 10_000_000_000L);
                experts.append(new int[] {i % 60, (i * 13) % 60}, 0, 2);
                w.endRow();
            }
        }
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM (SELECT row_number() OVER () - 1 AS i, * FROM"
                    + " read_parquet('" + file + "')) WHERE many = i * 7 - 1000000 AND few = (i % 100) * 10000000000"
                    + " AND experts = [i % 60, (i * 13) % 60]")) {
                rs.next();
                assertEquals(n, rs.getLong(1), "every value reads back");
            }
            try (ResultSet rs = s.executeQuery("SELECT row_group_id, path_in_schema, encodings FROM parquet_metadata('"
                    + file + "') ORDER BY 1, 2")) {
                List<String> enc = new ArrayList<>();
                while (rs.next()) {
                    enc.add(rs.getInt(1) + " " + rs.getString(2) + ": " + rs.getString(3));
                }
                assertEquals(List.of("0 experts, list, element: PLAIN, RLE, RLE_DICTIONARY",
                        "0 few: PLAIN, RLE, RLE_DICTIONARY", "0 many: RLE, PLAIN",
                        "1 experts, list, element: PLAIN, RLE, RLE_DICTIONARY", "1 few: PLAIN, RLE, RLE_DICTIONARY",
                        "1 many: RLE, PLAIN"), enc,
                        "all-distinct values stay PLAIN (past the limit, or where a dictionary is larger); 60 and 100"
                        + " distinct values get one");
            }
        }
    }

    @Test
    void anEmptyFileIsAValidFileOfNoRows() throws Exception {
        Path file = tmp.resolve("empty.parquet");
        try (PageEncoder encoder = new PageEncoder(1);
             ParquetFileWriter w = new ParquetFileWriter(file, List.of(ParquetColumn.int32("x"),
                     ParquetColumn.int32List("l")), Map.of(), 10, encoder, "test")) {
            assertEquals(0, w.rows());
        }
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM read_parquet('" + file + "')")) {
            rs.next();
            assertEquals(0, rs.getLong(1));
        }
    }

    @Test
    void anExistingFileIsNeverOverwritten() throws Exception {
        Path file = tmp.resolve("kept.parquet");
        Files.writeString(file, "mine");
        try (PageEncoder encoder = new PageEncoder(1)) {
            assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> new ParquetFileWriter(file,
                    List.of(ParquetColumn.int32("x")), Map.of(), 10, encoder, "test"));
        }
        assertEquals("mine", Files.readString(file));
    }
}
