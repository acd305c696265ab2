package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteBridge;
import net.bytebuddy.asm.Advice;

/**
 * Woven into the enclosing layer method (pointcut.layer-method): makes its receiver the thread's
 * {@code enclosing} object while it runs, so a router without a layer field can be attributed to its layer.
 */
public final class LayerScopeAdvice {
    private LayerScopeAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static Object enter(@Advice.This Object self) {
        return RouteBridge.enterLayer(self);
    }

    @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
    static void exit(@Advice.Enter Object previous) {
        RouteBridge.exitLayer(previous);
    }
}
