package io.moeagent.analyzer;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.function.IntSupplier;

/**
 * What {@code java -jar analyzer.jar} needs beyond its manifest (which carries Chronicle's Add-Opens/Add-Exports
 * and Enable-Native-Access). Java 24+ prints a multi-line warning the first time Chronicle calls a
 * {@code sun.misc.Unsafe} memory-access method unless the JVM got {@code --sun-misc-unsafe-memory-access=allow},
 * which has no manifest form. Rather than relaunch a second JVM, we mark that one-time warning as already given,
 * through {@code jdk.internal.misc.Unsafe} (exported to us by the manifest). An explicit
 * {@code --sun-misc-unsafe-memory-access=deny} or {@code debug} still takes effect; on Java 17 there is nothing to do.
 */
public final class JvmQuirks {
    private JvmQuirks() {
    }

    public static int prepare(IntSupplier main) {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        silenceUnsafeWarning();
        return main.getAsInt();
    }

    static void silenceUnsafeWarning() {
        try {
            Field warned = sun.misc.Unsafe.class.getDeclaredField("memoryAccessWarned");
            Class<?> internal = Class.forName("jdk.internal.misc.Unsafe");
            Object unsafe = internal.getMethod("getUnsafe").invoke(null);
            Object base = internal.getMethod("staticFieldBase", Field.class).invoke(unsafe, warned);
            long offset = (long) internal.getMethod("staticFieldOffset", Field.class).invoke(unsafe, warned);
            Method put = internal.getMethod("putBooleanVolatile", Object.class, long.class, boolean.class);
            put.invoke(unsafe, base, offset, true);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError notThisJdk) {
            // Older JDKs have no such warning; on a JDK where this fails the only cost is the warning itself.
        }
    }
}
