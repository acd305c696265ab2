package io.moeagent.agent.bridge;

import java.lang.instrument.Instrumentation;

/**
 * What the boot class calls in the agent's core, typed: the core (in its own class loader) implements it and is
 * found through {@link java.util.ServiceLoader}, so no method is looked up by name. Lives on the bootstrap class
 * path with the bridge, the one place both the boot class and the core see the same type. JDK types only.
 */
public interface AgentControl {
    /**
     * Starts recording (premain, or dynamic attach when {@code attached}). Never throws into the host.
     *
     * @param options      the agent options, or null
     * @param env          the value of MOE_ROUTE_LOG, or null
     * @param agentVersion the agent jar's version
     */
    void start(String options, Instrumentation inst, boolean attached, String env, String agentVersion);

    /** Detach: stops recording, restores the bytecode, closes the queue. Never throws into the host. */
    void stop();
}
