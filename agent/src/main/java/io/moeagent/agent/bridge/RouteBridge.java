package io.moeagent.agent.bridge;

/**
 * The only type that woven advice calls. It lives on the bootstrap class path, so every host class loader sees
 * the same class, and it uses JDK types only. The recorder plugs itself in as {@link #sink}; null means off.
 */
public final class RouteBridge {
    /** The active recorder, or null; read once per call so detaching mid-call is safe. */
    public static volatile RouteSink sink;

    /** Receiver of the innermost running layer method (pointcut.layer-method), per thread. */
    private static final ThreadLocal<Object> ENCLOSING = new ThreadLocal<>();

    private RouteBridge() {
    }

    public static void onSelection(Object self, Object argument, Object result) {
        RouteSink s = sink;
        if (s != null) {
            s.onSelection(self, argument, result);
        }
    }

    /** Makes {@code receiver} the enclosing object; returns the previous one, to be restored at exit. */
    public static Object enterLayer(Object receiver) {
        Object previous = ENCLOSING.get();
        ENCLOSING.set(receiver);
        return previous;
    }

    public static void exitLayer(Object previous) {
        ENCLOSING.set(previous);
    }

    public static Object enclosing() {
        return ENCLOSING.get();
    }
}
