package io.moeagent.analyzer.compare;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.Outputs;
import io.moeagent.analyzer.cost.AgentCost;
import io.moeagent.analyzer.cost.AgentCostReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
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
        description = {"Compares host run reports grouped by their 'label' (e.g. no-agent, agent, agent-env-unset)."
                + " Runs are paired by round (the k-th run of each label in start order) with the baseline group"
                + " (no-agent if present, else the first label); per round the overhead of each robust per-run"
                + " figure (median decode-step time, CPU time per token, new tokens/s) is its log ratio, and the"
                + " overhead is given with a 95 %% bootstrap interval (10000 resamples over rounds and, for the"
                + " step time, steps; seeded). An interval that spans zero reads 'within noise'.",
                "With --agent-queue, also the agent's direct cost from its stats records.",
                "Exit 1 when the generated tokens (outputs_digest) differ."})
public final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "RUN.json", description = "Host run reports (host run --report).")
    List<Path> runs;

    @Option(names = "--baseline", paramLabel = "LABEL", description = "The group to compare against.")
    String baseline;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the comparison as JSON ('-' for stdout).")
    String json;

    @Option(names = "--agent-queue", paramLabel = "DIR",
            description = "A queue the agent wrote during one of the agent group's runs (repeatable): its stats"
                    + " records give the agent's direct cost per run.")
    List<Path> agentQueues = new ArrayList<>();

    @Option(names = "--agent-label", paramLabel = "LABEL", defaultValue = RunComparison.DEFAULT_AGENT_LABEL,
            description = "The group whose runs wrote the --agent-queue queues (default: ${DEFAULT-VALUE}).")
    String agentLabel;

    @Option(names = "--target", paramLabel = "PERCENT",
            description = "The overhead target to judge against (default: 2 on a CPU, 0.5 on a GPU).")
    Double target;

    @Option(names = "--injected-nanos", paramLabel = "NS",
            description = "The --injected-label group ran the agent with test.spin-nanos=NS: say how much of that"
                    + " known cost the comparison of that group with the --agent-label group finds.")
    Long injectedNanos;

    @Option(names = "--injected-label", paramLabel = "LABEL", defaultValue = "agent-spin",
            description = "The group with the injected cost (default: ${DEFAULT-VALUE}).")
    String injectedLabel;

    @Override
    public Integer call() {
        List<AgentCost> costs = new ArrayList<>();
        for (Path q : agentQueues) {
            costs.addAll(AgentCostReader.read(q));
        }
        RunComparison c = RunComparison.of(RunComparison.readAll(runs), baseline, costs, agentLabel);
        double t = target != null ? target : defaultTarget(c.device());
        PrintWriter out = spec.commandLine().getOut();
        Injected injected = injectedNanos == null ? null : injected(c, agentLabel, injectedLabel, injectedNanos);
        if (!"-".equals(json)) {
            printTable(c, t, injected, out);
        }
        if (json != null) {
            try {
                io.moeagent.analyzer.io.AtomicOutput.write(json, os -> writeJson(c, t, injected, os));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        out.flush();
        return c.identicalOutputs() ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }

    /** The project's targets: under 2 % on a CPU, under 0.5 % on a GPU. */
    static double defaultTarget(String device) {
        String d = device.toLowerCase(Locale.ROOT);
        return d.contains("gpu") || d.contains("cuda") ? 0.5 : 2.0;
    }

    private static void printTable(RunComparison c, double target, Injected injected, PrintWriter out) {
        out.printf(Locale.ROOT, "%-20s %4s %14s %17s %14s %16s%n", "label", "runs", "median tok/s", "min - max",
                "decode step ms", "CPU ms/token");
        for (RunComparison.Group g : c.groups()) {
            out.printf(Locale.ROOT, "%-20s %4d %14.2f %17s %14s %16s%n", g.label(), g.runs().size(),
                    g.medians().get(RunComparison.Metric.TOKENS_PER_S),
                    String.format(Locale.ROOT, "%.2f - %.2f", g.minTokensPerSecond(), g.maxTokensPerSecond()),
                    num(g.medians().get(RunComparison.Metric.DECODE_STEP), 3),
                    num(g.medians().get(RunComparison.Metric.CPU_PER_TOKEN), 3));
        }
        out.printf(Locale.ROOT, "paired with %s by round (k-th run of each label in start order); overhead per"
                + " figure with its 95 %% bootstrap interval (%d resamples, seed %d):%n", c.baseline(),
                PairedOverhead.RESAMPLES, PairedOverhead.SEED);
        for (RunComparison.Paired p : c.paired()) {
            List<String> parts = new ArrayList<>();
            p.overheads().forEach((m, r) -> parts.add(m.title + " " + r.describe()));
            out.printf(Locale.ROOT, "  %-18s %d rounds: %s%n", p.label(), p.rounds(), String.join("; ", parts));
        }
        for (RunComparison.Paired p : c.paired()) {
            if (p.overheads().isEmpty()) {
                out.printf(Locale.ROOT, "overhead %s: no rounds to pair with %s%n", p.label(), c.baseline());
                continue;
            }
            RunComparison.Metric m = p.headline(c.device());
            PairedOverhead.Result r = p.overheads().get(m);
            out.printf(Locale.ROOT, "overhead %s (%s): %s; %s%n", p.label(), m.title, r.describe(),
                    verdictText(r, target, c.device()));
        }
        RunComparison.DirectCost d = c.direct();
        if (d != null) {
            out.printf(Locale.ROOT, "direct cost %s: %s per selection call (median of %d runs, within +-%.1f %%), %,d"
                            + " calls per run, %s of the host's generation time (median)%n", d.label(),
                    nanos(d.medianNanosPerCall()), d.runs().size(), d.spreadPercent(), d.runs().get(0).last().calls(),
                    Double.isNaN(d.medianShare()) ? "-" : String.format(Locale.ROOT, "%.4f %%", 100 * d.medianShare()));
            out.printf(Locale.ROOT, "  of which the first call %s (median; appender, meta record, cold code); after it"
                            + " %s per call, median call %s%n",
                    nanos(PairedOverhead.median(d.runs().stream().mapToDouble(AgentCost::firstCallNanos).toArray())),
                    nanos(PairedOverhead.median(d.runs().stream().mapToDouble(AgentCost::steadyNanosPerCall).toArray())),
                    nanos(PairedOverhead.median(d.runs().stream().mapToDouble(x -> x.callQuantileNanos(0.5))
                            .toArray())));
            double[] warmCalls = d.runs().stream().filter(x -> x.warmupPlanned() > 0)
                    .mapToDouble(AgentCost::warmupCalls).toArray();
            if (warmCalls.length > 0) {
                double[] warmMs = d.runs().stream().filter(x -> x.warmupPlanned() > 0)
                        .mapToDouble(x -> x.warmupNanos() / 1e6).toArray();
                double[] warmCpu = d.runs().stream().filter(x -> x.warmupPlanned() > 0)
                        .mapToDouble(x -> x.warmupCpuNanos() / 1e6).toArray();
                out.printf(Locale.ROOT, "  warm-up: %,.0f synthetic calls in %.0f ms at start (%.0f ms CPU; medians of"
                                + " %d runs), not counted in the direct cost%n", PairedOverhead.median(warmCalls),
                        PairedOverhead.median(warmMs), PairedOverhead.median(warmCpu), warmCalls.length);
            }
        }
        if (injected != null) {
            out.printf(Locale.ROOT, "injected %s vs %s: %,d ns x %,d calls = %.2f %% of the %s; measured %s %s;"
                            + " recovered %.0f %% of the injected cost%n", injected.label(), injected.reference(),
                    injected.nanos(), injected.calls(), injected.percent(),
                    switch (injected.metric()) {
                        case THREAD_CPU_PER_TOKEN -> "generating thread's CPU time";
                        case CPU_PER_TOKEN -> "process CPU time";
                        default -> "generation time";
                    },
                    injected.metric().title, injected.result().describe(), injected.recovered());
        }
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

    /**
     * The injected-cost check: the group with test.spin-nanos against the plain agent group, paired by round.
     * The spin runs on the generating thread, so the check reads that thread's CPU time per token where the reports
     * have it (process CPU time also carries what other threads, JIT compilers and GC, do meanwhile; measured:
     * 141-166 % of the injected share there, against 104-111 % on the thread); else process CPU, else wall time. The
     * expected overhead per round is calls x spin over the plain run's figure; recovered = measured / expected.
     */
    record Injected(String label, String reference, long nanos, long calls, RunComparison.Metric metric,
                    double percent, PairedOverhead.Result result, double recovered) {
    }

    static Injected injected(RunComparison c, String reference, String label, long nanos) {
        List<RunComparison.Run> ref = c.runs(reference);
        List<RunComparison.Run> spun = c.runs(label);
        if (ref.isEmpty() || spun.isEmpty() || c.direct() == null || c.direct().runs().isEmpty()) {
            return null;
        }
        RunComparison.Paired p = RunComparison.pair(label, ref, spun);
        if (p.overheads().isEmpty()) {
            return null;
        }
        RunComparison.Metric m = p.overheads().containsKey(RunComparison.Metric.THREAD_CPU_PER_TOKEN)
                ? RunComparison.Metric.THREAD_CPU_PER_TOKEN : p.headline(c.device());
        if (m == RunComparison.Metric.DECODE_STEP && p.overheads().containsKey(RunComparison.Metric.TOKENS_PER_S)) {
            m = RunComparison.Metric.TOKENS_PER_S; // a whole-run share compares with a whole-run figure
        }
        long calls = c.direct().runs().get(0).last().calls();
        double[] expected = new double[p.rounds()];
        for (int i = 0; i < expected.length; i++) {
            RunComparison.Run base = ref.get(i);
            double ms = switch (m) {
                case THREAD_CPU_PER_TOKEN -> base.threadCpuMs();
                case CPU_PER_TOKEN -> base.processCpuMs();
                default -> base.wallMillis();
            };
            expected[i] = 100 * calls * nanos / (ms * 1e6);
        }
        double percent = PairedOverhead.median(expected);
        PairedOverhead.Result r = p.overheads().get(m);
        return new Injected(label, reference, nanos, calls, m, percent, r, 100 * r.percent() / percent);
    }

    static String verdictText(PairedOverhead.Result r, double target, String device) {
        String where = String.format(Locale.ROOT, "target < %s %% on %s", trim(target),
                device.isEmpty() ? "this device" : device.toUpperCase(Locale.ROOT));
        int needed = r.roundsFor(1.0);
        String rounds = needed < 0 ? "" : String.format(Locale.ROOT, "; a +-1 %% interval needs ~%d rounds", needed);
        return switch (r.verdict(target)) {
            case "meets" -> "meets the " + where + rounds;
            case "exceeds" -> "EXCEEDS the " + where + rounds;
            default -> {
                // an interval narrower than the estimate's distance from the target would decide it
                int forTarget = r.roundsFor(Math.abs(r.percent() - target));
                yield "undecided against the " + where + (forTarget < 0 ? ""
                        : String.format(Locale.ROOT, " (~%d rounds would tell %+.2f %% from it)", forTarget,
                                r.percent())) + rounds;
            }
        };
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    private static String num(Double v, int decimals) {
        return v == null || Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static String nanos(double ns) {
        if (Double.isNaN(ns) || ns < 0) {
            return "-";
        }
        if (ns >= 10_000_000) {
            return String.format(Locale.ROOT, "%.1f ms", ns / 1e6);
        }
        return ns >= 10_000 ? String.format(Locale.ROOT, "%.1f us", ns / 1000) : String.format(Locale.ROOT, "%.0f ns", ns);
    }

    private static void writeJson(RunComparison c, double target, Injected injected, OutputStream os)
            throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(os)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("baseline", c.baseline());
            g.writeBooleanField("identical_outputs", c.identicalOutputs());
            g.writeStringField("device", c.device());
            g.writeNumberField("target_percent", target);
            g.writeNumberField("bootstrap_resamples", PairedOverhead.RESAMPLES);
            g.writeNumberField("bootstrap_seed", PairedOverhead.SEED);
            g.writeArrayFieldStart("groups");
            for (RunComparison.Group gr : c.groups()) {
                g.writeStartObject();
                g.writeStringField("label", gr.label());
                g.writeNumberField("runs", gr.runs().size());
                number(g, "median_new_tokens_per_s", gr.medians().get(RunComparison.Metric.TOKENS_PER_S));
                g.writeNumberField("min_new_tokens_per_s", gr.minTokensPerSecond());
                g.writeNumberField("max_new_tokens_per_s", gr.maxTokensPerSecond());
                number(g, "median_decode_step_ms", gr.medians().get(RunComparison.Metric.DECODE_STEP));
                number(g, "median_cpu_ms_per_token", gr.medians().get(RunComparison.Metric.CPU_PER_TOKEN));
                RunComparison.Paired p = c.paired().stream().filter(x -> x.label().equals(gr.label())).findFirst()
                        .orElse(null);
                if (p != null) {
                    g.writeNumberField("rounds", p.rounds());
                    g.writeObjectFieldStart("overhead");
                    for (Map.Entry<RunComparison.Metric, PairedOverhead.Result> e : p.overheads().entrySet()) {
                        g.writeFieldName(e.getKey().field);
                        result(g, e.getValue(), target);
                    }
                    g.writeEndObject();
                    if (!p.overheads().isEmpty()) {
                        g.writeStringField("headline", p.headline(c.device()).field);
                    }
                }
                g.writeArrayFieldStart("files");
                for (RunComparison.Run r : gr.runs()) {
                    g.writeString(r.file().toString());
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            RunComparison.DirectCost d = c.direct();
            if (d != null) {
                g.writeObjectFieldStart("direct_cost");
                g.writeStringField("label", d.label());
                g.writeNumberField("runs", d.runs().size());
                number(g, "median_nanos_per_call", d.medianNanosPerCall());
                g.writeNumberField("max_deviation_percent", d.spreadPercent());
                number(g, "median_share_of_generation", d.medianShare());
                g.writeFieldName("nanos_per_call");
                g.writeArray(d.nanosPerCall(), 0, d.nanosPerCall().length);
                g.writeFieldName("share_of_generation");
                g.writeArray(d.shares(), 0, d.shares().length);
                g.writeArrayFieldStart("calls");
                for (AgentCost a : d.runs()) {
                    g.writeNumber(a.last().calls());
                }
                g.writeEndArray();
                g.writeArrayFieldStart("warmup_calls");
                for (AgentCost a : d.runs()) {
                    g.writeNumber(a.warmupCalls());
                }
                g.writeEndArray();
                g.writeArrayFieldStart("warmup_nanos");
                for (AgentCost a : d.runs()) {
                    g.writeNumber(a.warmupNanos());
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            if (injected != null) {
                g.writeObjectFieldStart("injected");
                g.writeStringField("label", injected.label());
                g.writeStringField("reference", injected.reference());
                g.writeNumberField("nanos_per_call", injected.nanos());
                g.writeNumberField("calls", injected.calls());
                g.writeStringField("metric", injected.metric().field);
                g.writeNumberField("expected_percent", injected.percent());
                g.writeFieldName("measured");
                result(g, injected.result(), target);
                g.writeNumberField("recovered_percent", injected.recovered());
                g.writeEndObject();
            }
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

    private static void result(JsonGenerator g, PairedOverhead.Result r, double target) throws IOException {
        g.writeStartObject();
        g.writeNumberField("rounds", r.rounds());
        number(g, "percent", r.percent());
        number(g, "ci_low", r.low());
        number(g, "ci_high", r.high());
        g.writeBooleanField("within_noise", r.spansZero());
        g.writeStringField("verdict", r.verdict(target));
        number(g, "round_sd_percent", r.roundSdPercent());
        g.writeNumberField("rounds_for_1_percent", r.roundsFor(1.0));
        g.writeFieldName("round_percents");
        g.writeArray(r.roundPercents(), 0, r.roundPercents().length);
        g.writeStringField("text", r.describe());
        g.writeEndObject();
    }

    private static void number(JsonGenerator g, String name, Double v) throws IOException {
        g.writeFieldName(name);
        if (v != null && Double.isFinite(v)) {
            g.writeNumber(v);
        } else {
            g.writeNull();
        }
    }
}
