package io.moeagent.config;

/**
 * Where the agent hooks in and where each recorded value comes from; built from a profile and the user's keys.
 * Path syntax: {@link ValuePath}.
 *
 * @param className        the class declaring the expert-selection method (exact binary name)
 * @param methodName       the expert-selection method; advice runs at its normal exit
 * @param ids              int[] of expert ids, row-major [rows, k]
 * @param weights          float[] like {@code ids}, a per-expert value gathered by id ({@link ValuePath#gather()}),
 *                         or null when the engine has none
 * @param tokens           number of rows, or null to derive it as ids.length / k
 * @param k                experts per row, a path or an integer constant
 * @param layer            layer index, a path or an integer constant
 * @param position         position of the step's first row, or null (agent-numbered within the request)
 * @param step             the step context object, or null when the engine has none
 * @param stepId           field path within the step context: long/int step id
 * @param stepPrefill      field path within the step context: boolean, or null (then prefill = tokens > 1)
 * @param stepTokens       field path within the step context: int rows, or null (then the route's tokens)
 * @param stepRequestIds   field path within the step context: long[] or int[] request id per row
 * @param stepPositions    field path within the step context: int[] position per row
 * @param stepTokenIds     field path within the step context: int[] input token id per row, or null
 * @param stepPhases       field path within the step context: byte[] phase per row (0 prefill, 1 decode), or null
 *                         (then every row has the step's phase)
 * @param stepRunInfo      field path within the step context: Map of run facts for the meta record, or null
 * @param scopes           engine methods bound to request, step and layer scopes
 * @param meta             run facts for the meta record from the configuration
 */
public record Pointcuts(
        String className,
        String methodName,
        ValuePath ids,
        ValuePath weights,
        ValuePath tokens,
        ValuePath k,
        ValuePath layer,
        ValuePath position,
        ValuePath step,
        String stepId,
        String stepPrefill,
        String stepTokens,
        String stepRequestIds,
        String stepPositions,
        String stepTokenIds,
        String stepPhases,
        String stepRunInfo,
        Scopes scopes,
        MetaFacts meta) {

    public static final String HOST_ROUTER = "io.moeagent.host.model.Router";

    /** The {@code moe-host} profile's pointcuts. */
    public static Pointcuts hostEngine() {
        try {
            return AgentConfig.parse("profile=" + Profiles.DEFAULT, null, java.nio.file.Path.of("")).pointcuts();
        } catch (ConfigException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code Class#method} of the layer scope, or null. */
    public String layerMethod() {
        return scopes.layer() == null ? null : scopes.layer().toString();
    }

    /** The layer method's class name, or null. */
    public String layerMethodClass() {
        return scopes.layer() == null ? null : scopes.layer().className();
    }

    /** The layer method's name, or null. */
    public String layerMethodName() {
        return scopes.layer() == null ? null : scopes.layer().methodName();
    }
}
