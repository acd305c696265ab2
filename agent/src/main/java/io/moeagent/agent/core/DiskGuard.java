package io.moeagent.agent.core;

import io.moeagent.agent.bridge.AgentLines;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.LockSupport;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycles;

/**
 * Makes a host thread's write into an unbacked page of the memory-mapped cycle file impossible. Chronicle maps
 * its cycle file as a sparse file (80 MB of length, blocks allocated on first touch); on a full disk the first
 * touch of a hole raises SIGBUS, which the JVM turns into an asynchronous InternalError in whatever host code runs
 * next, where no catch of the agent can reach it. So the blocks under every byte Chronicle will write are
 * allocated first, through ordinary file writes that fail cleanly with an IOException:
 * <ul>
 * <li>at start, before anything is mapped: the file system must have {@code min-free-space} plus
 * {@link #START_BYTES} usable, else recording does not start;</li>
 * <li>once the queue is open: the bytes Chronicle already holds in the cycle file and its metadata file are
 * written back onto themselves (no writer runs yet), which allocates the holes it leaves in its index pages;</li>
 * <li>ahead of the write position: {@link #STEP} bytes of zeros at a time, never closer than {@link #SLACK} to
 * where any thread writes (so the zeros land where the file already reads as zeros), each step only after
 * checking that it leaves {@code min-free-space} usable. Before each record a host thread checks, with two plain
 * reads, that its record ends at least {@link #SLACK} below the allocated end; if the next step cannot be
 * allocated, recording stops with one line and the records written so far stay whole. The steps are written by a
 * daemon thread of the agent ({@code moe-agent-disk}), woken when the headroom falls below {@code SLACK + STEP};
 * only when it falls behind does a host thread allocate itself.</li>
 * </ul>
 * A new cycle file (a roll, e.g. at midnight UTC with the default FAST_DAILY) is created by Chronicle inside a
 * host thread's write; that write goes ahead only when at least {@code min-free-space} plus {@link #START_BYTES}
 * is usable, and the new file is then allocated ahead like the first. Its index pages (at most 64 KB) are not
 * written back (host threads write there concurrently): they are covered by the free space kept, so they can only
 * fault if another process fills the last {@link #FLOOR} bytes after the check. Other processes appending to the
 * same queue directory at the same time are not covered. Thread-safe: the slow path is synchronized.
 */
final class DiskGuard {
    /** Usable bytes needed beyond {@code min-free-space} to start or to begin a new cycle file. */
    static final long START_BYTES = 512 << 10;
    /** Zeros written per allocation step. */
    static final long STEP = 256 << 10;
    /** Distance kept between the write position and the allocated end (an index array is 32 KB; records). */
    static final long SLACK = 128 << 10;
    /** Free space never handed to allocation steps, whatever {@code min-free-space} says. */
    static final long FLOOR = 128 << 10;
    /** How far ahead of the write position the allocator thread keeps blocks allocated. */
    static final long AHEAD = SLACK + 2 * STEP;

    private final Path dir;
    private final FileStore store;
    private final long minFree;
    private final long rollMillis;
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(64 << 10);

    /** Highest write position seen in the current cycle file; racy updates undercount by at most a record. */
    private volatile long frontier;
    /** Every byte below this offset of the current cycle file has its blocks allocated. */
    private volatile long allocated;
    /** The wall-clock time at which the queue's next cycle begins: a roll needs the slow path. */
    private volatile long nextCycleMillis;
    private volatile boolean stopped;
    /** Set by a host thread when the headroom runs low; cleared by the allocator thread when done. */
    private volatile boolean wanted;
    private volatile boolean closed;
    private volatile Thread allocator;
    private int cycle;
    private Path cycleFile;
    private String stopReason;

    private DiskGuard(Path dir, FileStore store, long minFree, long rollMillis) {
        this.dir = dir;
        this.store = store;
        this.minFree = minFree;
        this.rollMillis = rollMillis;
    }

    /** Before the queue is opened: throws, with a message for the user, when the disk has too little room. */
    static DiskGuard beforeOpen(Path dir, long minFree, String rollCycle) throws IOException {
        Files.createDirectories(dir);
        FileStore store = Files.getFileStore(dir);
        DiskGuard g = new DiskGuard(dir, store, minFree, RollCycles.valueOf(rollCycle).lengthInMillis());
        long usable = store.getUsableSpace();
        if (usable < g.need(START_BYTES)) {
            throw new IOException(g.tooLittle(usable, START_BYTES));
        }
        return g;
    }

    /**
     * Once the queue is open and its first document written through {@code appender}, before any host thread
     * records: allocates what Chronicle left sparse below the write position and the first step ahead.
     */
    void afterOpen(ExcerptAppender appender) throws IOException {
        Path meta = dir.resolve("metadata.cq4t");
        if (Files.isRegularFile(meta)) {
            writeBack(meta, Files.size(meta));
        }
        Path file = appender.currentFile().toPath();
        long position = appender.wire().bytes().writePosition();
        writeBack(file, position);
        synchronized (this) {
            cycle = appender.cycle();
            cycleFile = file;
            frontier = position;
            allocated = position;
            nextCycleMillis = nextCycleStart(System.currentTimeMillis());
            if (!grow(position + SLACK)) {
                throw new IOException(stopReason);
            }
        }
        startAllocator();
    }

