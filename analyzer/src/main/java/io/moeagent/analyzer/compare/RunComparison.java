package io.moeagent.analyzer.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.AnalyzerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Groups host run reports by their {@code label}, summarises new tokens/s per group, and compares each group's
 * median with the baseline group's ({@code no-agent} if present, else the first label seen).
 */
public final class RunComparison {
    public record Run(Path file, String label, double tokensPerSecond, String outputsDigest) {
    }

    /** {@code overheadPercent}: how much slower than the baseline's median (negative: faster). */
    public record Group(String label, List<Run> runs, double median, double min, double max, double overheadPercent) {
    }

    public static final String DEFAULT_BASELINE = "no-agent";

    private final List<Group> groups;
    private final String baseline;
    private final Map<String, List<Path>> digests;

    private RunComparison(List<Group> groups, String baseline, Map<String, List<Path>> digests) {
        this.groups = groups;
        this.baseline = baseline;
        this.digests = digests;
    }

    public static Run read(Path file) {
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
        return new Run(file, label, tps.asDouble(), digest == null || digest.isNull() ? null : digest.asText());
    }

    public static RunComparison of(List<Run> runs, String baselineLabel) {
        if (runs.isEmpty()) {
            throw new AnalyzerException("no run reports given");
        }
        Map<String, List<Run>> byLabel = new LinkedHashMap<>();
        for (Run r : runs) {
            byLabel.computeIfAbsent(r.label(), x -> new ArrayList<>()).add(r);
        }
        String base = baselineLabel != null ? baselineLabel
                : byLabel.containsKey(DEFAULT_BASELINE) ? DEFAULT_BASELINE : byLabel.keySet().iterator().next();
        if (!byLabel.containsKey(base)) {
            throw new AnalyzerException("--baseline " + base + ": no run has that label (labels: " + byLabel.keySet()
                    + ")");
        }
        double baseMedian = median(byLabel.get(base));
        List<Group> groups = new ArrayList<>();
        for (Map.Entry<String, List<Run>> e : byLabel.entrySet()) {
            double[] v = e.getValue().stream().mapToDouble(Run::tokensPerSecond).sorted().toArray();
            double med = median(e.getValue());
            groups.add(new Group(e.getKey(), List.copyOf(e.getValue()), med, v[0], v[v.length - 1],
                    100 * (baseMedian - med) / baseMedian));
        }
        Map<String, List<Path>> digests = new LinkedHashMap<>();
        for (Run r : runs) {
            digests.computeIfAbsent(String.valueOf(r.outputsDigest()), x -> new ArrayList<>()).add(r.file());
        }
        return new RunComparison(groups, base, digests);
    }

    static double median(List<Run> runs) {
        double[] v = runs.stream().mapToDouble(Run::tokensPerSecond).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    public List<Group> groups() {
        return groups;
    }

    public String baseline() {
        return baseline;
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
