package io.moeagent.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The agent's validated configuration. Sources, later ones winning: the option table's base defaults
 * ({@link AgentOptions}), the built-in profile named by {@code profile=} ({@link Profiles}, default
 * {@code moe-host}), the properties file named by {@code config=FILE}, a directory given as the value of
 * {@code MOE_ROUTE_LOG}, then the agent arguments ({@code -javaagent:moe-agent.jar=key=value,key=value}).
 */
public final class AgentConfig {
    /** Environment variable that switches recording on for {@code -javaagent} runs. */
    public static final String ENV_VAR = "MOE_ROUTE_LOG";
    public static final String DEFAULT_QUEUE = "moe-routes";
    public static final String DEFAULT_ROLL_CYCLE = "FAST_DAILY";

    /** Every option key, in table order ({@link AgentOptions}). */
    static final List<String> KEYS = AgentOptions.keys();

    /** Chronicle Queue roll cycles accepted by {@code roll-cycle} (the names of {@code RollCycles}). */
    static final Set<String> ROLL_CYCLES = Set.copyOf(AgentOptions.ROLL_CYCLE_NAMES);

    private static final Pattern JAVA_NAME = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*");
    private static final Pattern FIELD_PATH = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*");

    private final Path queueDir;
    private final LayerSelection layers;
    private final int sampleEvery;
    private final boolean recordWeights;
    private final String rollCycle;
    private final int retention;
    private final long maxRecords;
    private final long maxBytes;
    private final Pointcuts pointcuts;
    private final String profile;
    /** The effective value of every described key, normalized, in table order. */
    private final Map<String, String> effective;
    /** Usable bytes to leave on the queue's file system; set once in {@link #fromMap}. */
    private long minFreeSpace = DEFAULT_MIN_FREE_SPACE;
    /** Test only: nanoseconds to busy-wait in every selection call (0 = never, the default). */
    private long spinNanos;
    private int warmupCalls;
    /**
     * Synthetic calls of the start-up warm-up (option {@code warmup}), at most: it ends at the host's first selection
     * call. On the 2-core dev box 20,000 calls reach C1 only (the agent then cost +7.7 % process CPU per token in
     * generation, JIT work); 200,000 reach C2 while the model loads (generation CPU as without the agent), for ~0.5 s
     * more CPU at start.
     */
    public static final int DEFAULT_WARMUP = 200_000;

    /** Default of {@code min-free-space}: recording stops before the file system has less than this usable. */
    public static final long DEFAULT_MIN_FREE_SPACE = 64L << 20;

    private AgentConfig(Path queueDir, LayerSelection layers, int sampleEvery, boolean recordWeights, String rollCycle,
                        int retention, long maxRecords, long maxBytes, Pointcuts pointcuts, String profile,
                        Map<String, String> effective) {
        this.profile = profile;
        this.effective = effective;
        this.queueDir = queueDir;
        this.layers = layers;
        this.sampleEvery = sampleEvery;
        this.recordWeights = recordWeights;
        this.rollCycle = rollCycle;
        this.retention = retention;
        this.maxRecords = maxRecords;
        this.maxBytes = maxBytes;
        this.pointcuts = pointcuts;
    }

    /**
     * Whether a value of {@link #ENV_VAR} switches recording on: anything but unset, empty, {@code 0},
     * {@code false}, {@code off} or {@code no} (any case). JDK types only, so the agent's boot class can mirror it
     * before loading anything.
     */
    public static boolean envEnables(String value) {
        if (value == null) {
            return false;
        }
        String v = value.trim();
        return !(v.isEmpty() || v.equals("0") || v.equalsIgnoreCase("false") || v.equalsIgnoreCase("off")
                || v.equalsIgnoreCase("no"));
    }

