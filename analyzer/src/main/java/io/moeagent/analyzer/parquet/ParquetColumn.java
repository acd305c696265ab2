package io.moeagent.analyzer.parquet;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One nullable column of the row group being assembled: its Parquet schema, its buffered values, and how they
 * become one data page. Scalars are {@code optional} fields; lists are the standard three-level
 * {@code optional group (LIST) { repeated group list { optional element } }}.
 */
public abstract sealed class ParquetColumn {
    static final int TYPE_INT32 = 1;
    static final int TYPE_INT64 = 2;
    static final int TYPE_FLOAT = 4;
    static final int TYPE_BYTE_ARRAY = 6;
    static final int ENCODING_PLAIN = 0;
    static final int ENCODING_RLE = 3;
    static final int ENCODING_RLE_DICTIONARY = 8;
    private static final int OPTIONAL = 1;
    private static final int REPEATED = 2;
    private static final int CONVERTED_UTF8 = 0;
    private static final int CONVERTED_LIST = 3;

    final String name;
    /** Rows buffered in the current row group. */
    int rows;
    int nulls;
    /** Definition levels of scalar rows, kept only once a null has been seen. */
    private byte[] defined;

    ParquetColumn(String name) {
        this.name = name;
    }

    public static Integers int32(String name) {
        return new Integers(name, false);
    }

    public static Integers int64(String name) {
        return new Integers(name, true);
    }

    public static Utf8 utf8(String name) {
        return new Utf8(name);
    }

    public static Int32List int32List(String name) {
        return new Int32List(name);
    }

    public static Float32List float32List(String name) {
        return new Float32List(name);
    }

    abstract int physicalType();

    /** The leaf's path from the schema root. */
    List<String> path() {
        return List.of(name);
    }

    /** Level entries (= values counted as Parquet counts them, nulls included) in the current row group. */
    long levelCount() {
        return rows;
    }

    /** How many schema elements {@link #schema} writes. */
    int schemaElements() {
        return 1;
    }

    /** Writes this column's {@link #schemaElements()} schema elements. */
    void schema(ThriftCompact t) {
        t.element().i32(1, physicalType()).i32(3, OPTIONAL).string(4, name);
        logicalType(t);
        t.end();
    }

    void logicalType(ThriftCompact t) {
    }

    /** The row group's integer dictionary, when {@link #prepare} found that it pays; else null (PLAIN). */
    IntDictionary intDictionary;

    /** Called before the row group's pages are written: integer columns choose dictionary or PLAIN encoding. */
    void prepare(IntDictionary shared) {
    }

    /** Value encoding of the data page. */
    int valueEncoding() {
        return intDictionary != null ? ENCODING_RLE_DICTIONARY : ENCODING_PLAIN;
    }

    boolean hasDictionary() {
        return intDictionary != null;
    }

    int dictionarySize() {
        return intDictionary == null ? 0 : intDictionary.size();
    }

    /** The dictionary page's body: the distinct values, PLAIN. */
    void encodeDictionary(PageBytes out) {
        for (int i = 0; i < intDictionary.size(); i++) {
            if (physicalType() == TYPE_INT64) {
                out.int64(intDictionary.value(i));
            } else {
                out.int32((int) intDictionary.value(i));
            }
        }
    }

    /** The values as dictionary indices: their bit width, then the RLE / bit-packing hybrid. */
    final void encodeIndices(PageBytes out, int[] indices, int n, int bitWidth) {
        out.put(bitWidth);
        out.hybrid(indices, n, bitWidth);
    }

    /** Writes the data page's body (levels, then values) of the current row group. */
    void encodePage(PageBytes out) {
        int slot = out.lengthSlot();
        if (nulls == 0) {
            out.rleRun(1, rows, 1);
        } else {
            int[] levels = new int[rows];
            for (int i = 0; i < rows; i++) {
                levels[i] = defined[i];
            }
            out.hybrid(levels, rows, 1);
        }
        out.fillLength(slot);
        encodeValues(out);
    }

    abstract void encodeValues(PageBytes out);

    /** Plain-encoded minimum and maximum of the row group's values, or null when not kept. */
    byte[][] minMax() {
        return null;
    }

    void clear() {
        rows = 0;
        nulls = 0;
        intDictionary = null;
    }

    final void markPresent() {
        if (defined != null) {
            ensureDefined();
            defined[rows] = 1;
        }
        rows++;
    }

