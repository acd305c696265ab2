package io.moeagent.analyzer.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.cost.AgentCost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Groups host run reports by their {@code label}, summarises each group with robust per-run figures (median
 * decode-step time, CPU time per generated token, new tokens/s), pairs every other group's runs with the
 * baseline's ({@code no-agent} if present, else the first label) by round, and gives each group's overhead per
 * figure as a {@link PairedOverhead} with its 95 % interval. Round k is the k-th run of each label in the order
 * the runs started ({@code started_epoch_ms}; the order given where a report lacks it), which is how test.sh
 * alternates them.
 */
public final class RunComparison {
    /**
     * One host run report.
     *
     * @param decodeStepMs   every decode step's wall time (ms), empty when the report has none
     * @param cpuMsPerToken  process CPU time per generated token over the generation, NaN when absent
     * @param threadCpuMs    the generating thread's CPU time over the generation, NaN when absent
     * @param startedEpochMs when generation started, -1 when absent
     */
    public record Run(Path file, String label, double tokensPerSecond, String outputsDigest, double wallMillis,
                      long startedEpochMs, String device, double[] decodeStepMs, double cpuMsPerToken,
                      double processCpuMs, double threadCpuMs, long generatedTokens, int order) {
        /** The generating thread's CPU time per generated token, NaN when absent. */
        double threadCpuMsPerToken() {
            return generatedTokens > 0 ? threadCpuMs / generatedTokens : Double.NaN;
        }

        double medianDecodeStepMs() {
            return decodeStepMs.length == 0 ? Double.NaN : PairedOverhead.median(decodeStepMs);
        }
    }

    /**
     * The per-run figures compared, in the order they are shown. CPU time per token comes first: on a CPU a busy
     * machine delays a run (wall time) far more than it changes the CPU time the run needs.
     */
    public enum Metric {
        CPU_PER_TOKEN("CPU/token", "cpu_ms_per_token", false),
        DECODE_STEP("decode step", "median_decode_step_ms", false),
        TOKENS_PER_S("tok/s", "new_tokens_per_s", true),
        /** The generating thread alone: where the agent's calls run, without other threads' JIT and GC work. */
        THREAD_CPU_PER_TOKEN("thread CPU/token", "thread_cpu_ms_per_token", false);

        public final String title;
        public final String field;
        public final boolean rate;

        Metric(String title, String field, boolean rate) {
            this.title = title;
            this.field = field;
            this.rate = rate;
        }

        boolean present(Run r) {
            return switch (this) {
                case DECODE_STEP -> r.decodeStepMs().length > 0;
                case CPU_PER_TOKEN -> r.cpuMsPerToken() > 0;
                case TOKENS_PER_S -> r.tokensPerSecond() > 0;
                case THREAD_CPU_PER_TOKEN -> r.threadCpuMsPerToken() > 0;
            };
        }

        double value(Run r) {
            return switch (this) {
                case DECODE_STEP -> r.medianDecodeStepMs();
                case CPU_PER_TOKEN -> r.cpuMsPerToken();
                case TOKENS_PER_S -> r.tokensPerSecond();
                case THREAD_CPU_PER_TOKEN -> r.threadCpuMsPerToken();
            };
        }

        PairedOverhead.Sample sample(Run r) {
            return this == DECODE_STEP ? PairedOverhead.Sample.ofSteps(r.decodeStepMs())
                    : PairedOverhead.Sample.of(value(r));
        }
    }

    /** A label's runs in start order, with each figure's median over its runs (NaN where absent). */
    public record Group(String label, List<Run> runs, Map<Metric, Double> medians, double minTokensPerSecond,
                        double maxTokensPerSecond) {
    }

    /** A group against the baseline: its rounds and, per figure present in every run, the overhead. */
    public record Paired(String label, int rounds, Map<Metric, PairedOverhead.Result> overheads) {
        /**
         * The headline figure: on a GPU the median decode-step time (the host's CPU time there is mostly waiting
         * for kernels), else the first figure compared (CPU time per token when the reports have it).
         */
        public Metric headline(String device) {
            String d = device.toLowerCase(java.util.Locale.ROOT);
            if ((d.contains("gpu") || d.contains("cuda")) && overheads.containsKey(Metric.DECODE_STEP)) {
                return Metric.DECODE_STEP;
            }
            return overheads.keySet().iterator().next();
        }
    }

