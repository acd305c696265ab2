package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteBridge;
import net.bytebuddy.asm.Advice;

/**
 * Woven into a scope method (scope.request, scope.step, scope.layer): tells the recorder, per thread, when the
 * scope is entered (with the receiver and the arguments, which paths may read) and when it is left, normally or by
 * a throwable. Suppresses every throwable, so the host's method behaves exactly as before.
 */
public final class ScopeAdvice {
    private ScopeAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static Object enter(@ScopeKind int scope, @Advice.This(optional = true) Object self,
                        @Advice.AllArguments Object[] arguments) {
        return RouteBridge.enterScope(scope, self, arguments);
    }

    @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
    static void exit(@ScopeKind int scope, @Advice.Enter Object token) {
        RouteBridge.exitScope(scope, token);
    }
}
