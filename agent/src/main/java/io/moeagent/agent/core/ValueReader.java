package io.moeagent.agent.core;

import io.moeagent.config.ValuePath;

/**
 * Evaluates one configured {@link ValuePath} in a selection call: its return value, receiver and bound argument,
 * and the thread's running scopes.
 */
final class ValueReader {
    private final ValuePath.Root root;
    private final int scope;
    private final int argumentIndex;
    private final long constant;
    private final FieldChain chain;
    private final String description;

    ValueReader(String key, ValuePath path) {
        this.root = path.root();
        this.scope = path.scope() == null ? -1 : path.scope().ordinal();
        this.argumentIndex = path.argumentIndex();
        this.constant = path.constant();
        this.description = key + "=" + path;
        this.chain = new FieldChain(path.fields(), description);
    }

    private Object root(Object self, Object argument, Object result, ScopeTracker scopes) {
        switch (root) {
            case RETURN:
                return result;
            case THIS:
                return self;
            case ARGUMENT:
                return argument;
            case SCOPE: {
                ScopeTracker.Frame f = scopes == null ? null : scopes.frame(scope);
                if (f == null) {
                    throw new IllegalStateException(description + ": no " + ValuePath.Scope.values()[scope].key()
                            + " scope is running on this thread (check scope." + ValuePath.Scope.values()[scope].key()
                            + ")");
                }
                if (argumentIndex < 0) {
                    return f.self;
                }
                if (f.arguments == null || argumentIndex >= f.arguments.length) {
                    throw new IllegalStateException(description + ": the scope method has no argument " + argumentIndex);
                }
                return f.arguments[argumentIndex];
            }
            default:
                return null;
        }
    }

    Object get(Object self, Object argument, Object result, ScopeTracker scopes) throws Throwable {
        return chain.get(root(self, argument, result, scopes));
    }

    int getInt(Object self, Object argument, Object result, ScopeTracker scopes) throws Throwable {
        return root == ValuePath.Root.CONSTANT ? (int) constant
                : chain.getInt(root(self, argument, result, scopes));
    }

    boolean isConstant() {
        return root == ValuePath.Root.CONSTANT;
    }

    @Override
    public String toString() {
        return description;
    }
}
