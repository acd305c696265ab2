package io.moeagent.agent.core;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.StoreFileListener;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

/** Opens the route queue and enforces {@code retention} (cycle files to keep) whenever a new cycle starts. */
final class QueueFiles {
    private QueueFiles() {
    }

    static ChronicleQueue open(Path dir, String rollCycle, int retention) throws IOException {
        return open(dir, rollCycle, retention, null);
    }

    /**
     * Opens the queue; with a {@code guard}, also lets it allocate what the first cycle file needs before any host
     * thread writes (see {@link DiskGuard}). An IOException from the guard closes the queue again.
     */
    static ChronicleQueue open(Path dir, String rollCycle, int retention, DiskGuard guard) throws IOException {
        Files.createDirectories(dir);
        if (!Files.isWritable(dir)) {
            throw new IOException("queue directory " + dir + " is not writable");
        }
        StoreFileListener listener = retention <= 0 ? StoreFileListener.noOp() : new StoreFileListener() {
            @Override
            public void onAcquired(int cycle, File file) {
                prune(dir, retention);
            }

            @Override
            public void onReleased(int cycle, File file) {
                // nothing: files are pruned when the next cycle starts
            }
        };
        ChronicleQueue queue = SingleChronicleQueueBuilder.binary(dir)
                .rollCycle(RollCycles.valueOf(rollCycle))
                .storeFileListener(listener)
                .build();
        try {
            createCycleFile(queue, guard);
        } catch (IOException | RuntimeException e) {
            queue.close();
            throw e;
        }
        return queue;
    }

    /**
     * Creates and maps the current cycle file now, with a metadata document (readers skip those), so that the
     * host's first recorded call does not pay for it and an unwritable or full disk shows at start.
     */
    private static void createCycleFile(ChronicleQueue queue, DiskGuard guard) throws IOException {
        try (ExcerptAppender appender = queue.createAppender()) {
            try (DocumentContext dc = appender.writingDocument(true)) {
                dc.wire().bytes().writeByte((byte) 0);
            }
            if (guard != null) {
                guard.afterOpen(appender);
            }
        }
    }

    /** Deletes the oldest cycle files so that at most {@code keep} remain (names sort by time). */
    static void prune(Path dir, int keep) {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> cycles = s.filter(p -> p.getFileName().toString().endsWith(".cq4")).sorted()
                    .collect(Collectors.toList());
            for (int i = 0; i < cycles.size() - keep; i++) {
                Files.deleteIfExists(cycles.get(i));
            }
        } catch (IOException e) {
            io.moeagent.agent.bridge.AgentLines.print("cannot prune old cycle files in " + dir + " ("
                    + e.getMessage() + "); they are kept");
        }
    }
}
