package io.moeagent.host.cli;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * One reading of the clocks a run report needs for comparisons that survive a busy machine: wall time, the
 * process's CPU time (all threads, native ones such as libtorch's included), the calling thread's CPU time, and
 * the garbage collectors' collection count and time. The process CPU time comes from
 * {@code com.sun.management.OperatingSystemMXBean} (exported by the JDK's jdk.management module); -1 where the
 * JVM does not offer a figure.
 */
record ResourceClock(long wallNanos, long epochMillis, long processCpuNanos, long threadCpuNanos, long gcCount,
                     long gcMillis) {

    static ResourceClock now() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long thread = threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : -1;
        long process = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            process = os.getProcessCpuTime();
        }
        long count = 0;
        long millis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new ResourceClock(System.nanoTime(), System.currentTimeMillis(), process, thread, count, millis);
    }

    /** Process CPU nanoseconds from {@code start} to this reading, or -1 when unknown. */
    long processCpuSince(ResourceClock start) {
        return processCpuNanos < 0 || start.processCpuNanos < 0 ? -1 : processCpuNanos - start.processCpuNanos;
    }

    /** The calling thread's CPU nanoseconds since {@code start} (same thread), or -1 when unknown. */
    long threadCpuSince(ResourceClock start) {
        return threadCpuNanos < 0 || start.threadCpuNanos < 0 ? -1 : threadCpuNanos - start.threadCpuNanos;
    }
}
