package io.moeagent.analyzer;

import io.moeagent.analyzer.compare.CompareCommand;
import io.moeagent.analyzer.diff.CompareRoutesCommand;
import io.moeagent.analyzer.export.ExportCommand;
import io.moeagent.analyzer.export.MergeCommand;
import io.moeagent.analyzer.fleet.SqlCommand;
import io.moeagent.analyzer.follow.FollowCommand;
import io.moeagent.analyzer.plot.PlotCommand;
import io.moeagent.analyzer.stats.StatsCommand;
import io.moeagent.analyzer.validate.ValidateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code analyzer} command: subcommands over route queues, exported JSONL and host run reports. */
@Command(name = "analyzer", mixinStandardHelpOptions = true, versionProvider = AnalyzerMain.Version.class,
        description = "Reads the expert routes that moe-agent recorded.",
        subcommands = {ExportCommand.class, ValidateCommand.class, StatsCommand.class, PlotCommand.class,
                FollowCommand.class, MergeCommand.class, CompareCommand.class, CompareRoutesCommand.class,
                SqlCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Exit status: 0 ok, 1 the data failed a check (validate, compare,"
                + " compare-routes --max-jsd), 2 bad usage or bad input."})
public final class AnalyzerMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces for errors.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(JvmQuirks.prepare(() -> newCommandLine().execute(args)));
    }

    /** The configured command line; tests call {@code execute} on it with their own streams. */
    public static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new AnalyzerMain());
        cl.setExecutionExceptionHandler(new ErrorReporter());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command (see --help)");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = AnalyzerMain.class.getPackage().getImplementationVersion();
            return new String[] {"analyzer " + (v == null ? "(development build)" : v)};
        }
    }
}
