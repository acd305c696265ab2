package io.moeagent.analyzer.parquet;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import java.io.IOException;

/**
 * What the Parquet files of one export share while they write pages, one thread at a time: the page buffer, the
 * integer dictionary builder, and a zstd context (zstd-jni) with its output buffer.
 */
public final class PageEncoder implements AutoCloseable {
    /** A compressed page body: valid until the next {@link #compress}. */
    record Compressed(byte[] bytes, int size) {
    }

    final PageBytes page = new PageBytes();
    final IntDictionary dictionary = new IntDictionary();
    private final ZstdCompressCtx ctx;
    private byte[] out = new byte[1 << 16];

    /** @param level the zstd level (1 is the fastest) */
    public PageEncoder(int level) {
        this.ctx = new ZstdCompressCtx().setLevel(level);
    }

    Compressed compress(byte[] src, int length) throws IOException {
        int bound = (int) Zstd.compressBound(length);
        if (out.length < bound) {
            out = new byte[Math.max(bound, out.length * 2)];
        }
        try {
            int n = ctx.compressByteArray(out, 0, out.length, src, 0, length);
            return new Compressed(out, n);
        } catch (RuntimeException e) {
            throw new IOException("zstd compression failed (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public void close() {
        ctx.close();
    }
}
