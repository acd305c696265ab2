package io.moeagent.agent.bridge;

/**
 * The only type that woven advice calls. It lives on the bootstrap class path, so every host class loader sees
 * the same class, and it uses JDK types only. The recorder plugs itself in as {@link #sink}; null means off.
 */
public final class RouteBridge {
    /** Scope kinds, in the order of {@code io.moeagent.config.ValuePath.Scope}. */
    public static final int REQUEST = 0;
    public static final int STEP = 1;
    public static final int LAYER = 2;

    /** The active recorder, or null; read once per call so detaching mid-call is safe. */
    public static volatile RouteSink sink;

    private RouteBridge() {
    }

    public static void onSelection(Object self, Object argument, Object result) {
        RouteSink s = sink;
        if (s != null) {
            s.onSelection(self, argument, result);
        }
    }

    /** Enters a scope; returns the token for {@link #exitScope} (null when not recording). */
    public static Object enterScope(int scope, Object self, Object[] arguments) {
        RouteSink s = sink;
        return s == null ? null : s.enterScope(scope, self, arguments);
    }

    public static void exitScope(int scope, Object token) {
        RouteSink s = sink;
        if (s != null && token != null) {
            s.exitScope(scope, token);
        }
    }
}
