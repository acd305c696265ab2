package io.moeagent.analyzer.validate;

/** One thing wrong with a routes file; {@code line} is 1-based, 0 for the file as a whole. */
public record Defect(long line, Kind kind, String message) {
    /** The kinds validate tells apart; tests provoke each one. */
    public enum Kind {
        MALFORMED_JSON("malformed JSON"),
        META_MISSING("meta line missing"),
        META_FIELD("meta field missing or mistyped"),
        UNKNOWN_SCHEMA("unknown schema version"),
        UNKNOWN_TYPE("unknown line type"),
        ROUTE_FIELD("route field missing or mistyped"),
        TOPK_LENGTH("topk_ids length is not top_k"),
        TOPK_DUPLICATE("duplicate expert in topk_ids"),
        TOPK_RANGE("expert id out of range"),
        WEIGHTS_LENGTH("topk_weights length differs"),
        WEIGHT_NOT_FINITE("weight not finite"),
        WEIGHT_RANGE("weight outside [0, 1]"),
        WEIGHTS_INCREASING("weights increasing"),
        WEIGHTS_SUM("weights sum above 1"),
        LAYER_NOT_LOGGED("layer not in layers_logged"),
        TOKEN_ORDER("token_idx not strictly increasing"),
        RUN_LAYER_COUNT("route count differs from the run's tokens per layer"),
        RUN_POSITIONS("positions missing for a request"),
        RUN_POSITION_BEYOND("position beyond the request's tokens"),
        RUN_UNKNOWN_REQUEST("request not in the run report"),
        RUN_MISMATCH("meta disagrees with the run report");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    @Override
    public String toString() {
        return (line > 0 ? "line " + line : "file") + ": " + message;
    }
}