    /**
     * The agent's direct cost over its runs (from the closing stats records of its queues), paired with the
     * agent group's runs in time order for each run's share of the host's generation time.
     */
    public record DirectCost(String label, List<AgentCost> runs, double[] nanosPerCall, double[] shares,
                             double medianNanosPerCall, double medianShare, double spreadPercent) {
    }

    public static final String DEFAULT_BASELINE = "no-agent";

    private final List<Group> groups;
    private final String baseline;
    private final List<Paired> paired;
    private final Map<String, List<Path>> digests;
    private final DirectCost direct;

    private RunComparison(List<Group> groups, String baseline, List<Paired> paired, Map<String, List<Path>> digests,
                          DirectCost direct) {
        this.groups = groups;
        this.baseline = baseline;
        this.paired = paired;
        this.digests = digests;
        this.direct = direct;
    }

    public static Run read(Path file) {
        return read(file, 0);
    }

    static Run read(Path file, int order) {
        if (!Files.isRegularFile(file)) {
            throw new AnalyzerException("no such run report: " + file);
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new AnalyzerException(file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("")
                    + "); pass host run reports (host run --report FILE)", e);
        }
        if (root == null || !root.isObject()) {
            throw new AnalyzerException(file + ": not a JSON object; pass host run reports (host run --report FILE)");
        }
        JsonNode tps = root.get("new_tokens_per_s");
        if (tps == null || !tps.isNumber()) {
            throw new AnalyzerException(file + ": no numeric 'new_tokens_per_s'; is this a host run report?");
        }
        JsonNode digest = root.get("outputs_digest");
        String label = root.path("label").isTextual() && !root.get("label").asText().isEmpty()
                ? root.get("label").asText() : "(no label)";
        JsonNode steps = root.path("decode_step_ms");
        double[] decode = new double[steps.isArray() ? steps.size() : 0];
        for (int i = 0; i < decode.length; i++) {
            decode[i] = steps.get(i).asDouble();
        }
        return new Run(file, label, tps.asDouble(), digest == null || digest.isNull() ? null : digest.asText(),
                root.path("wall_ms").asDouble(Double.NaN), root.path("started_epoch_ms").asLong(-1),
                root.path("device").asText(""), decode, root.path("cpu_ms_per_token").asDouble(Double.NaN),
                root.path("process_cpu_ms").asDouble(Double.NaN), root.path("thread_cpu_ms").asDouble(Double.NaN),
                root.path("generated_tokens").asLong(0), order);
    }

