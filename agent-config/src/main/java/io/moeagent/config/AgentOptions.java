package io.moeagent.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's option table, defined once: parsing accepts exactly these keys, the base defaults come from here
 * (a profile overrides some), {@link AgentConfig#describe()} writes them in this order, and the README's option
 * table is generated from it ({@link #markdownTable()}; a test compares).
 */
public final class AgentOptions {
    /** How a key is grouped in the table. */
    public enum Group { GENERAL, POINTCUT, SCOPE, STEP_CONTEXT, META }

    /**
     * @param key          the option's name
     * @param baseDefault  its value when neither the profile nor the user sets it; {@code null} = must be set
     *                     (by the profile or the user); {@code "none"} = off
     * @param profiled     whether profiles set it (the table shows each built-in profile's value)
     * @param meaning      one line for the table: allowed values and what it does
     */
    public record Option(String key, Group group, String baseDefault, boolean profiled, String meaning) {
    }

    /** Chronicle Queue roll cycles accepted by {@code roll-cycle} (the names of {@code RollCycles}). */
    static final List<String> ROLL_CYCLE_NAMES = List.of("FIVE_MINUTELY", "TEN_MINUTELY", "TWENTY_MINUTELY",
            "HALF_HOURLY", "FAST_HOURLY", "TWO_HOURLY", "FOUR_HOURLY", "SIX_HOURLY", "FAST_DAILY", "WEEKLY");
    private static final String PATH = "a path (see below)";
    private static final String FIELD = "field path in the step context";

    public static final List<Option> ALL = List.of(
            new Option("profile", Group.GENERAL, Profiles.DEFAULT, false,
                    "built-in engine profile: " + String.join(", ", Profiles.names())
                            + "; sets the pointcut, scope and meta keys, which any source may still override; `none`:"
                            + " only this table's defaults (start here for a new engine)"),
            new Option("config", Group.GENERAL, "none", false,
                    "properties file with any of these keys (agent argument only)"),
            new Option("queue", Group.GENERAL, AgentConfig.DEFAULT_QUEUE, false,
                    "queue directory (relative to the host's working directory)"),
            new Option("layers", Group.GENERAL, "all", false, "`all`, or indices and inclusive ranges: `0-3,7`"),
            new Option("sample-every", Group.GENERAL, "1", false,
                    "record every Nth step: steps whose id is a multiple of N (per-thread count without a step context)"),
            new Option("weights", Group.GENERAL, "true", false,
                    "`true` ids and weights (where `pointcut.weights` names them), `false` ids only"),
            new Option("roll-cycle", Group.GENERAL, AgentConfig.DEFAULT_ROLL_CYCLE, false,
                    "a Chronicle `RollCycles` name: " + String.join(", ", ROLL_CYCLE_NAMES)),
            new Option("retention", Group.GENERAL, "0", false,
                    "cycle files to keep; older ones are deleted when a new cycle starts (0 = keep all)"),
            new Option("max-records", Group.GENERAL, "0", false,
                    "stop recording after this many records (0 = no limit); one stderr line when hit"),
            new Option("max-bytes", Group.GENERAL, "0", false,
                    "stop after about this many bytes of records, suffix `k`/`m`/`g` allowed (0 = no limit)"),
            new Option("warmup", Group.GENERAL, Integer.toString(AgentConfig.DEFAULT_WARMUP), false,
                    "at start, up to this many synthetic selection calls (ending at the host's first one) on a daemon"
                            + " thread through the recording path into a scratch queue in a private temp directory,"
                            + " deleted after, so that the host's first calls run compiled code; reported apart from"
                            + " the direct cost (0 = off)"),
            new Option("test.spin-nanos", Group.GENERAL, "0", false,
                    "**test only**: busy-wait this many ns in every selection call, to check that `analyzer compare`"
                            + " finds a known cost (never set it otherwise)"),
            new Option("min-free-space", Group.GENERAL, "64m", false,
                    "usable bytes to leave on the queue's file system: recording does not start, or stops with one"
                            + " line, below it (suffix `k`/`m`/`g`; at least 128k is always kept)"),
            new Option("pointcut.class", Group.POINTCUT, null, true,
                    "class declaring the expert-selection method (binary name)"),
            new Option("pointcut.method", Group.POINTCUT, null, true,
                    "the method; advice runs at its normal exit (every overload with that name)"),
            new Option("pointcut.ids", Group.POINTCUT, null, true, PATH + ": `int[]` of expert ids, row-major `[rows, k]`"),
            new Option("pointcut.weights", Group.POINTCUT, "none", true,
                    PATH + ": `float[]` like ids, or `PATH[ids]`: a per-expert `float[]`/`double[]`/`FloatBuffer` or an"
                            + " object with `float get(int...)`, indexed by the selected ids; or `none`"),
            new Option("pointcut.tokens", Group.POINTCUT, "none", true, PATH + ": rows in the call, or `none` (= ids / k)"),
            new Option("pointcut.k", Group.POINTCUT, null, true, PATH + " or an integer constant: experts per row"),
            new Option("pointcut.layer", Group.POINTCUT, null, true,
                    PATH + " or an integer constant: the layer index (e.g. `layer.this.layerIndex`)"),
            new Option("pointcut.position", Group.POINTCUT, "none", true,
                    PATH + ": position of the step's first row (row i is at +i), or `none` (agent-numbered within the"
                            + " request); used without a step context"),
            new Option("scope.request", Group.SCOPE, "none", true,
                    "`Class#method`: one outermost call = one request (the agent numbers them), or `none`"),
            new Option("scope.step", Group.SCOPE, "none", true,
                    "`Class#method`: one outermost call = one forward step over a batch of rows, or `none`"),
            new Option("scope.layer", Group.SCOPE, "none", true,
                    "`Class#method`: router calls inside one call of it form one route record (rows in call order),"
                            + " or `none` (one record per router call)"),
            new Option("pointcut.layer-method", Group.SCOPE, "none", true, "older name of `scope.layer`"),
            new Option("pointcut.step", Group.STEP_CONTEXT, "none", true,
                    PATH + ": the engine's step context object, or `none`"),
            new Option("pointcut.step-id", Group.STEP_CONTEXT, "stepId", true,
                    FIELD + ": the engine's step id (`long`/`int`); a change marks a new step"),
            new Option("pointcut.step-prefill", Group.STEP_CONTEXT, "prefill", true,
                    FIELD + ": `boolean`, or `none` (then prefill = rows > 1)"),
            new Option("pointcut.step-tokens", Group.STEP_CONTEXT, "tokens", true,
                    FIELD + ": rows in the step, or `none` (= the route's rows)"),
            new Option("pointcut.step-request-ids", Group.STEP_CONTEXT, "requestIds", true,
                    FIELD + ": `long[]` or `int[]` request id per row"),
            new Option("pointcut.step-positions", Group.STEP_CONTEXT, "positions", true,
                    FIELD + ": `int[]` (or `long[]`) position per row"),
            new Option("pointcut.step-token-ids", Group.STEP_CONTEXT, "tokenIds", true,
                    FIELD + ": `int[]` input token id per row, or `none` (a step class without it records none)"),
            new Option("pointcut.step-phases", Group.STEP_CONTEXT, "rowPhases", true,
                    FIELD + ": `byte[]` phase per row (0 prefill, 1 decode), or `none` (a step class without it"
                            + " records the step's phase)"),
            new Option("pointcut.run-info", Group.STEP_CONTEXT, "runInfo", true,
                    FIELD + ": a `Map` of run facts for the meta record, or `none`"),
            new Option("meta.model-id", Group.META, "none", true,
                    "model id for the meta record: text, or a path; used where the engine's run info has none"),
            new Option("meta.engine", Group.META, "none", true, "engine name for the meta record: text or a path"),
            new Option("meta.engine-version", Group.META, "none", true, "engine version: text or a path"),
            new Option("meta.num-experts", Group.META, "none", true, "experts per MoE layer: an integer or a path"),
            new Option("meta.num-layers", Group.META, "none", true, "layers of the model: an integer or a path"),
            new Option("meta.top-k", Group.META, "none", true,
                    "experts per token: an integer or a path (`none` = the k of the first recorded call)"));

    private static final Map<String, Option> BY_KEY = new LinkedHashMap<>();

    static {
        for (Option o : ALL) {
            BY_KEY.put(o.key(), o);
        }
    }

    private AgentOptions() {
    }

    public static Option get(String key) {
        return BY_KEY.get(key);
    }

    public static List<String> keys() {
        return List.copyOf(BY_KEY.keySet());
    }

    /** The README's option table: one row per key, a column per built-in profile for the keys profiles set. */
    public static String markdownTable() {
        List<String> profiles = Profiles.names();
        StringBuilder sb = new StringBuilder("| key | default");
        for (String p : profiles) {
            sb.append(" | `profile=").append(p).append('`');
        }
        sb.append(" | allowed / meaning |\n|---|---");
        for (int i = 0; i < profiles.size(); i++) {
            sb.append("|---");
        }
        sb.append("|---|\n");
        for (Option o : ALL) {
            sb.append("| `").append(o.key()).append("` | ").append(cell(o.baseDefault()));
            for (String p : profiles) {
                String v = Profiles.load(p).get(o.key());
                sb.append(" | ").append(o.profiled() ? (v == null ? "" : cell(v)) : "");
            }
            sb.append(" | ").append(o.meaning().replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }

    private static String cell(String v) {
        return v == null ? "(profile)" : "`" + v.replace("|", "\\|") + "`";
    }
}
