package io.moeagent.agent.core;

import java.util.Map;
import net.bytebuddy.dynamic.loading.ClassInjector;

/**
 * Defines the bridge classes directly in the bootstrap loader. Appending a jar to the bootstrap search path would
 * work too, but makes HotSpot print a class-data-sharing warning into the host's stderr.
 */
public final class BridgeInjector {
    private BridgeInjector() {
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
