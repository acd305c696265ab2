package io.moeagent.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Finds out, with plain reads and no memory mapping, how much of a Chronicle cycle file ({@code *.cq4}) is really
 * there. Chronicle maps a cycle file in chunks of its block size whatever the file's length: a read-only reader
 * touching a page past the end of a file that was cut short ({@code truncate}, a partial copy) dies of SIGBUS, which
 * the JVM turns into an {@code InternalError} that no caller can handle. So before a reader maps a file whose length is
 * not one Chronicle itself gives its files, this walks the file's document headers (a 4-byte word each: length in the
 * low 30 bits, bit 30 metadata, bit 31 not complete; documents start 4-byte aligned), as Chronicle's own reader would,
 * and says where the last complete document ends.
 *
 * <p>Hand-written because Chronicle offers no public way to ask a mapped queue how much of a file is backed.
 */
final class CycleFileScan {
    private static final int LENGTH_MASK = 0x3FFF_FFFF;
    private static final int META_DATA = 0x4000_0000;
    private static final int NOT_COMPLETE = 0x8000_0000;
    private static final int WINDOW = 1 << 16;

    /**
     * A cycle file cut short.
     *
     * @param file          the file
     * @param length        its length on disk
     * @param dataDocuments complete data documents (records) before the cut, i.e. sequence numbers 0 .. n-1
     * @param cutAt         where the document the cut went through starts
     */
    record Cut(Path file, long length, long dataDocuments, long cutAt, boolean notChronicle) {
    }

    private CycleFileScan() {
    }

    /** True when {@code length} is one that Chronicle gives its own files: whole chunks plus the overlap. */
    static boolean chronicleLength(long length, long blockSize, long overlapSize) {
        return blockSize > 0 && length >= blockSize + overlapSize && (length - overlapSize) % blockSize == 0;
    }

    /** Walks the file's documents; returns the cut, or null when the readable data ends inside the file. */
    static Cut scan(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long length = ch.size();
            ByteBuffer window = ByteBuffer.allocate(WINDOW).order(ByteOrder.LITTLE_ENDIAN);
            long windowStart = 0;
            int windowLength = 0;
            long pos = 0;
            long data = 0;
            while (true) {
                if (pos + 4 > length) {
                    // even the next header word is not in the file: Chronicle would read it from a missing page
                    return new Cut(file, length, data, pos, false);
                }
                if (pos < windowStart || pos + 4 > windowStart + windowLength) {
                    window.clear();
                    windowStart = pos;
                    windowLength = 0;
                    while (window.hasRemaining()) {
                        int n = ch.read(window, windowStart + window.position());
                        if (n < 0) {
                            break;
                        }
                        windowLength += n;
                    }
                }
                int header = window.getInt((int) (pos - windowStart));
                if (pos == 0 && (header & (META_DATA | NOT_COMPLETE)) != META_DATA) {
                    // a cycle file starts with its header, a complete metadata document
                    return new Cut(file, length, 0, 0, true);
                }
                if (header == 0 || (header & NOT_COMPLETE) != 0) {
                    // the end of the written data, an end-of-file marker, or a document still being written
                    return null;
                }
                long end = pos + 4 + (header & LENGTH_MASK);
                if (end > length) {
                    return new Cut(file, length, data, pos, false);
                }
                if ((header & META_DATA) == 0) {
                    data++;
                }
                pos = (end + 3) & ~3L;
            }
        }
    }
}