    /** Appends a null row. */
    public void appendNull() {
        if (defined == null) {
            defined = new byte[Math.max(1024, rows * 2)];
            Arrays.fill(defined, 0, rows, (byte) 1);
        }
        ensureDefined();
        defined[rows] = 0;
        rows++;
        nulls++;
    }

    private void ensureDefined() {
        if (rows >= defined.length) {
            defined = Arrays.copyOf(defined, defined.length * 2);
        }
    }

    /** A nullable INT32 or INT64 column (values kept as longs), with min/max statistics. */
    public static final class Integers extends ParquetColumn {
        private final boolean int64;
        private long[] values = new long[1024];
        private int count;
        private long min = Long.MAX_VALUE;
        private long max = Long.MIN_VALUE;

        Integers(String name, boolean int64) {
            super(name);
            this.int64 = int64;
        }

        /** Appends a value (an INT32 column takes {@code int} values only). */
        public void append(long v) {
            if (count == values.length) {
                values = Arrays.copyOf(values, count * 2);
            }
            values[count++] = v;
            min = Math.min(min, v);
            max = Math.max(max, v);
            markPresent();
        }

        @Override
        int physicalType() {
            return int64 ? TYPE_INT64 : TYPE_INT32;
        }

        @Override
        void prepare(IntDictionary shared) {
            intDictionary = shared.build(values, count) && shared.pays(count, int64 ? 8 : 4) ? shared : null;
        }

        @Override
        void encodeValues(PageBytes out) {
            if (intDictionary != null) {
                encodeIndices(out, intDictionary.indices(), count, intDictionary.bitWidth());
            } else if (int64) {
                out.longs(values, 0, count);
            } else {
                for (int i = 0; i < count; i++) {
                    out.int32((int) values[i]);
                }
            }
        }

        @Override
        byte[][] minMax() {
            if (count == 0) {
                return null;
            }
            PageBytes b = new PageBytes();
            if (int64) {
                b.int64(min);
                b.int64(max);
            } else {
                b.int32((int) min);
                b.int32((int) max);
            }
            int w = int64 ? 8 : 4;
            return new byte[][] {Arrays.copyOfRange(b.array(), 0, w), Arrays.copyOfRange(b.array(), w, 2 * w)};
        }

        @Override
        void clear() {
            super.clear();
            count = 0;
            min = Long.MAX_VALUE;
            max = Long.MIN_VALUE;
        }
    }

    /**
     * A nullable UTF-8 string column, dictionary-encoded (one dictionary per row group): meant for columns with few
     * distinct values, such as a run id, a host or a phase.
     */
    public static final class Utf8 extends ParquetColumn {
        private final Map<String, Integer> ids = new HashMap<>();
        private final List<byte[]> dictionary = new ArrayList<>();
        private int[] indices = new int[1024];
        private int count;
        private String last;
        private int lastId;

        Utf8(String name) {
            super(name);
        }

        public void append(String v) {
            int id;
            if (v.equals(last)) {
                id = lastId;
            } else {
                id = ids.computeIfAbsent(v, s -> {
                    dictionary.add(s.getBytes(StandardCharsets.UTF_8));
                    return dictionary.size() - 1;
                });
                last = v;
                lastId = id;
            }
            if (count == indices.length) {
                indices = Arrays.copyOf(indices, count * 2);
            }
            indices[count++] = id;
            markPresent();
        }

        @Override
        int physicalType() {
            return TYPE_BYTE_ARRAY;
        }

        @Override
        void logicalType(ThriftCompact t) {
            t.i32(6, CONVERTED_UTF8).struct(10).struct(1).end().end();
        }

        @Override
        int valueEncoding() {
            return ENCODING_RLE_DICTIONARY;
        }

        @Override
        boolean hasDictionary() {
            return true;
        }

        @Override
        int dictionarySize() {
            return dictionary.size();
        }

        @Override
        void encodeDictionary(PageBytes out) {
            for (byte[] b : dictionary) {
                out.binary(b);
            }
        }

        @Override
        void encodeValues(PageBytes out) {
            encodeIndices(out, indices, count, Math.max(1, PageBytes.bitWidth(dictionary.size() - 1)));
        }

        @Override
        void clear() {
            super.clear();
            count = 0;
            ids.clear();
            dictionary.clear();
            last = null;
        }
    }

