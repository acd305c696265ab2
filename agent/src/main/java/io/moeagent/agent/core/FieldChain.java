package io.moeagent.agent.core;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/**
 * Reads a dotted path of instance fields and no-argument methods ({@code a.b().c}, possibly empty) from an object.
 * The path is resolved to one composed MethodHandle per receiver class, the first time that class is seen; later
 * calls only compare the class. Each later segment is looked up on the declared type of the one before.
 */
final class FieldChain {
    private static final MethodType OBJ = MethodType.methodType(Object.class, Object.class);
    private static final MethodType INT = MethodType.methodType(int.class, Object.class);
    private static final MethodType LONG = MethodType.methodType(long.class, Object.class);
    private static final MethodType BOOL = MethodType.methodType(boolean.class, Object.class);

    private final String[] fields;
    private final String description;
    private volatile Resolved resolved;

    private static final class Resolved {
        final Class<?> type;
        final MethodHandle asObject;
        final MethodHandle asInt;
        final MethodHandle asLong;
        final MethodHandle asBoolean;

        Resolved(Class<?> type, MethodHandle chain) {
            this.type = type;
            this.asObject = chain.asType(OBJ);
            Class<?> leaf = chain.type().returnType();
            this.asInt = numeric(leaf, int.class) ? MethodHandles.explicitCastArguments(chain, INT) : null;
            this.asLong = numeric(leaf, long.class) ? MethodHandles.explicitCastArguments(chain, LONG) : null;
            this.asBoolean = leaf == boolean.class || leaf == Boolean.class
                    ? MethodHandles.explicitCastArguments(chain, BOOL) : null;
        }

        private static boolean numeric(Class<?> leaf, Class<?> to) {
            return leaf == int.class || leaf == long.class || leaf == short.class || leaf == byte.class
                    || leaf == Integer.class || leaf == Long.class || leaf == Short.class || leaf == Byte.class;
        }
    }

    FieldChain(String[] fields, String description) {
        this.fields = fields;
        this.description = description;
    }

    static FieldChain parse(String dotted, String description) {
        return new FieldChain(dotted == null || dotted.isEmpty() ? new String[0] : dotted.split("\\."), description);
    }

    boolean isIdentity() {
        return fields.length == 0;
    }

    Object get(Object root) throws Throwable {
        if (fields.length == 0) {
            return root;
        }
        return (Object) resolve(root).asObject.invokeExact(root);
    }

    int getInt(Object root) throws Throwable {
        if (fields.length == 0) {
            return ((Number) root).intValue();
        }
        Resolved r = resolve(root);
        if (r.asInt == null) {
            throw new IllegalStateException(description + " is not an integer field");
        }
        return (int) r.asInt.invokeExact(root);
    }

    long getLong(Object root) throws Throwable {
        if (fields.length == 0) {
            return ((Number) root).longValue();
        }
        Resolved r = resolve(root);
        if (r.asLong == null) {
            throw new IllegalStateException(description + " is not an integer field");
        }
        return (long) r.asLong.invokeExact(root);
    }

    boolean getBoolean(Object root) throws Throwable {
        Resolved r = resolve(root);
        if (r.asBoolean == null) {
            throw new IllegalStateException(description + " is not a boolean field");
        }
        return (boolean) r.asBoolean.invokeExact(root);
    }

    private Resolved resolve(Object root) throws ReflectiveOperationException {
        if (root == null) {
            throw new NullPointerException(description + ": the object to read from is null");
        }
        Resolved r = resolved;
        if (r != null && r.type == root.getClass()) {
            return r;
        }
        r = new Resolved(root.getClass(), compose(root.getClass()));
        resolved = r;
        return r;
    }

    private MethodHandle compose(Class<?> type) throws ReflectiveOperationException {
        MethodHandle chain = null;
        Class<?> current = type;
        for (String name : fields) {
            MethodHandle getter;
            if (name.endsWith("()")) {
                java.lang.reflect.Method m = findMethod(current, name.substring(0, name.length() - 2));
                getter = MethodHandles.lookup().unreflect(m);
                current = m.getReturnType();
            } else {
                Field f = find(current, name);
                f.setAccessible(true);
                getter = MethodHandles.lookup().unreflectGetter(f);
                current = f.getType();
            }
            getter = getter.asType(getter.type().changeParameterType(0, Object.class));
            chain = chain == null ? getter
                    : MethodHandles.filterReturnValue(chain.asType(chain.type().changeReturnType(Object.class)), getter);
        }
        return chain;
    }

    /**
     * A no-argument instance method, declared anywhere up the class hierarchy; made accessible, or, where the JDK's
     * modules refuse that (a public method of a JDK class), taken from a public declaring type.
     */
    private java.lang.reflect.Method findMethod(Class<?> type, String name) throws NoSuchMethodException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (java.lang.reflect.Method m : c.getDeclaredMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == 0 && !Modifier.isStatic(m.getModifiers())
                        && m.getReturnType() != void.class) {
                    try {
                        m.setAccessible(true);
                        return m;
                    } catch (RuntimeException notOpen) {
                        try {
                            return type.getMethod(name);
                        } catch (NoSuchMethodException e) {
                            throw new NoSuchMethodException(description + ": " + type.getName() + "." + name
                                    + "() is not accessible");
                        }
                    }
                }
            }
        }
        try {
            return type.getMethod(name); // a default method of an interface
        } catch (NoSuchMethodException e) {
            throw new NoSuchMethodException(description + ": " + type.getName() + " has no no-argument method '"
                    + name + "()'");
        }
    }

    private Field find(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (f.getName().equals(name) && !Modifier.isStatic(f.getModifiers())) {
                    return f;
                }
            }
        }
        throw new NoSuchFieldException(description + ": " + type.getName() + " has no instance field '" + name + "'");
    }

    @Override
    public String toString() {
        return description;
    }
}
