package io.moeagent.agent.boot;

import com.sun.tools.attach.AgentInitializationException;
import com.sun.tools.attach.AgentLoadException;
import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Properties;

/**
 * {@code java -jar moe-agent.jar attach PID [options] | detach PID | list}. Talks to the target through the attach
 * API and reads the agent's state back from the target's system properties {@code moe.agent.*}.
 */
final class AttachCli {
    static final int OK = 0;
    static final int USAGE = 2;
    static final int NO_TARGET = 3;
    static final int REFUSED = 4;
    /** Detach stopped recording, but the agent could not give every woven class its original bytecode back. */
    static final int NOT_RESTORED = 5;

    private static final String USAGE_TEXT = String.join(System.lineSeparator(),
            "usage: java -jar moe-agent.jar attach PID [key=value,...]   start recording in a running JVM",
            "       java -jar moe-agent.jar detach PID                   stop recording, restore the bytecode",
            "       java -jar moe-agent.jar list                         JVMs that can be attached",
            "Options are the agent options (queue=DIR,layers=0-3,...; see README). Java 21+ targets print a warning",
            "on attach unless started with -XX:+EnableDynamicAgentLoading.");

    private AttachCli() {
    }

    static int run(String[] args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            (args.length == 0 ? err : out).println(USAGE_TEXT);
            return args.length == 0 ? USAGE : OK;
        }
        switch (args[0]) {
            case "list":
                return list(out);
            case "attach":
            case "detach":
                if (args.length < 2 || args.length > 3 || (args[0].equals("detach") && args.length != 2)) {
                    err.println("moe-agent: " + BootLines.quote(args[0]) + " needs a PID" + (args[0].equals("attach")
                            ? " and optionally one argument of options" : "") + System.lineSeparator() + USAGE_TEXT);
                    return USAGE;
                }
                if (!args[1].matches("\\d{1,10}")) {
                    err.println("moe-agent: " + BootLines.quote(args[1]) + " is not a process id; run 'java -jar moe-agent.jar list'"
                            + " to see the JVMs you can attach to");
                    return USAGE;
                }
                return args[0].equals("attach") ? attach(args[1], args.length == 3 ? args[2] : "", out, err)
                        : detach(args[1], out, err);
            default:
                err.println("moe-agent: unknown command " + BootLines.quote(args[0]) + System.lineSeparator() + USAGE_TEXT);
                return USAGE;
        }
    }

    private static int attach(String pid, String options, PrintStream out, PrintStream err) {
        if (options.contains(";")) {
            err.println("moe-agent: options must not contain ';' (got " + BootLines.quote(options) + ")");
            return USAGE;
        }
        VirtualMachine vm = connect(pid, err);
        if (vm == null) {
            return NO_TARGET;
        }
        try {
            if (recording(vm)) {
                err.println("moe-agent: JVM " + pid + " is already recording to "
                        + vm.getSystemProperties().getProperty("moe.agent.queue", "?")
                        + "; run 'detach " + pid + "' first");
                return REFUSED;
            }
            vm.loadAgent(CoreLoader.ownJar().toString(), "attach;" + options);
            Properties p = vm.getSystemProperties();
            if ("true".equals(p.getProperty(AgentBoot.PROP_RECORDING))) {
                out.println("moe-agent: JVM " + pid + " is recording to " + p.getProperty("moe.agent.queue"));
                return OK;
            }
            err.println(BootLines.line(p.getProperty(AgentBoot.PROP_MESSAGE, "JVM " + pid + " did not start recording")));
            return REFUSED;
        } catch (AgentLoadException | AgentInitializationException | IOException e) {
            err.println("moe-agent: loading the agent into JVM " + pid + " failed: " + e.getMessage());
            return REFUSED;
        } finally {
            detachQuietly(vm);
        }
    }

    private static int detach(String pid, PrintStream out, PrintStream err) {
        VirtualMachine vm = connect(pid, err);
        if (vm == null) {
            return NO_TARGET;
        }
        try {
            if (!recording(vm)) {
                err.println("moe-agent: JVM " + pid + " is not recording; nothing to detach");
                return REFUSED;
            }
            vm.loadAgent(CoreLoader.ownJar().toString(), "detach");
            Properties p = vm.getSystemProperties();
            if ("false".equals(p.getProperty(AgentBoot.PROP_RECORDING))) {
                String msg = p.getProperty(AgentBoot.PROP_MESSAGE, "moe-agent: JVM " + pid + " stopped recording");
                if ("false".equals(p.getProperty(AgentBoot.PROP_RESTORED))) {
                    err.println(msg);
                    return NOT_RESTORED;
                }
                out.println(msg);
                return OK;
            }
            err.println("moe-agent: JVM " + pid + " is still recording: " + p.getProperty(AgentBoot.PROP_MESSAGE));
            return REFUSED;
        } catch (AgentLoadException | AgentInitializationException | IOException e) {
            err.println("moe-agent: detaching from JVM " + pid + " failed: " + e.getMessage());
            return REFUSED;
        } finally {
            detachQuietly(vm);
        }
    }

    private static int list(PrintStream out) {
        String self = Long.toString(ProcessHandle.current().pid());
        out.printf("%-8s %-10s %s%n", "PID", "RECORDING", "MAIN");
        for (VirtualMachineDescriptor d : VirtualMachine.list()) {
            if (d.id().equals(self)) {
                continue;
            }
            String state;
            try {
                VirtualMachine vm = d.provider().attachVirtualMachine(d);
                try {
                    state = recording(vm) ? "yes" : "no";
                } finally {
                    detachQuietly(vm);
                }
            } catch (AttachNotSupportedException | IOException e) {
                state = "?";
            }
            out.printf("%-8s %-10s %s%n", d.id(), state, d.displayName().isBlank() ? "?" : d.displayName());
        }
        return OK;
    }

    private static VirtualMachine connect(String pid, PrintStream err) {
        if (pid.equals(Long.toString(ProcessHandle.current().pid()))) {
            err.println("moe-agent: " + pid + " is this CLI itself; give the host's process id");
            return null;
        }
        try {
            return VirtualMachine.attach(pid);
        } catch (AttachNotSupportedException | IOException e) {
            boolean alive = ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
            err.println("moe-agent: cannot attach to " + pid + ": " + (alive
                    ? "the process refuses the attach API (" + e.getMessage() + "); is it a JVM of the same user,"
                    + " started without -XX:+DisableAttachMechanism / -XX:-EnableDynamicAgentLoading?"
                    : "no such process; run 'java -jar moe-agent.jar list'"));
            return null;
        }
    }

    private static boolean recording(VirtualMachine vm) throws IOException {
        return "true".equals(vm.getSystemProperties().getProperty(AgentBoot.PROP_RECORDING));
    }

    private static void detachQuietly(VirtualMachine vm) {
        try {
            vm.detach();
        } catch (IOException ignored) {
            // the connection is gone either way
        }
    }

}
