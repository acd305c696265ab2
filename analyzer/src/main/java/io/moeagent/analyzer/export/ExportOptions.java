package io.moeagent.analyzer.export;

import java.util.List;
import picocli.CommandLine.Option;

/** What `export` and `merge` both write: the output file and which rows to keep. */
public final class ExportOptions {
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output JSONL file ('-' for stdout); with export --format parquet, the dataset directory.")
    String out;

    @Option(names = "--layers", split = ",", paramLabel = "L", description = "Only these layers (comma-separated).")
    List<Integer> layers;

    @Option(names = "--phase", defaultValue = "all", paramLabel = "PHASE",
            description = "prefill, decode or all (default: ${DEFAULT-VALUE}).")
    RowFilter.Phase phase;

    public RowFilter filter() {
        return new RowFilter(layers, phase);
    }
}
