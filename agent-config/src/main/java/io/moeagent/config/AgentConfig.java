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
 * The agent's validated configuration. Sources, later ones winning: built-in defaults, the properties file named
 * by {@code config=FILE}, a directory given as the value of {@code MOE_ROUTE_LOG}, then the agent arguments
 * ({@code -javaagent:moe-agent.jar=key=value,key=value}). See agent/README-agent.md for the table of keys.
 */
public final class AgentConfig {
    /** Environment variable that switches recording on for {@code -javaagent} runs. */
    public static final String ENV_VAR = "MOE_ROUTE_LOG";
    public static final String DEFAULT_QUEUE = "moe-routes";
    public static final String DEFAULT_ROLL_CYCLE = "FAST_DAILY";

    static final List<String> KEYS = List.of("config", "queue", "layers", "sample-every", "weights", "roll-cycle",
            "retention", "max-records", "max-bytes",
            "pointcut.class", "pointcut.method", "pointcut.ids", "pointcut.weights", "pointcut.tokens", "pointcut.k",
            "pointcut.layer", "pointcut.layer-method", "pointcut.step", "pointcut.step-id", "pointcut.step-prefill",
            "pointcut.step-tokens", "pointcut.step-request-ids", "pointcut.step-positions", "pointcut.step-token-ids",
            "pointcut.step-phases", "pointcut.run-info", "test.spin-nanos");

    /** Chronicle Queue roll cycles accepted by {@code roll-cycle} (the names of {@code RollCycles}). */
    static final Set<String> ROLL_CYCLES = Set.of("FIVE_MINUTELY", "TEN_MINUTELY", "TWENTY_MINUTELY",
            "HALF_HOURLY", "FAST_HOURLY", "TWO_HOURLY", "FOUR_HOURLY", "SIX_HOURLY", "FAST_DAILY", "WEEKLY");

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
    /** Test only: nanoseconds to busy-wait in every selection call (0 = never, the default). */
    private long spinNanos;

