package io.moeagent.analyzer.source;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Where `stats` and `plot` read routes from: the agent's queue directory or an exported JSONL file. */
public final class RouteSourceOptions {
    @Option(names = "--queue", paramLabel = "DIR", description = "Read the agent's queue directory.")
    public Path queue;

    @Option(names = "--run", paramLabel = "RUNID",
            description = "With --queue: only this run (16 hex digits, as export's run_id); default: all runs, pooled.")
    public String run;

    @Parameters(arity = "0..1", paramLabel = "routes.jsonl", description = "Read an exported JSONL file.")
    public Path jsonl;
}
