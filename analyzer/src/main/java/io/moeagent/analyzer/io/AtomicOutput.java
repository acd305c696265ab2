package io.moeagent.analyzer.io;

import io.moeagent.analyzer.AnalyzerException;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * An output file that appears whole or not at all: bytes go to a temporary file in the target's directory, and
 * {@link #commit()} renames it over the target. Closing without a commit deletes the temporary file, so a failing or
 * crashing writer never truncates or half-writes an existing file. {@code "-"} means standard output (written
 * through; commit flushes it).
 *
 * <pre>{@code
 * try (AtomicOutput out = AtomicOutput.open(file)) {
 *     write(out.stream());
 *     out.commit();
 * }
 * AtomicOutput.write(path, os -> ImageIO.write(image, "png", os));
 * AtomicOutput.write(path, bytes);
 * }</pre>
 */
public final class AtomicOutput implements AutoCloseable {
    /** Writes a file's whole content to a stream. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream os) throws IOException;
    }

    private static final int BUFFER = 1 << 20;

    private final Path target;
    private final Path temp;
    private final OutputStream stream;
    private boolean done;

    private AtomicOutput(Path target, Path temp, OutputStream stream) {
        this.target = target;
        this.temp = temp;
        this.stream = stream;
    }

    /** Opens FILE ({@code "-"}: standard output) for an atomic write. */
    public static AtomicOutput open(String file) throws IOException {
        if ("-".equals(file)) {
            OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), BUFFER) {
                @Override
                public void close() throws IOException {
                    flush();
                }
            };
            return new AtomicOutput(null, null, out);
        }
        return open(Path.of(file));
    }

    /** Opens FILE for an atomic write, creating its parent directories. */
    public static AtomicOutput open(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new AnalyzerException("output " + file + " is a directory; name a file");
        }
        Path absolute = file.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        // createFile, not createTempFile: the output gets the usual mode (0666 less the umask), not 0600
        Path temp = null;
        for (int attempt = 0; temp == null; attempt++) {
            Path candidate = dir.resolve("." + absolute.getFileName() + "."
                    + Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                temp = Files.createFile(candidate);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
        try {
            return new AtomicOutput(absolute, temp, new BufferedOutputStream(Files.newOutputStream(temp), BUFFER));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    /** Writes FILE ({@code "-"}: standard output) atomically from BODY. */
    public static void write(String file, Body body) throws IOException {
        try (AtomicOutput out = open(file)) {
            body.writeTo(out.stream());
            out.commit();
        }
    }

    /** Writes FILE atomically from BODY. */
    public static void write(Path file, Body body) throws IOException {
        try (AtomicOutput out = open(file)) {
            body.writeTo(out.stream());
            out.commit();
        }
    }

    /** Writes FILE atomically with exactly these bytes. */
    public static void write(Path file, byte[] bytes) throws IOException {
        write(file, os -> os.write(bytes));
    }

    /** Where to write; do not close it yourself (closing it is harmless, but only {@link #commit()} publishes). */
    public OutputStream stream() {
        return stream;
    }

    /** Flushes, syncs and renames the temporary file over the target. */
    public void commit() throws IOException {
        if (done) {
            throw new IllegalStateException("already committed or discarded");
        }
        if (temp == null) {
            stream.flush();
            done = true;
            return;
        }
        stream.close();
        try (var channel = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        done = true;
    }

    /** Without a commit: discards the temporary file, leaving the target as it was. */
    @Override
    public void close() throws IOException {
        if (done) {
            return;
        }
        done = true;
        if (temp == null) {
            stream.flush();
            return;
        }
        try {
            stream.close();
        } catch (IOException ignored) {
            // the file is discarded anyway
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
