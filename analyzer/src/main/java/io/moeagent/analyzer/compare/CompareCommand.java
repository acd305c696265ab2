package io.moeagent.analyzer.compare;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Compares host run reports grouped by their 'label' (e.g. no-agent, agent, agent-env-unset):"
                + " median new tokens/s per group with min-max, each group's overhead in %% against the baseline"
                + " group's median (no-agent if present, else the first label), and whether every run generated"
                + " identical tokens (outputs_digest).",
                "Exit 1 when the digests differ."})
public final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "RUN.json", description = "Host run reports (host run --report).")
    List<Path> runs;

    @Option(names = "--baseline", paramLabel = "LABEL", description = "The group to compare against.")
    String baseline;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the comparison as JSON ('-' for stdout).")
    String json;

    @Override
    public Integer call() {
        RunComparison c = RunComparison.of(runs.stream().map(RunComparison::read).toList(), baseline);
        PrintWriter out = spec.commandLine().getOut();
        if (!"-".equals(json)) {
            printTable(c, out);
        }
        if (json != null) {
            try {
                io.moeagent.analyzer.io.AtomicOutput.write(json, os -> writeJson(c, os));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        out.flush();
        return c.identicalOutputs() ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }

    private static void printTable(RunComparison c, PrintWriter out) {
        out.printf(Locale.ROOT, "%-20s %4s %14s %23s %10s%n", "label", "runs", "median tok/s", "min - max",
                "overhead");
        for (RunComparison.Group g : c.groups()) {
            String overhead = g.label().equals(c.baseline()) ? "baseline"
                    : String.format(Locale.ROOT, "%+.2f%%", g.overheadPercent());
            out.printf(Locale.ROOT, "%-20s %4d %14.2f %23s %10s%n", g.label(), g.runs().size(), g.median(),
                    String.format(Locale.ROOT, "%.2f - %.2f", g.min(), g.max()), overhead);
        }
        out.println("overhead: how much lower each group's median tokens/s is than the " + c.baseline() + " median");
        if (c.identicalOutputs()) {
            out.println("outputs: identical in all " + c.groups().stream().mapToInt(g -> g.runs().size()).sum()
                    + " runs (" + c.digests().keySet().iterator().next() + ")");
        } else {
            out.println("outputs: DIFFER between runs:");
            for (Map.Entry<String, List<Path>> e : c.digests().entrySet()) {
                out.println("  " + ("null".equals(e.getKey()) ? "(no outputs_digest)" : e.getKey()) + ": "
                        + e.getValue());
            }
        }
    }

    private static void writeJson(RunComparison c, OutputStream os) throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(os)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("baseline", c.baseline());
            g.writeBooleanField("identical_outputs", c.identicalOutputs());
            g.writeArrayFieldStart("groups");
            for (RunComparison.Group gr : c.groups()) {
                g.writeStartObject();
                g.writeStringField("label", gr.label());
                g.writeNumberField("runs", gr.runs().size());
                g.writeNumberField("median_new_tokens_per_s", gr.median());
                g.writeNumberField("min_new_tokens_per_s", gr.min());
                g.writeNumberField("max_new_tokens_per_s", gr.max());
                g.writeNumberField("overhead_percent", gr.overheadPercent());
                g.writeArrayFieldStart("files");
                for (RunComparison.Run r : gr.runs()) {
                    g.writeString(r.file().toString());
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeObjectFieldStart("digests");
            for (Map.Entry<String, List<Path>> e : c.digests().entrySet()) {
                g.writeArrayFieldStart(e.getKey());
                for (Path p : e.getValue()) {
                    g.writeString(p.toString());
                }
                g.writeEndArray();
            }
            g.writeEndObject();
            g.writeEndObject();
            g.writeRaw('\n');
        }
    }
}
