package io.moeagent.host;

import io.moeagent.host.cli.DoctorCommand;
import io.moeagent.host.cli.ModelOptions;
import io.moeagent.host.cli.RunCommand;
import io.moeagent.host.cli.RunOptions;
import io.moeagent.host.cli.ServeCommand;
import io.moeagent.host.train.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code host [run] [options]} generates for a set of prompts; {@code host serve --port P} answers OpenAI-style
 * completion requests. Without a subcommand it runs {@code run}.
 */
@Command(name = "host", mixinStandardHelpOptions = true, versionProvider = HostMain.Version.class,
        subcommands = {RunCommand.class, ServeCommand.class, DoctorCommand.class, TrainCommand.class},
        description = "A Qwen2-MoE inference host on DJL's PyTorch engine.")
public final class HostMain implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    RunOptions run = new RunOptions();

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    @Override
    public Integer call() {
        return RunCommand.execute(spec, model, run);
    }

    /** The configured command line: errors become one line on stderr (a stack trace only with --verbose). */
    public static CommandLine commandLine() {
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true"); // never let DJL open network connections
        }
        CommandLine commandLine = new CommandLine(new HostMain());
        commandLine.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("error: " + e.getMessage());
            err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return e.getCommandLine().getCommandSpec().exitCodeOnInvalidInput();
        });
        commandLine.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            err.println("error: " + message);
            if (verbose(parseResult)) {
                e.printStackTrace(err);
            } else if (!(e instanceof IllegalArgumentException || e instanceof io.moeagent.host.cli.UserError
                    || e instanceof io.moeagent.host.io.ModelLoadException)) {
                err.println("(run with --verbose for the stack trace)");
            }
            err.flush();
            return 1;
        });
        return commandLine;
    }

    private static boolean verbose(CommandLine.ParseResult parseResult) {
        for (CommandLine.ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** The jar's Implementation-Version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = HostMain.class.getPackage().getImplementationVersion();
            return new String[] {"host " + (version == null ? "dev" : version)};
        }
    }
}
