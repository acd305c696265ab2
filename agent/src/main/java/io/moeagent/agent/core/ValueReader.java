package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteBridge;
import io.moeagent.config.ValuePath;

/** Evaluates one configured {@link ValuePath} at the selection method's exit. */
final class ValueReader {
    private final ValuePath.Root root;
    private final long constant;
    private final FieldChain chain;

    ValueReader(String key, ValuePath path) {
        this.root = path.root();
        this.constant = path.constant();
        this.chain = new FieldChain(path.fields(), key + "=" + path);
    }

    private Object root(Object self, Object argument, Object result) {
        switch (root) {
            case RETURN:
                return result;
            case THIS:
                return self;
            case ARGUMENT:
                return argument;
            case ENCLOSING:
                return RouteBridge.enclosing();
            default:
                return null;
        }
    }

    Object get(Object self, Object argument, Object result) throws Throwable {
        return chain.get(root(self, argument, result));
    }

    int getInt(Object self, Object argument, Object result) throws Throwable {
        return root == ValuePath.Root.CONSTANT ? (int) constant : chain.getInt(root(self, argument, result));
    }

    @Override
    public String toString() {
        return chain.toString();
    }
}
