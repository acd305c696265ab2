package io.moeagent.agent.core;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.function.Supplier;

/**
 * Keeps the two Java 24+ start-up warnings that the agent's own libraries would trigger out of the host's stderr,
 * without host flags: the {@code sun.misc.Unsafe} memory-access warning (ByteBuddy's {@code ClassInjector.UsingUnsafe},
 * then all of Chronicle) and the restricted-method warning for {@code System::load} called by jffi (Chronicle's
 * dependency) in the agent loader's unnamed module. Called by the boot class once java.base has opened
 * {@code java.lang} and {@code jdk.internal.module} to this loader's module, before any ByteBuddy or Chronicle code
 * runs. Uses JDK types only.
 *
 * <p>Neither warning can be silenced for the agent alone, because the JDK keeps one flag for each, and in both cases
 * that flag means "warned already":
 * <ul>
 * <li>Native access: JDK 24/25 keeps the enable-native-access flag of every unnamed module in one shared place
 * ({@code Module.moduleForNativeAccess()} answers {@code ALL_UNNAMED_MODULE} for any unnamed module), so
 * {@code implAddEnableNativeAccess()} on the agent loader's unnamed module changes nothing (tried: the warning still
 * appears). What works is {@code implAddEnableNativeAccessToAllUnnamed()}, i.e. what
 * {@code --enable-native-access=ALL-UNNAMED} does.</li>
 * <li>Unsafe: the warning is given once per JVM; we mark it as given (as the analyzer's {@code JvmQuirks} does).</li>
 * </ul>
 * Trade-off, and why it is acceptable: the first warning also sets the flag, so without this the JVM prints one
 * warning naming the agent's library and then stays silent for everyone, the host's own code included. Setting
 * the flag ourselves differs from that only in the lines not printed: from then on, a restricted call by the
 * host's class-path code, or the host's own first {@code sun.misc.Unsafe} memory access, no longer warns (a host
 * whose manifest says {@code Enable-Native-Access: ALL-UNNAMED}, as ours does, never warned for native access).
 * We act only under the JDK's default mode {@code warn}: under an explicit {@code --illegal-native-access=deny}
 * or {@code --sun-misc-unsafe-memory-access=deny|debug} (or {@code allow}) nothing is touched, so the host's
 * choice keeps its full effect (with {@code deny} the agent may then fail to start, with its one line). Before
 * Java 24 neither warning exists and this does nothing.
 */
public final class JvmWarnings implements Supplier<String> {
    /** First feature release with both warnings (JEP 472 for System::load, JEP 498 for Unsafe). */
    static final int FIRST_RELEASE = 24;

    /** For the boot class, which calls {@link #get} typed as a JDK Supplier (before the bridge exists). */
    public JvmWarnings() {
    }

    /** {@link #quiet()}. */
    @Override
    public String get() {
        return quiet();
    }

    /** Returns null when done (or nothing to do), else why it could not be done; never throws. */
    public static String quiet() {
        try {
            if (Runtime.version().feature() < FIRST_RELEASE) {
                return null;
            }
            String a = quietNativeAccess();
            String b = quietUnsafe();
            return a == null ? b : b == null ? a : a + "; " + b;
        } catch (Throwable t) {
            return describe(t);
        }
    }

    static String quietNativeAccess() {
        try {
            Class<?> bootstrap = Class.forName("jdk.internal.module.ModuleBootstrap");
            Object mode = bootstrap.getMethod("illegalNativeAccess").invoke(null);
            if (!"WARN".equals(String.valueOf(mode))) {
                return null;
            }
            Method enable = Module.class.getDeclaredMethod("implAddEnableNativeAccessToAllUnnamed");
            enable.setAccessible(true);
            enable.invoke(null);
            return null;
        } catch (Throwable t) {
            return "native access: " + describe(t);
        }
    }

    static String quietUnsafe() {
        try {
            Class<?> unsafe = Class.forName("sun.misc.Unsafe");
            // jdk.unsupported opens sun.misc to everyone
            Field option = unsafe.getDeclaredField("MEMORY_ACCESS_OPTION");
            option.setAccessible(true);
            if (!"WARN".equals(String.valueOf(option.get(null)))) {
                return null;
            }
            Method warned = unsafe.getDeclaredMethod("trySetMemoryAccessWarned");
            warned.setAccessible(true);
            warned.invoke(null);
            return null;
        } catch (Throwable t) {
            return "sun.misc.Unsafe: " + describe(t);
        }
    }

    private static String describe(Throwable t) {
        Throwable c = t instanceof java.lang.reflect.InvocationTargetException && t.getCause() != null
                ? t.getCause() : t;
        return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
    }
}
