package io.moeagent.analyzer.validate;

import io.moeagent.analyzer.ExitCodes;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Checks a routes JSONL file: the meta line and its fields, every route's fields and types,"
                + " top_k distinct expert ids in range, finite non-increasing weights in [0, 1], layers among"
                + " layers_logged, token_idx strictly increasing per request and layer; with --run, that the routes"
                + " cover exactly the tokens the host forwarded.",
                "Exit 0 and one summary line when valid; exit 1 with each defect's line number otherwise."})
public final class ValidateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "routes.jsonl", description = "The exported (or merged) JSONL file.")
    Path file;

    @Option(names = "--run", paramLabel = "run.json", description = "The host's run report (host run --report).")
    Path run;

    @Option(names = "--max-listed", defaultValue = "50", paramLabel = "N",
            description = "List at most N defects in full (default: ${DEFAULT-VALUE}); totals cover all.")
    int maxListed;

    @Override
    public Integer call() {
        RunReport report = run == null ? null : RunReport.read(run);
        JsonlValidator.Result r = new JsonlValidator(Math.max(0, maxListed)).validate(file, report);
        PrintWriter out = spec.commandLine().getOut();
        r.notes().forEach(n -> out.println("note: " + n));
        if (r.valid()) {
            out.println("valid: " + file + ": " + r.routeLines() + " route lines, " + r.requests() + " requests, "
                    + r.layers() + " layers" + (report == null ? "" : ", matching " + run));
            out.flush();
            return ExitCodes.OK;
        }
        r.listed().forEach(d -> out.println(d));
        if (r.defects() > r.listed().size()) {
            out.println("... " + (r.defects() - r.listed().size()) + " more defects not listed (--max-listed)");
        }
        StringBuilder kinds = new StringBuilder();
        for (Map.Entry<Defect.Kind, Long> e : r.totals().entrySet()) {
            kinds.append(kinds.length() == 0 ? "" : ", ").append(e.getValue()).append(' ').append(e.getKey().label());
        }
        out.println("invalid: " + file + ": " + r.defects() + " defects in " + r.routeLines() + " route lines ("
                + kinds + ")");
        out.flush();
        return ExitCodes.CHECK_FAILED;
    }
}