    /** A nullable list column of 4-byte values: per row a length (-1 = null), the elements flat. */
    abstract static sealed class ListColumn extends ParquetColumn {
        int[] lengths = new int[1024];
        /** The elements' 4-byte values (a float's raw bits). */
        int[] values = new int[4096];
        int elements;
        private int[] scratch = new int[0];

        ListColumn(String name) {
            super(name);
        }

        /** Room for {@code length} more elements at {@code values[elements]}. */
        final int[] reserve(int length) {
            if (elements + length > values.length) {
                values = Arrays.copyOf(values, Math.max(values.length * 2, elements + length));
            }
            return values;
        }

        @Override
        void encodeValues(PageBytes out) {
            if (intDictionary != null) {
                encodeIndices(out, intDictionary.indices(), elements, intDictionary.bitWidth());
            } else {
                out.ints(values, 0, elements);
            }
        }

        final void addLength(int length) {
            if (rows == lengths.length) {
                lengths = Arrays.copyOf(lengths, rows * 2);
            }
            lengths[rows++] = length;
            if (length < 0) {
                nulls++;
            } else {
                elements += length;
            }
        }

        /** A null list (kept in the lengths, as -1). */
        @Override
        public final void appendNull() {
            addLength(-1);
        }

        @Override
        List<String> path() {
            return List.of(name, "list", "element");
        }

        @Override
        long levelCount() {
            long n = 0;
            for (int i = 0; i < rows; i++) {
                n += Math.max(1, lengths[i]);
            }
            return n;
        }

        @Override
        int schemaElements() {
            return 3;
        }

        @Override
        void schema(ThriftCompact t) {
            t.element().i32(3, OPTIONAL).string(4, name).i32(5, 1).i32(6, CONVERTED_LIST).struct(10).struct(3).end()
                    .end().end();
            t.element().i32(3, REPEATED).string(4, "list").i32(5, 1).end();
            t.element().i32(1, physicalType()).i32(3, OPTIONAL).string(4, "element").end();
        }

        @Override
        void encodePage(PageBytes out) {
            int n = (int) levelCount();
            if (scratch.length < n) {
                scratch = new int[n];
            }
            int[] levels = scratch;
            // repetition levels: 0 starts a row, 1 continues its list
            int e = 0;
            for (int r = 0; r < rows; r++) {
                int len = lengths[r];
                levels[e++] = 0;
                for (int j = 1; j < len; j++) {
                    levels[e++] = 1;
                }
            }
            int slot = out.lengthSlot();
            out.hybrid(levels, n, 1);
            out.fillLength(slot);
            // definition levels: 0 null list, 1 empty list, 3 an element (2 would be a null element: never written)
            slot = out.lengthSlot();
            if (nulls == 0 && n == elements) {
                out.rleRun(3, n, 2);
            } else {
                e = 0;
                for (int r = 0; r < rows; r++) {
                    int len = lengths[r];
                    if (len <= 0) {
                        levels[e++] = len < 0 ? 0 : 1;
                    } else {
                        for (int j = 0; j < len; j++) {
                            levels[e++] = 3;
                        }
                    }
                }
                out.hybrid(levels, n, 2);
            }
            out.fillLength(slot);
            encodeValues(out);
        }

        @Override
        void clear() {
            super.clear();
            elements = 0;
        }
    }

    /** A nullable list of INT32, dictionary-encoded where that is smaller. */
    public static final class Int32List extends ListColumn {
        Int32List(String name) {
            super(name);
        }

        public void append(int[] src, int from, int length) {
            System.arraycopy(src, from, reserve(length), elements, length);
            addLength(length);
        }

        @Override
        int physicalType() {
            return TYPE_INT32;
        }

        @Override
        void prepare(IntDictionary shared) {
            intDictionary = shared.build(values, elements) && shared.pays(elements, 4) ? shared : null;
        }
    }

    /**
     * A nullable list of FLOAT (kept as their bits), PLAIN-encoded. (BYTE_STREAM_SPLIT compresses router weights about
     * 6 % better, but Spark 4.2's vectorized reader refuses it: SparkFleetIT reads every weight.)
     */
    public static final class Float32List extends ListColumn {
        Float32List(String name) {
            super(name);
        }

        public void append(float[] src, int from, int length) {
            int[] bits = reserve(length);
            for (int i = 0; i < length; i++) {
                bits[elements + i] = Float.floatToRawIntBits(src[from + i]);
            }
            addLength(length);
        }

        @Override
        int physicalType() {
            return TYPE_FLOAT;
        }
    }
}
