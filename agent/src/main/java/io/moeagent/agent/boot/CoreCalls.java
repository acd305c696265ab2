package io.moeagent.agent.boot;

import io.moeagent.agent.bridge.AgentControl;
import java.lang.instrument.Instrumentation;
import java.util.ServiceLoader;

/**
 * The boot class's typed calls into the core, through the bridge's {@link AgentControl} found with
 * {@link ServiceLoader} in the agent's class loader. A class of its own so that {@code AgentControl} is resolved
 * only once {@link CoreLoader} has put the bridge on the bootstrap class path.
 */
final class CoreCalls {
    private static AgentControl control;

    private CoreCalls() {
    }

    static void start(ClassLoader core, String options, Instrumentation inst, boolean attached, String env,
                      String version) {
        control(core).start(options, inst, attached, env, version);
    }

    static void stop(ClassLoader core) {
        control(core).stop();
    }

    private static synchronized AgentControl control(ClassLoader core) {
        if (control == null) {
            control = ServiceLoader.load(AgentControl.class, core).findFirst()
                    .orElseThrow(() -> new IllegalStateException("moe-agent.jar lacks its AgentControl service;"
                            + " rebuild it"));
        }
        return control;
    }
}