    /** Reads the reports in the order given (that order breaks ties in start time). */
    public static List<Run> readAll(List<Path> files) {
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            runs.add(read(files.get(i), i));
        }
        return runs;
    }

    public static RunComparison of(List<Run> runs, String baselineLabel) {
        return of(runs, baselineLabel, List.of(), DEFAULT_AGENT_LABEL);
    }

    public static final String DEFAULT_AGENT_LABEL = "agent";

    /**
     * @param agentCosts the agent's runs (closing stats records) for the direct cost, or empty
     * @param agentLabel the group those runs belong to
     */
    public static RunComparison of(List<Run> runs, String baselineLabel, List<AgentCost> agentCosts,
                                   String agentLabel) {
        if (runs.isEmpty()) {
            throw new AnalyzerException("no run reports given");
        }
        Map<String, List<Run>> byLabel = new LinkedHashMap<>();
        for (Run r : runs) {
            byLabel.computeIfAbsent(r.label(), x -> new ArrayList<>()).add(r);
        }
        byLabel.values().forEach(l -> l.sort(START_ORDER));
        String base = baselineLabel != null ? baselineLabel
                : byLabel.containsKey(DEFAULT_BASELINE) ? DEFAULT_BASELINE : byLabel.keySet().iterator().next();
        if (!byLabel.containsKey(base)) {
            throw new AnalyzerException("--baseline " + base + ": no run has that label (labels: " + byLabel.keySet()
                    + ")");
        }
        List<Group> groups = new ArrayList<>();
        for (Map.Entry<String, List<Run>> e : byLabel.entrySet()) {
            Map<Metric, Double> medians = new LinkedHashMap<>();
            for (Metric m : Metric.values()) {
                medians.put(m, e.getValue().stream().allMatch(m::present)
                        ? PairedOverhead.median(e.getValue().stream().mapToDouble(m::value).toArray()) : Double.NaN);
            }
            double[] tps = e.getValue().stream().mapToDouble(Run::tokensPerSecond).sorted().toArray();
            groups.add(new Group(e.getKey(), List.copyOf(e.getValue()), medians, tps[0], tps[tps.length - 1]));
        }
        List<Paired> paired = new ArrayList<>();
        List<Run> baseRuns = byLabel.get(base);
        for (Map.Entry<String, List<Run>> e : byLabel.entrySet()) {
            if (!e.getKey().equals(base)) {
                paired.add(pair(e.getKey(), baseRuns, e.getValue()));
            }
        }
        Map<String, List<Path>> digests = new LinkedHashMap<>();
        for (Run r : runs) {
            digests.computeIfAbsent(String.valueOf(r.outputsDigest()), x -> new ArrayList<>()).add(r.file());
        }
        DirectCost direct = agentCosts.isEmpty() ? null
                : direct(agentLabel, agentCosts, byLabel.getOrDefault(agentLabel, List.of()));
        return new RunComparison(groups, base, paired, digests, direct);
    }

    private static final Comparator<Run> START_ORDER = Comparator
            .comparingLong((Run r) -> r.startedEpochMs() < 0 ? Long.MAX_VALUE : r.startedEpochMs())
            .thenComparingInt(Run::order);

    /** Pairs round k of the baseline with round k of the group (as many rounds as both have). */
    static Paired pair(String label, List<Run> base, List<Run> treated) {
        int n = Math.min(base.size(), treated.size());
        Map<Metric, PairedOverhead.Result> out = new LinkedHashMap<>();
        for (Metric m : Metric.values()) {
            boolean present = true;
            for (int i = 0; i < n; i++) {
                present &= m.present(base.get(i)) && m.present(treated.get(i));
            }
            if (!present || n == 0) {
                continue;
            }
            PairedOverhead.Sample[] b = new PairedOverhead.Sample[n];
            PairedOverhead.Sample[] t = new PairedOverhead.Sample[n];
            for (int i = 0; i < n; i++) {
                b[i] = m.sample(base.get(i));
                t[i] = m.sample(treated.get(i));
            }
            out.put(m, PairedOverhead.of(b, t, m.rate));
        }
        return new Paired(label, n, out);
    }

    static DirectCost direct(String label, List<AgentCost> costs, List<Run> agentRuns) {
        List<AgentCost> sorted = new ArrayList<>(costs);
        sorted.sort(Comparator.comparingLong(c -> c.last().timeMillis()));
        double[] perCall = sorted.stream().mapToDouble(c -> c.last().nanosPerCall()).toArray();
        int paired = Math.min(sorted.size(), agentRuns.size());
        double[] shares = new double[paired];
        for (int i = 0; i < paired; i++) {
            shares[i] = sorted.get(i).shareOf(agentRuns.get(i).wallMillis());
        }
        double median = PairedOverhead.median(perCall);
        double spread = 0;
        for (double v : perCall) {
            spread = Math.max(spread, Math.abs(v - median) / median * 100);
        }
        return new DirectCost(label, sorted, perCall, shares, median,
                shares.length == 0 ? Double.NaN : PairedOverhead.median(shares), spread);
    }

    /** A label's runs in start order (empty when no run has it). */
    public List<Run> runs(String label) {
        return groups.stream().filter(g -> g.label().equals(label)).findFirst().map(Group::runs).orElse(List.of());
    }

    public List<Group> groups() {
        return groups;
    }

    public String baseline() {
        return baseline;
    }

    public List<Paired> paired() {
        return paired;
    }

    /** The agent's direct cost, or null when no agent queue was given. */
    public DirectCost direct() {
        return direct;
    }

    /** The device the baseline ran on ("cpu", "gpu", ...), "" when the reports do not say. */
    public String device() {
        return groups.stream().filter(g -> g.label().equals(baseline)).findFirst()
                .map(g -> g.runs().get(0).device()).orElse("");
    }

    /** Every run produced the same tokens (and every run reported a digest). */
    public boolean identicalOutputs() {
        return digests.size() == 1 && !digests.containsKey("null");
    }

    /** Digest (or "null" for none) to the runs that reported it, in input order. */
    public Map<String, List<Path>> digests() {
        return digests;
    }
}
