package io.moeagent.analyzer.source;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/** Splits a byte stream into {@code \n}-terminated lines without decoding them (a trailing {@code \r} is dropped). */
public final class ByteLines {
    private final InputStream in;
    private byte[] buf = new byte[1 << 20];
    private int start;
    private int end;
    private boolean eof;
    public byte[] line;
    public int lineStart;
    public int lineLength;

    public ByteLines(InputStream in) {
        this.in = in;
    }

    /** @return false at the end of the stream; else the line is {@code line[lineStart, lineStart + lineLength)} */
    public boolean next() throws IOException {
        while (true) {
            for (int i = start; i < end; i++) {
                if (buf[i] == '\n') {
                    emit(i);
                    start = i + 1;
                    return true;
                }
            }
            if (eof) {
                if (start < end) {
                    emit(end);
                    start = end;
                    return true;
                }
                return false;
            }
            fill();
        }
    }

    private void emit(int stop) {
        line = buf;
        lineStart = start;
        int len = stop - start;
        if (len > 0 && buf[stop - 1] == '\r') {
            len--;
        }
        lineLength = len;
    }

    private void fill() throws IOException {
        if (start > 0) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
        if (end == buf.length) {
            buf = Arrays.copyOf(buf, buf.length * 2);
        }
        int n = in.read(buf, end, buf.length - end);
        if (n < 0) {
            eof = true;
        } else {
            end += n;
        }
    }
}
