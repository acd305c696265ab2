package io.moeagent.agent.boot;

import java.lang.instrument.Instrumentation;

/**
 * Premain-, Agent- and Main-Class of moe-agent.jar. Uses JDK types only: when recording is off, nothing but this
 * class is loaded (no ByteBuddy, no Chronicle, no transformer). Never lets a throwable escape into the host.
 */
public final class AgentBoot {
    static final String ENV_VAR = "MOE_ROUTE_LOG";
    /** System properties through which the running agent tells the attach CLI how it is doing. */
    static final String PROP_RECORDING = "moe.agent.recording";
    static final String PROP_MESSAGE = "moe.agent.message";
    /** "false" after a detach that could not restore the original bytecode of every woven class. */
    static final String PROP_RESTORED = "moe.agent.restored";

    private static final String CORE = "io.moeagent.agent.core.AgentRuntime";
    private static ClassLoader coreLoader;

    private AgentBoot() {
    }

    /** {@code -javaagent:moe-agent.jar[=options]}: records only when MOE_ROUTE_LOG switches it on. */
    public static void premain(String options, Instrumentation inst) {
        try {
            String env = System.getenv(ENV_VAR);
            if (!envEnables(env)) {
                return;
            }
            invoke("start", options, inst, false, env);
        } catch (Throwable t) {
            fail(t);
        }
    }

    /** Dynamic attach: {@code attach;options} or {@code detach}, sent by the attach CLI. */
    public static void agentmain(String command, Instrumentation inst) {
        try {
            String cmd = command == null ? "" : command;
            if (cmd.equals("detach")) {
                if (coreLoader == null) {
                    System.setProperty(PROP_MESSAGE, "not recording (the agent was never started in this JVM)");
                    return;
                }
                invoke("stop", null, null, false, null);
            } else if (cmd.startsWith("attach;") || cmd.equals("attach")) {
                String options = cmd.length() > "attach;".length() ? cmd.substring("attach;".length()) : "";
                invoke("start", options, inst, true, System.getenv(ENV_VAR));
            } else {
                System.setProperty(PROP_MESSAGE, BootLines.line("unknown agent command " + BootLines.quote(cmd)));
            }
        } catch (Throwable t) {
            fail(t);
        }
    }

    public static void main(String[] args) {
        System.exit(AttachCli.run(args));
    }

    /** Mirrors {@code io.moeagent.config.AgentConfig.envEnables}, which this class cannot load. */
    static boolean envEnables(String value) {
        if (value == null) {
            return false;
        }
        String v = value.trim();
        return !(v.isEmpty() || v.equals("0") || v.equalsIgnoreCase("false") || v.equalsIgnoreCase("off")
                || v.equalsIgnoreCase("no"));
    }

    private static synchronized void invoke(String method, String options, Instrumentation inst, boolean attached,
                                            String env) throws Exception {
        if (coreLoader == null) {
            if (inst == null) {
                return;
            }
            coreLoader = CoreLoader.create(inst);
        }
        // only now is the bridge, and with it the typed AgentControl, on the bootstrap class path
        if (method.equals("start")) {
            String version = AgentBoot.class.getPackage().getImplementationVersion();
            CoreCalls.start(coreLoader, options, inst, attached, env, version == null ? "dev" : version);
        } else {
            CoreCalls.stop(coreLoader);
        }
    }

    private static void fail(Throwable t) {
        Throwable cause = t instanceof java.lang.reflect.InvocationTargetException && t.getCause() != null
                ? t.getCause() : t;
        String msg = BootLines.line("could not start (" + cause.getClass().getSimpleName() + ": "
                + cause.getMessage() + "); the host runs without recording");
        System.setProperty(PROP_MESSAGE, msg);
        System.err.println(msg);
    }
}
