package io.moeagent.config;

/**
 * Where the agent hooks in and where each recorded value comes from. The defaults describe the bundled
 * host-engine's {@code Router.selectExperts(NDArray, StepContext)} returning an {@code ExpertSelection}.
 *
 * @param className        the class declaring the expert-selection method (exact binary name)
 * @param methodName       the expert-selection method; advice runs at its normal exit
 * @param ids              int[] of expert ids, row-major [tokens, k]
 * @param weights          float[] of routing weights like {@code ids}, or null when the engine has none
 * @param tokens           number of token rows, or null to derive it as ids.length / k
 * @param k                experts per token, a path or an integer constant
 * @param layer            layer index, a path or an integer constant
 * @param layerMethod      {@code Class#method} whose receiver is {@code enclosing} while it runs, or null
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
 */
public record Pointcuts(
        String className,
        String methodName,
        ValuePath ids,
        ValuePath weights,
        ValuePath tokens,
        ValuePath k,
        ValuePath layer,
        String layerMethod,
        ValuePath step,
        String stepId,
        String stepPrefill,
        String stepTokens,
        String stepRequestIds,
        String stepPositions,
        String stepTokenIds,
        String stepPhases,
        String stepRunInfo) {

    public static final String HOST_ROUTER = "io.moeagent.host.model.Router";

    public static Pointcuts hostEngine() {
        return new Pointcuts(HOST_ROUTER, "selectExperts",
                ValuePath.of("return.expertIds"), ValuePath.of("return.weights"), ValuePath.of("return.tokens"),
                ValuePath.of("return.k"), ValuePath.of("this.layerIndex"), null,
                ValuePath.of("arg1"), "stepId", "prefill", "tokens", "requestIds", "positions", "tokenIds", "rowPhases", "runInfo");
    }

    /** The layer method's class name, or null. */
    public String layerMethodClass() {
        return layerMethod == null ? null : layerMethod.substring(0, layerMethod.indexOf('#'));
    }

    /** The layer method's name, or null. */
    public String layerMethodName() {
        return layerMethod == null ? null : layerMethod.substring(layerMethod.indexOf('#') + 1);
    }
}