    private AgentConfig(Path queueDir, LayerSelection layers, int sampleEvery, boolean recordWeights, String rollCycle,
                        int retention, long maxRecords, long maxBytes, Pointcuts pointcuts) {
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
     * Whether a value of {@link #ENV_VAR} switches recording on: anything but unset, empty, {@code 0} or
     * {@code false} (any case). JDK types only, so the agent's boot class can mirror it before loading anything.
     */
    public static boolean envEnables(String value) {
        if (value == null) {
            return false;
        }
        String v = value.trim();
        return !(v.isEmpty() || v.equals("0") || v.equalsIgnoreCase("false"));
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
        Map<String, String> values = new LinkedHashMap<>();
        String configFile = args.get("config");
        if (configFile != null) {
            values.putAll(readFile(workDir.resolve(configFile.trim())));
        }
        String envDir = envQueueDirectory(envValue);
        if (envDir != null) {
            values.put("queue", envDir);
        }
        values.putAll(args);
        values.remove("config");
        return fromMap(values, workDir);
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
                    throw new ConfigException("agent argument '" + piece + "' is not key=value; allowed keys: "
                            + String.join(", ", KEYS));
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
            throw new ConfigException("unknown option '" + key + "' (value '" + value + "'); allowed keys: "
                    + String.join(", ", KEYS));
        }
    }

    private static Map<String, String> readFile(Path file) throws ConfigException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new ConfigException("option 'config' has value '" + file + "': cannot read it ("
                    + e.getClass().getSimpleName() + "); allowed: a readable properties file");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : p.stringPropertyNames()) {
            String key = name.trim().toLowerCase(Locale.ROOT);
            checkKey(key, p.getProperty(name));
            if (key.equals("config")) {
                throw new ConfigException("option 'config' in " + file + " is not allowed; config files do not nest");
            }
            out.put(key, p.getProperty(name));
        }
        return out;
    }

    private static AgentConfig fromMap(Map<String, String> v, Path workDir) throws ConfigException {
        Path queue = workDir.resolve(v.getOrDefault("queue", DEFAULT_QUEUE).trim()).toAbsolutePath().normalize();
        if (v.getOrDefault("queue", DEFAULT_QUEUE).isBlank()) {
            throw ConfigException.badValue("queue", "", "a directory path");
        }
        LayerSelection layers = v.containsKey("layers") ? LayerSelection.parse("layers", v.get("layers"))
                : LayerSelection.all();
        int sampleEvery = (int) positive("sample-every", v.getOrDefault("sample-every", "1"), 1, Integer.MAX_VALUE);
        boolean weights = bool("weights", v.getOrDefault("weights", "true"));
        String roll = v.getOrDefault("roll-cycle", DEFAULT_ROLL_CYCLE).trim().toUpperCase(Locale.ROOT);
        if (!ROLL_CYCLES.contains(roll)) {
            throw ConfigException.badValue("roll-cycle", v.get("roll-cycle"),
                    "a Chronicle roll cycle name: " + String.join(", ", new java.util.TreeSet<>(ROLL_CYCLES)));
        }
        int retention = (int) positive("retention", v.getOrDefault("retention", "0"), 0, Integer.MAX_VALUE);
        long maxRecords = positive("max-records", v.getOrDefault("max-records", "0"), 0, Long.MAX_VALUE);
        long maxBytes = bytes("max-bytes", v.getOrDefault("max-bytes", "0"));
        AgentConfig c = new AgentConfig(queue, layers, sampleEvery, weights, roll, retention, maxRecords, maxBytes,
                pointcuts(v));
        c.spinNanos = positive("test.spin-nanos", v.getOrDefault("test.spin-nanos", "0"), 0, 1_000_000_000L);
        return c;
    }

    private static Pointcuts pointcuts(Map<String, String> v) throws ConfigException {
        Pointcuts d = Pointcuts.hostEngine();
        String cls = javaName("pointcut.class", v.getOrDefault("pointcut.class", d.className()));
        String method = v.getOrDefault("pointcut.method", d.methodName()).trim();
        if (!method.matches("[A-Za-z_$][A-Za-z0-9_$]*")) {
            throw ConfigException.badValue("pointcut.method", method, "a method name");
        }
        ValuePath ids = path(v, "pointcut.ids", d.ids(), false, false);
        ValuePath weights = path(v, "pointcut.weights", d.weights(), false, true);
        ValuePath tokens = path(v, "pointcut.tokens", d.tokens(), true, true);
        ValuePath k = path(v, "pointcut.k", d.k(), true, false);
        ValuePath layer = path(v, "pointcut.layer", d.layer(), true, false);
        String layerMethod = v.containsKey("pointcut.layer-method") ? v.get("pointcut.layer-method").trim() : null;
        if (layerMethod != null && (layerMethod.equals("none") || layerMethod.isEmpty())) {
            layerMethod = null;
        }
        if (layerMethod != null) {
            int hash = layerMethod.indexOf('#');
            if (hash < 0 || !JAVA_NAME.matcher(layerMethod.substring(0, hash)).matches()
                    || !layerMethod.substring(hash + 1).matches("[A-Za-z_$][A-Za-z0-9_$]*")) {
                throw ConfigException.badValue("pointcut.layer-method", layerMethod,
                        "Class#method, e.g. org.example.DecoderLayer#forward, or none");
            }
        }
        if (layer.root() == ValuePath.Root.ENCLOSING && layerMethod == null) {
            throw ConfigException.badValue("pointcut.layer", layer.toString(),
                    "enclosing.field only together with pointcut.layer-method=Class#method");
        }
        ValuePath step = path(v, "pointcut.step", d.step(), false, true);
        if (step != null && step.root() != ValuePath.Root.ARGUMENT && step.root() != ValuePath.Root.THIS) {
            throw ConfigException.badValue("pointcut.step", step.toString(), "argN[.field...], this.field, or none");
        }
        boolean hasStep = step != null;
        String stepId = stepField(v, "pointcut.step-id", d.stepId(), hasStep, false);
        String prefill = stepField(v, "pointcut.step-prefill", d.stepPrefill(), hasStep, true);
        String stepTokens = stepField(v, "pointcut.step-tokens", d.stepTokens(), hasStep, true);
        String requestIds = stepField(v, "pointcut.step-request-ids", d.stepRequestIds(), hasStep, false);
        String positions = stepField(v, "pointcut.step-positions", d.stepPositions(), hasStep, false);
        String tokenIds = stepField(v, "pointcut.step-token-ids", d.stepTokenIds(), hasStep, true);
        String phases = stepField(v, "pointcut.step-phases", d.stepPhases(), hasStep, true);
        String runInfo = stepField(v, "pointcut.run-info", d.stepRunInfo(), hasStep, true);
        return new Pointcuts(cls, method, ids, weights, tokens, k, layer, layerMethod, step, stepId, prefill,
                stepTokens, requestIds, positions, tokenIds, phases, runInfo);
    }

    private static String javaName(String key, String value) throws ConfigException {
        String v = value.trim();
        if (!JAVA_NAME.matcher(v).matches()) {
            throw ConfigException.badValue(key, value, "a fully qualified class name");
        }
        return v;
    }

    private static ValuePath path(Map<String, String> v, String key, ValuePath dflt, boolean constantAllowed,
                                  boolean noneAllowed) throws ConfigException {
        if (!v.containsKey(key)) {
            return dflt;
        }
        String text = v.get(key).trim();
        if (noneAllowed && text.equals("none")) {
            return null;
        }
        return ValuePath.parse(key, text, constantAllowed);
    }

    private static String stepField(Map<String, String> v, String key, String dflt, boolean hasStep,
                                    boolean noneAllowed) throws ConfigException {
        if (!hasStep) {
            return null;
        }
        String text = v.getOrDefault(key, dflt).trim();
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

    /**
     * Test only ({@code test.spin-nanos}, default 0 = off): extra nanoseconds the agent busy-waits in every
     * expert-selection call, a known injected cost for checking that overhead measurements find it.
     */
    public long spinNanos() {
        return spinNanos;
    }

    /** The effective configuration, every key, in the agent-argument syntax (written into the meta record). */
    public String describe() {
        Pointcuts p = pointcuts;
        StringBuilder sb = new StringBuilder();
        sb.append("queue=").append(queueDir)
                .append(",layers=").append(layers)
                .append(",sample-every=").append(sampleEvery)
                .append(",weights=").append(recordWeights)
                .append(",roll-cycle=").append(rollCycle)
                .append(",retention=").append(retention)
                .append(",max-records=").append(maxRecords)
                .append(",max-bytes=").append(maxBytes)
                .append(spinNanos == 0 ? "" : ",test.spin-nanos=" + spinNanos)
                .append(",pointcut.class=").append(p.className())
                .append(",pointcut.method=").append(p.methodName())
                .append(",pointcut.ids=").append(p.ids())
                .append(",pointcut.weights=").append(orNone(p.weights()))
                .append(",pointcut.tokens=").append(orNone(p.tokens()))
                .append(",pointcut.k=").append(p.k())
                .append(",pointcut.layer=").append(p.layer())
                .append(",pointcut.layer-method=").append(orNone(p.layerMethod()))
                .append(",pointcut.step=").append(orNone(p.step()));
        if (p.step() != null) {
            sb.append(",pointcut.step-id=").append(p.stepId())
                    .append(",pointcut.step-prefill=").append(orNone(p.stepPrefill()))
                    .append(",pointcut.step-tokens=").append(orNone(p.stepTokens()))
                    .append(",pointcut.step-request-ids=").append(p.stepRequestIds())
                    .append(",pointcut.step-positions=").append(p.stepPositions())
                    .append(",pointcut.step-token-ids=").append(orNone(p.stepTokenIds()))
                    .append(",pointcut.step-phases=").append(orNone(p.stepPhases()))
                    .append(",pointcut.run-info=").append(orNone(p.stepRunInfo()));
        }
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