    /**
     * A value of {@link #ENV_VAR} that names the queue directory rather than just switching recording on:
     * everything {@link #envEnables enabling} except {@code 1}, {@code true}, {@code yes} and {@code on}.
     */
    public static String envQueueDirectory(String value) {
        if (!envEnables(value)) {
            return null;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        return Set.of("1", "true", "yes", "on").contains(v) ? null : value.trim();
    }

    /** Defaults only (recording all layers of the host-engine into {@code moe-routes}). */
    public static AgentConfig defaults(Path workDir) {
        try {
            return parse(null, null, workDir);
        } catch (ConfigException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * @param agentArgs the text after {@code =} in {@code -javaagent:moe-agent.jar=...}, or null
     * @param envValue  the value of {@link #ENV_VAR}, or null (only a directory value is used here)
     * @param workDir   where relative paths are resolved (the host's working directory)
     */
    public static AgentConfig parse(String agentArgs, String envValue, Path workDir) throws ConfigException {
        Map<String, String> args = splitArguments(agentArgs);
        Map<String, String> user = new LinkedHashMap<>();
        String configFile = args.get("config");
        if (configFile != null) {
            user.putAll(readFile(workDir.resolve(configFile.trim())));
        }
        String envDir = envQueueDirectory(envValue);
        if (envDir != null) {
            user.put("queue", envDir);
        }
        user.putAll(args);
        user.remove("config");
        String profile = user.getOrDefault("profile", Profiles.DEFAULT).trim();
        user.remove("profile");
        // sources, later winning: the table's base defaults, the profile, then the user's keys
        Map<String, String> values = new LinkedHashMap<>();
        for (AgentOptions.Option o : AgentOptions.ALL) {
            if (o.baseDefault() != null && !o.key().equals("config") && !o.key().equals("profile")) {
                values.put(o.key(), o.baseDefault());
            }
        }
        Map<String, String> fromProfile = Profiles.read(profile);
        values.putAll(fromProfile);
        if (user.containsKey("pointcut.layer-method") && user.containsKey("scope.layer")) {
            throw new ConfigException("options 'scope.layer' and 'pointcut.layer-method' name the same thing;"
                    + " give scope.layer only");
        }
        values.putAll(user);
        if (user.containsKey("pointcut.layer-method")) {
            method(user, "pointcut.layer-method"); // its own name in a message about its value
            values.put("scope.layer", user.get("pointcut.layer-method"));
        }
        values.remove("pointcut.layer-method");
        return fromMap(values, workDir, profile);
    }

    /**
     * Splits {@code key=value,key=value}. A piece without {@code =} continues the previous value, so that
     * {@code layers=0-3,7,queue=out} reads as layers {@code 0-3,7} and queue {@code out}.
     */
    static Map<String, String> splitArguments(String agentArgs) throws ConfigException {
        Map<String, String> out = new LinkedHashMap<>();
        if (agentArgs == null || agentArgs.isBlank()) {
            return out;
        }
        String lastKey = null;
        for (String piece : agentArgs.split(",")) {
            int eq = piece.indexOf('=');
            if (eq < 0) {
                if (lastKey == null) {
                    throw new ConfigException("agent argument " + ConfigException.quote(piece)
                            + " is not key=value; allowed keys: " + String.join(", ", KEYS));
                }
                out.put(lastKey, out.get(lastKey) + "," + piece);
                continue;
            }
            String key = piece.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            checkKey(key, piece.substring(eq + 1));
            if (out.containsKey(key)) {
                throw new ConfigException("option '" + key + "' is given twice in the agent arguments; give it once");
            }
            out.put(key, piece.substring(eq + 1));
            lastKey = key;
        }
        return out;
    }

    private static void checkKey(String key, String value) throws ConfigException {
        if (!KEYS.contains(key)) {
            throw new ConfigException("unknown option " + ConfigException.quote(key) + " (value "
                    + ConfigException.quote(value) + "); allowed keys: " + String.join(", ", KEYS));
        }
    }

    private static Map<String, String> readFile(Path file) throws ConfigException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException("option 'config' has value " + ConfigException.quote(file.toString())
                    + ": cannot read it (" + e.getClass().getSimpleName() + "); allowed: a readable properties file");
        }
        Map<String, String> out = new LinkedHashMap<>();
        int unknown = 0;
        String firstUnknown = null;
        for (String name : p.stringPropertyNames()) {
            String key = name.trim().toLowerCase(Locale.ROOT);
            if (!KEYS.contains(key)) {
                unknown++;
                firstUnknown = firstUnknown == null ? key : firstUnknown;
                continue;
            }
            if (key.equals("config")) {
                throw new ConfigException("option 'config' in " + file + " is not allowed; config files do not nest");
            }
            out.put(key, p.getProperty(name));
        }
        if (unknown > 0) {
            // issue 9: never echo a line of some other file (config=/etc/shadow); a typo in a real agent config
            // file (one that holds agent options too) is named, its value never
            boolean agentFile = !out.isEmpty() && firstUnknown.matches("[a-z][a-z0-9.-]{0,40}");
            throw new ConfigException("option 'config' names " + ConfigException.quote(file.toString())
                    + (agentFile ? ", whose key " + ConfigException.quote(firstUnknown) + " is not an agent option"
                    : ", which holds " + unknown + " keys that are not agent options and is not a moe-agent"
                    + " properties file (its content is not shown)") + "; allowed keys: " + String.join(", ", KEYS));
        }
        return out;
    }

    private static AgentConfig fromMap(Map<String, String> v, Path workDir, String profile) throws ConfigException {
        for (AgentOptions.Option o : AgentOptions.ALL) {
            if (o.baseDefault() == null && (!v.containsKey(o.key()) || v.get(o.key()).isBlank())) {
                throw new ConfigException("option '" + o.key() + "' is not set; give it, or a profile that sets it ("
                        + String.join(", ", Profiles.names()) + ")");
            }
        }
        Path queue = workDir.resolve(v.get("queue").trim()).toAbsolutePath().normalize();
        if (v.get("queue").isBlank()) {
            throw ConfigException.badValue("queue", "", "a directory path");
        }
        LayerSelection layers = LayerSelection.parse("layers", v.get("layers"));
        int sampleEvery = (int) positive("sample-every", v.get("sample-every"), 1, Integer.MAX_VALUE);
        boolean weights = bool("weights", v.get("weights"));
        String roll = v.get("roll-cycle").trim().toUpperCase(Locale.ROOT);
        if (!ROLL_CYCLES.contains(roll)) {
            throw ConfigException.badValue("roll-cycle", v.get("roll-cycle"),
                    "a Chronicle roll cycle name: " + String.join(", ", new java.util.TreeSet<>(ROLL_CYCLES)));
        }
        int retention = (int) positive("retention", v.get("retention"), 0, Integer.MAX_VALUE);
        long maxRecords = positive("max-records", v.get("max-records"), 0, Long.MAX_VALUE);
        long maxBytes = bytes("max-bytes", v.get("max-bytes"));
        long minFree = bytes("min-free-space", v.get("min-free-space"));
        Pointcuts p = pointcuts(v);
        boolean recordWeights = weights && p.weights() != null;
        Map<String, String> eff = new LinkedHashMap<>();
        eff.put("queue", queue.toString());
        eff.put("layers", layers.toString());
        eff.put("sample-every", Integer.toString(sampleEvery));
        eff.put("weights", Boolean.toString(recordWeights));
        eff.put("roll-cycle", roll);
        eff.put("retention", Integer.toString(retention));
        eff.put("max-records", Long.toString(maxRecords));
        eff.put("max-bytes", Long.toString(maxBytes));
        eff.put("min-free-space", Long.toString(minFree));
        for (AgentOptions.Option o : AgentOptions.ALL) {
            String key = o.key();
            if (key.equals("test.spin-nanos") && v.get(key).trim().equals("0")) {
                continue; // test only: described when set
            }
            if (eff.containsKey(key) || key.equals("config") || key.equals("profile")
                    || key.equals("pointcut.layer-method")) {
                continue;
            }
            if (o.group() == AgentOptions.Group.STEP_CONTEXT && p.step() == null && !key.equals("pointcut.step")) {
                continue;
            }
            eff.put(key, v.get(key).trim());
        }
        AgentConfig c = new AgentConfig(queue, layers, sampleEvery, recordWeights, roll, retention, maxRecords,
                maxBytes, p, profile, eff);
        c.minFreeSpace = minFree;
        c.spinNanos = positive("test.spin-nanos", v.get("test.spin-nanos"), 0, 1_000_000_000L);
        c.warmupCalls = (int) positive("warmup", v.get("warmup"), 0, 10_000_000);
        return c;
    }

    private static Pointcuts pointcuts(Map<String, String> v) throws ConfigException {
        String cls = javaName("pointcut.class", v.get("pointcut.class"));
        String method = v.get("pointcut.method").trim();
        if (!method.matches("[A-Za-z_$][A-Za-z0-9_$]*")) {
            throw ConfigException.badValue("pointcut.method", method, "a method name");
        }
        ValuePath ids = path(v, "pointcut.ids", false, false, false);
        ValuePath weights = path(v, "pointcut.weights", false, true, true);
        ValuePath tokens = path(v, "pointcut.tokens", true, true, false);
        ValuePath k = path(v, "pointcut.k", true, false, false);
        ValuePath layer = path(v, "pointcut.layer", true, false, false);
        ValuePath position = path(v, "pointcut.position", true, true, false);
        Scopes scopes = new Scopes(method(v, "scope.request"), method(v, "scope.step"), method(v, "scope.layer"));
        ValuePath step = path(v, "pointcut.step", false, true, false);
        if (step != null && step.root() != ValuePath.Root.ARGUMENT && step.root() != ValuePath.Root.THIS) {
            throw ConfigException.badValue("pointcut.step", step.toString(), "argN[.field...], this.field, or none");
        }
        for (String key : new String[] {"pointcut.ids", "pointcut.weights", "pointcut.tokens", "pointcut.k",
                "pointcut.layer", "pointcut.position", "meta.num-experts", "meta.num-layers", "meta.top-k",
                "meta.model-id", "meta.engine", "meta.engine-version"}) {
            checkScope(v, key, scopes);
        }
        if (position != null && step != null) {
            throw ConfigException.badValue("pointcut.position", position.toString(),
                    "none while pointcut.step names a step context (its positions are used)");
        }
        boolean hasStep = step != null;
        String stepId = stepField(v, "pointcut.step-id", hasStep, false);
        String prefill = stepField(v, "pointcut.step-prefill", hasStep, true);
        String stepTokens = stepField(v, "pointcut.step-tokens", hasStep, true);
        String requestIds = stepField(v, "pointcut.step-request-ids", hasStep, false);
        String positions = stepField(v, "pointcut.step-positions", hasStep, false);
        String tokenIds = stepField(v, "pointcut.step-token-ids", hasStep, true);
        String phases = stepField(v, "pointcut.step-phases", hasStep, true);
        String runInfo = stepField(v, "pointcut.run-info", hasStep, true);
        MetaFacts meta = new MetaFacts(metaText(v, "meta.model-id"), metaText(v, "meta.engine"),
                metaText(v, "meta.engine-version"), path(v, "meta.num-experts", true, true, false),
                path(v, "meta.num-layers", true, true, false), path(v, "meta.top-k", true, true, false));
        return new Pointcuts(cls, method, ids, weights, tokens, k, layer, position, step, stepId, prefill,
                stepTokens, requestIds, positions, tokenIds, phases, runInfo, scopes, meta);
    }

    /** A path that reads a scope needs that scope bound to a method. */
    private static void checkScope(Map<String, String> v, String key, Scopes scopes) throws ConfigException {
        String text = v.get(key).trim();
        if (text.equals("none")) {
            return;
        }
        ValuePath p;
        try {
            p = ValuePath.parse(key, text, true, key.equals("pointcut.weights"));
        } catch (ConfigException e) {
            return; // a literal meta text, or reported by the key's own parsing
        }
        if (p.root() == ValuePath.Root.SCOPE && scopes.get(p.scope()) == null) {
            throw ConfigException.badValue(key, text, p.scope().key() + ".* paths only together with scope."
                    + p.scope().key() + "=Class#method");
        }
    }

    private static MethodRef method(Map<String, String> v, String key) throws ConfigException {
        String text = v.get(key).trim();
        return text.equals("none") || text.isEmpty() ? null : MethodRef.parse(key, text);
    }

    /** Text meta values: {@code none}, a path, or literal text. */
    private static Object metaText(Map<String, String> v, String key) {
        String text = v.get(key).trim();
        if (text.equals("none") || text.isEmpty()) {
            return null;
        }
        try {
            ValuePath p = ValuePath.parse(key, text, false);
            return p;
        } catch (ConfigException e) {
            return text;
        }
    }

    private static String javaName(String key, String value) throws ConfigException {
        String v = value.trim();
        if (!JAVA_NAME.matcher(v).matches()) {
            throw ConfigException.badValue(key, value, "a fully qualified class name");
        }
        return v;
    }

    private static ValuePath path(Map<String, String> v, String key, boolean constantAllowed, boolean noneAllowed,
                                  boolean gatherAllowed) throws ConfigException {
        String text = v.get(key).trim();
        if (noneAllowed && text.equals("none")) {
            return null;
        }
        return ValuePath.parse(key, text, constantAllowed, gatherAllowed);
    }

    private static String stepField(Map<String, String> v, String key, boolean hasStep,
                                    boolean noneAllowed) throws ConfigException {
        if (!hasStep) {
            return null;
        }
        String text = v.get(key).trim();
        if (noneAllowed && text.equals("none")) {
            return null;
        }
        if (!FIELD_PATH.matcher(text).matches()) {
            throw ConfigException.badValue(key, text, "a field name (or dotted field path) of the step context"
                    + (noneAllowed ? ", or none" : ""));
        }
        return text;
    }

    private static long positive(String key, String value, long min, long max) throws ConfigException {
        try {
            long n = Long.parseLong(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ConfigException.badValue(key, value, "an integer >= " + min + (min == 0 ? " (0 = no limit)" : ""));
    }

    private static boolean bool(String key, String value) throws ConfigException {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("false")) {
            return v.equals("true");
        }
        throw ConfigException.badValue(key, value, "true (ids and weights) or false (ids only)");
    }

    private static long bytes(String key, String value) throws ConfigException {
        String v = value.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (v.endsWith("k") || v.endsWith("m") || v.endsWith("g")) {
            unit = switch (v.charAt(v.length() - 1)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                default -> 1L << 30;
            };
            v = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(v);
            if (n >= 0 && n <= Long.MAX_VALUE / unit) {
                return n * unit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ConfigException.badValue(key, value, "a byte count >= 0 with optional k, m or g suffix (0 = no limit)");
    }

    public Path queueDir() {
        return queueDir;
    }

    public LayerSelection layers() {
        return layers;
    }

    public int sampleEvery() {
        return sampleEvery;
    }

    public boolean recordWeights() {
        return recordWeights;
    }

    /** A Chronicle {@code RollCycles} constant name. */
    public String rollCycle() {
        return rollCycle;
    }

    /** Cycle files to keep; 0 keeps all. */
    public int retention() {
        return retention;
    }

    /** 0 = unlimited. */
    public long maxRecords() {
        return maxRecords;
    }

    /** 0 = unlimited. */
    public long maxBytes() {
        return maxBytes;
    }

    public Pointcuts pointcuts() {
        return pointcuts;
    }

    /** Test only: nanoseconds every selection call busy-waits (0, the default, means never). */
    public long spinNanos() {
        return spinNanos;
    }

    /** Synthetic selection calls the agent runs at start to warm its recording path up; 0 = no warm-up. */
    public int warmupCalls() {
        return warmupCalls;
    }

    /** Usable bytes that recording leaves on the queue's file system (it stops before going below). */
    public long minFreeSpace() {
        return minFreeSpace;
    }

    /** The profile the configuration started from. */
    public String profile() {
        return profile;
    }

    /**
     * The effective configuration in the agent-argument syntax (written into the meta record): the profile, then
     * every key in table order with its effective value (step-context keys only with a step context). Parsing it
     * again gives the same configuration.
     */
    public String describe() {
        StringBuilder sb = new StringBuilder("profile=").append(profile);
        effective.forEach((key, value) -> sb.append(',').append(key).append('=').append(value));
        return sb.toString();
    }

    private static String orNone(Object o) {
        return o == null ? "none" : o.toString();
    }

    @Override
    public String toString() {
        return describe();
    }
}
