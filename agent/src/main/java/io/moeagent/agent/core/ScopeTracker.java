package io.moeagent.agent.core;

/**
 * One thread's running scope calls (request, step, layer), nested: a scope is the outermost running call of its
 * method; calls of the same kind inside it (overloads delegating to each other, recursion) only nest. Request and
 * step paths read the outermost call (the one that began the scope), layer paths the innermost. Not thread-safe:
 * one per host thread.
 */
final class ScopeTracker {
    static final int KINDS = 3;

    /** One running scope call; also the token the advice hands back at exit. */
    static final class Frame {
        final ScopeTracker owner;
        final int scope;
        final Object self;
        final Object[] arguments;
        final Frame outer;

        Frame(ScopeTracker owner, int scope, Object self, Object[] arguments, Frame outer) {
            this.owner = owner;
            this.scope = scope;
            this.self = self;
            this.arguments = arguments;
            this.outer = outer;
        }
    }

    private final Frame[] innermost = new Frame[KINDS];
    private final Frame[] outermost = new Frame[KINDS];

    /** Pushes a call; {@link #began} tells whether it began the scope. */
    Frame enter(int scope, Object self, Object[] arguments) {
        Frame f = new Frame(this, scope, self, arguments, innermost[scope]);
        innermost[scope] = f;
        if (f.outer == null) {
            outermost[scope] = f;
        }
        return f;
    }

    static boolean began(Frame f) {
        return f.outer == null;
    }

    /**
     * Pops {@code f} (and any call inside it whose exit was never seen). Returns true when that ended the scope;
     * false also for a frame that is not running here (then nothing changes).
     */
    boolean exit(Frame f) {
        for (Frame c = innermost[f.scope]; c != null; c = c.outer) {
            if (c == f) {
                innermost[f.scope] = f.outer;
                if (f.outer == null) {
                    outermost[f.scope] = null;
                    return true;
                }
                return false;
            }
        }
        return false;
    }

    boolean active(int scope) {
        return innermost[scope] != null;
    }

    /** The call that paths of this scope read: innermost for the layer, outermost (the scope's start) otherwise. */
    Frame frame(int scope) {
        return scope == io.moeagent.agent.bridge.RouteBridge.LAYER ? innermost[scope] : outermost[scope];
    }

    /** The call that began the scope, or null. */
    Frame outermost(int scope) {
        return outermost[scope];
    }
}
