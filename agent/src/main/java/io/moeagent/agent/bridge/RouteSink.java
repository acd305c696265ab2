package io.moeagent.agent.bridge;

/** Implemented by the agent's recorder (in the agent's own class loader); JDK types only. */
public interface RouteSink {
    /**
     * Called from advice at the normal exit of the expert-selection method.
     *
     * @param self     the receiver, or null for a static method
     * @param argument the one bound argument the pointcuts read, or null
     * @param result   the method's return value
     */
    void onSelection(Object self, Object argument, Object result);
}
