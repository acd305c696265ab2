package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteBridge;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Inlined at the normal exit of the expert-selection method. Stateless, references only the bootstrap bridge,
 * and suppresses every throwable, so the host's method behaves exactly as before whatever the recorder does.
 */
public final class SelectionAdvice {
    private SelectionAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This(optional = true) Object self,
                     @BoundArgument Object argument,
                     @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object result) {
        RouteBridge.onSelection(self, argument, result);
    }
}
