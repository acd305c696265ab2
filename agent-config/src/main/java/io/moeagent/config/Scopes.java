package io.moeagent.config;

/**
 * Engine methods bound to the three scopes a route needs; each null when not configured. Per thread and nested:
 * the outermost running call of a scope's method is the scope (a request, a forward step, a layer); paths read a
 * scope's receiver and arguments as {@code request.this}, {@code step.arg1}, {@code layer.this.layerIndex}.
 */
public record Scopes(MethodRef request, MethodRef step, MethodRef layer) {
    public static final Scopes NONE = new Scopes(null, null, null);

    public MethodRef get(ValuePath.Scope scope) {
        return switch (scope) {
            case REQUEST -> request;
            case STEP -> step;
            case LAYER -> layer;
        };
    }

    public boolean any() {
        return request != null || step != null || layer != null;
    }
}
