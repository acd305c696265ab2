package io.moeagent.agent.core;

import java.util.Map;
import java.util.function.Predicate;
import net.bytebuddy.dynamic.loading.ClassInjector;

/**
 * Defines the bridge classes directly in the bootstrap loader. Appending a jar to the bootstrap search path would
 * work too, but makes HotSpot print a class-data-sharing warning into the host's stderr.
 */
public final class BridgeInjector implements Predicate<Map<String, byte[]>> {
    /** For the boot class, which calls it typed as a JDK Predicate (the bridge's types do not exist yet). */
    public BridgeInjector() {
    }

    @Override
    public boolean test(Map<String, byte[]> classes) {
        return inject(classes);
    }

    /** Returns false when this JVM offers no way to do it (the caller then appends the bridge jar). */
    public static boolean inject(Map<String, byte[]> classes) {
        if (!ClassInjector.UsingUnsafe.isAvailable()) {
            return false;
        }
        ClassInjector.UsingUnsafe.ofBootLoader().injectRaw(classes);
        return true;
    }
}
