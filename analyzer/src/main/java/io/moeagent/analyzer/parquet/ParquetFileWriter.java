package io.moeagent.analyzer.parquet;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one Parquet file, streaming: the caller appends a row's value to every column, then calls
 * {@link #endRow()}; every {@code rowGroupRows} rows become a row group (one data page per column, dictionary pages
 * for dictionary columns, zstd-compressed), and {@link #close()} writes the footer: schema, row groups with
 * per-column statistics, key-value metadata. Memory is the buffered row group, whatever the file's size.
 *
 * <p>Hand-written against the Parquet format specification (parquet-format's Thrift definitions) rather than through
 * parquet-java, which needs the Hadoop libraries; the files are checked by DuckDB's and Spark's readers in the tests.
 */
public final class ParquetFileWriter implements Closeable {
    private static final byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);
    private static final int CODEC_ZSTD = 6;
    private static final int PAGE_DATA = 0;
    private static final int PAGE_DICTIONARY = 2;

    /** One column chunk's footer facts. */
    private record Chunk(long start, long dictionaryOffset, long dataOffset, long values, long uncompressed,
                         long compressed, List<Integer> encodings, byte[][] minMax, long nulls) {
    }

    private record RowGroup(List<Chunk> chunks, long rows, long uncompressed, long compressed) {
    }

    private final Path file;
    private final OutputStream out;
    private final List<ParquetColumn> columns;
    private final Map<String, String> keyValues;
    private final int rowGroupRows;
    private final PageEncoder encoder;
    private final String createdBy;
    private final PageBytes page;
    private final ThriftCompact header = new ThriftCompact();
    private final List<RowGroup> rowGroups = new ArrayList<>();
    private long position;
    private long totalRows;
    private int rows;
    private boolean closed;

    /**
     * Creates {@code file} (it must not exist). The columns are this file's: the caller appends to them between
     * {@link #endRow()} calls.
     */
    public ParquetFileWriter(Path file, List<ParquetColumn> columns, Map<String, String> keyValues, int rowGroupRows,
                             PageEncoder encoder, String createdBy) throws IOException {
        this.file = file;
        this.columns = List.copyOf(columns);
        this.keyValues = new LinkedHashMap<>(keyValues);
        this.rowGroupRows = rowGroupRows;
        this.encoder = encoder;
        this.page = encoder.page;
        this.createdBy = createdBy;
        this.out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), 1 << 16);
        write(MAGIC, 0, MAGIC.length);
    }

    public Path file() {
        return file;
    }

    public long rows() {
        return totalRows + rows;
    }

    /** Ends a row: every column has had one value (or null) appended since the last call. */
    public void endRow() throws IOException {
        rows++;
        if (rows == rowGroupRows) {
            flushRowGroup();
        }
    }

    private void flushRowGroup() throws IOException {
        if (rows == 0) {
            return;
        }
        List<Chunk> chunks = new ArrayList<>(columns.size());
        long uncompressed = 0;
        long compressed = 0;
        for (ParquetColumn c : columns) {
            if (c.rows != rows) {
                throw new IllegalStateException("column " + c.name + " has " + c.rows + " rows, the row group " + rows);
            }
            c.prepare(encoder.dictionary);
            long start = position;
            long dictionaryOffset = -1;
            long u = 0;
            List<Integer> encodings = new ArrayList<>();
            if (c.hasDictionary()) {
                dictionaryOffset = position;
                page.clear();
                c.encodeDictionary(page);
                u += writePage(PAGE_DICTIONARY, c.dictionarySize(), 0);
                encodings.add(ParquetColumn.ENCODING_PLAIN);
            }
            long dataOffset = position;
            long values = c.levelCount();
            page.clear();
            c.encodePage(page);
            u += writePage(PAGE_DATA, (int) values, c.valueEncoding());
            encodings.add(ParquetColumn.ENCODING_RLE);
            if (!encodings.contains(c.valueEncoding())) {
                encodings.add(c.valueEncoding());
            }
            long written = position - start;
            chunks.add(new Chunk(start, dictionaryOffset, dataOffset, values, u, written, encodings, c.minMax(),
                    c.nulls));
            uncompressed += u;
            compressed += written;
            c.clear();
        }
        rowGroups.add(new RowGroup(chunks, rows, uncompressed, compressed));
        totalRows += rows;
        rows = 0;
    }

    /** Compresses {@link #page} and writes it with its header; returns header + uncompressed body bytes. */
    private long writePage(int type, int values, int encoding) throws IOException {
        int raw = page.size();
        PageEncoder.Compressed body = encoder.compress(page.array(), raw);
        header.reset().i32(1, type).i32(2, raw).i32(3, body.size());
        if (type == PAGE_DATA) {
            header.struct(5).i32(1, values).i32(2, encoding).i32(3, ParquetColumn.ENCODING_RLE)
                    .i32(4, ParquetColumn.ENCODING_RLE).end();
        } else {
            header.struct(7).i32(1, values).i32(2, ParquetColumn.ENCODING_PLAIN).end();
        }
        header.end();
        write(header.array(), 0, header.size());
        write(body.bytes(), 0, body.size());
        return header.size() + (long) raw;
    }

    private void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        position += len;
    }

    /** Writes the last row group and the footer, and closes the file. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (OutputStream o = out) {
            flushRowGroup();
            byte[] footer = footer();
            write(footer, 0, footer.length);
            byte[] length = new byte[4];
            for (int i = 0; i < 4; i++) {
                length[i] = (byte) (footer.length >>> (8 * i));
            }
            write(length, 0, 4);
            write(MAGIC, 0, MAGIC.length);
        }
    }

    /** Closes the file without a footer, after a failure: the caller deletes it. */
    public void abandon() {
        closed = true;
        try {
            out.close();
        } catch (IOException e) {
            // the file is being thrown away
        }
    }

    private byte[] footer() {
        ThriftCompact t = new ThriftCompact();
        t.i32(1, 1);
        int elements = 1;
        for (ParquetColumn c : columns) {
            elements += c.schemaElements();
        }
        t.list(2, ThriftCompact.STRUCT, elements);
        t.element().string(4, "schema").i32(5, columns.size()).end();
        for (ParquetColumn c : columns) {
            c.schema(t);
        }
        t.i64(3, totalRows);
        t.list(4, ThriftCompact.STRUCT, rowGroups.size());
        for (RowGroup g : rowGroups) {
            t.element().list(1, ThriftCompact.STRUCT, g.chunks().size());
            for (int i = 0; i < g.chunks().size(); i++) {
                Chunk ch = g.chunks().get(i);
                ParquetColumn c = columns.get(i);
                t.element().i64(2, ch.start()).struct(3).i32(1, c.physicalType());
                t.list(2, ThriftCompact.I32, ch.encodings().size());
                for (int e : ch.encodings()) {
                    t.i32Element(e);
                }
                List<String> path = c.path();
                t.list(3, ThriftCompact.BINARY, path.size());
                for (String p : path) {
                    t.stringElement(p);
                }
                t.i32(4, CODEC_ZSTD).i64(5, ch.values()).i64(6, ch.uncompressed()).i64(7, ch.compressed())
                        .i64(9, ch.dataOffset());
                if (ch.dictionaryOffset() >= 0) {
                    t.i64(11, ch.dictionaryOffset());
                }
                t.struct(12).i64(3, ch.nulls());
                if (ch.minMax() != null) {
                    t.binary(5, ch.minMax()[1]).binary(6, ch.minMax()[0]);
                }
                t.end();
                t.end().end();
            }
            t.i64(2, g.uncompressed()).i64(3, g.rows());
            if (!g.chunks().isEmpty()) {
                t.i64(5, g.chunks().get(0).start());
            }
            t.i64(6, g.compressed()).end();
        }
        if (!keyValues.isEmpty()) {
            t.list(5, ThriftCompact.STRUCT, keyValues.size());
            for (Map.Entry<String, String> kv : keyValues.entrySet()) {
                t.element().string(1, kv.getKey()).string(2, kv.getValue()).end();
            }
        }
        t.string(6, createdBy);
        // column_orders: TypeDefinedOrder for every leaf, so readers trust the min_value/max_value statistics
        t.list(7, ThriftCompact.STRUCT, columns.size());
        for (int i = 0; i < columns.size(); i++) {
            t.element().struct(1).end().end();
        }
        t.end();
        return t.toByteArray();
    }
}
