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

    /**
     * Called from advice when a scope method (request, step or layer, see {@link RouteBridge#REQUEST}) is entered.
     *
     * @return a token handed back to {@link #exitScope}, or null when nothing was entered
     */
    Object enterScope(int scope, Object self, Object[] arguments);

    /** Called from advice when the scope method returns or throws, with the token its entry returned. */
    void exitScope(int scope, Object token);
}