    /**
     * Before a host thread writes a record of {@code size} bytes: true when its bytes (and those of any other
     * thread writing now) land on allocated blocks. False once recording must stop; {@link #stopReason} says why.
     */
    boolean admit(long size) {
        long headroom = allocated - frontier;
        if (size + SLACK <= headroom && System.currentTimeMillis() < nextCycleMillis) {
            if (headroom < SLACK + STEP && !wanted) {
                // running low: the allocator thread writes the next step, off the host's thread
                wanted = true;
                LockSupport.unpark(allocator);
            }
            return true;
        }
        // the allocator is behind (or a roll is due): this thread allocates, or recording stops
        return slowAdmit(size);
    }

    /** Starts the allocator thread (daemon), which keeps {@link #AHEAD} bytes allocated ahead when asked. */
    private void startAllocator() {
        Thread t = new Thread(() -> {
            while (!closed) {
                LockSupport.park(this);
                if (wanted && !closed) {
                    synchronized (this) {
                        if (!stopped) {
                            grow(frontier + AHEAD);
                        }
                    }
                    wanted = false;
                }
            }
        }, "moe-agent-disk");
        t.setDaemon(true);
        t.setContextClassLoader(null);
        allocator = t;
        t.start();
    }

    /** Ends the allocator thread (detach, exit); the guard allocates nothing more. */
    void close() {
        closed = true;
        Thread t = allocator;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** After a host thread's write through {@code appender}: moves the frontier. */
    void written(ExcerptAppender appender) {
        long position = appender.wire().bytes().writePosition();
        if (appender.cycle() != cycle) {
            newCycle(appender, position);
        } else if (position > frontier) {
            frontier = position;
        }
    }

    /** Why recording had to stop (one line, without the {@code moe-agent:} prefix), or null. */
    synchronized String stopReason() {
        return stopReason;
    }

    private synchronized boolean slowAdmit(long size) {
        if (stopped) {
            return false;
        }
        if (System.currentTimeMillis() >= nextCycleMillis) {
            // this write may begin a new cycle file, created and first touched inside Chronicle: room first
            long usable = usable();
            if (usable < need(START_BYTES)) {
                return stop(tooLittle(usable, START_BYTES) + " to begin a new cycle file");
            }
        }
        // (if the write still lands in the current file, that file must have room as before)
        return grow(frontier + size + SLACK);
    }

    private synchronized void newCycle(ExcerptAppender appender, long position) {
        if (appender.cycle() == cycle || stopped) {
            return;
        }
        cycle = appender.cycle();
        cycleFile = appender.currentFile().toPath();
        frontier = position;
        allocated = position;
        nextCycleMillis = nextCycleStart(System.currentTimeMillis());
        grow(position + SLACK);
    }

    /** Allocates steps of zeros until {@code end} is covered; false (and stopped) when the disk has no room. */
    private boolean grow(long end) {
        while (allocated < end) {
            long usable = usable();
            if (usable < need(STEP)) {
                return stop(tooLittle(usable, STEP));
            }
            try (FileChannel ch = FileChannel.open(cycleFile, StandardOpenOption.WRITE)) {
                long at = allocated;
                long until = at + STEP;
                while (at < until) {
                    zeros.clear().limit((int) Math.min(zeros.capacity(), until - at));
                    at += ch.write(zeros, at);
                }
                allocated = until;
            } catch (IOException | RuntimeException e) {
                return stop("cannot allocate room in " + cycleFile.getFileName() + " (" + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
            }
        }
        return true;
    }

    /** Rewrites the first {@code length} bytes of {@code file} with themselves: allocates the holes among them. */
    private static void writeBack(Path file, long length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 << 10);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long end = Math.min(length, ch.size());
            for (long at = 0; at < end; ) {
                buf.clear().limit((int) Math.min(buf.capacity(), end - at));
                int n = ch.read(buf, at);
                if (n <= 0) {
                    break;
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf, at + buf.position());
                }
                at += n;
            }
        }
    }

    private boolean stop(String reason) {
        stopped = true;
        stopReason = reason;
        allocated = Long.MIN_VALUE / 2;
        return false;
    }

    private long usable() {
        try {
            return store.getUsableSpace();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private long need(long bytes) {
        return Math.max(minFree, FLOOR) + bytes;
    }

    private long nextCycleStart(long now) {
        return (now / rollMillis + 1) * rollMillis;
    }

    private String tooLittle(long usable, long bytes) {
        return "only " + AgentLines.bytes(usable) + " free on the file system of " + dir + "; recording needs "
                + AgentLines.bytes(bytes) + " more than the " + AgentLines.bytes(Math.max(minFree, FLOOR))
                + " it leaves free (min-free-space=" + AgentLines.bytes(minFree) + ")";
    }
}
