package io.moeagent.agent.core;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * Picks the selected experts' weights out of a per-expert value indexed by expert id ({@code pointcut.weights=
 * PATH[ids]}): a {@code float[]}, {@code double[]}, {@code FloatBuffer}, {@code DoubleBuffer} (absolute reads,
 * index = expert id), or any object with an instance method {@code float get(int)} or {@code double get(int)}
 * (resolved once per class).
 */
final class WeightGather {
    private static final MethodType ACCESSOR = MethodType.methodType(double.class, Object.class, int.class);
    private final String description;
    private volatile Class<?> accessorType;
    private volatile MethodHandle accessor;

    WeightGather(String description) {
        this.description = description;
    }

    /** Writes {@code out[at + i] = source[ids[from + i]]} for {@code n} entries. */
    void gather(Object source, int[] ids, int from, int n, float[] out, int at) throws Throwable {
        if (source instanceof float[] a) {
            for (int i = 0; i < n; i++) {
                out[at + i] = a[checked(ids[from + i], a.length)];
            }
        } else if (source instanceof double[] a) {
            for (int i = 0; i < n; i++) {
                out[at + i] = (float) a[checked(ids[from + i], a.length)];
            }
        } else if (source instanceof FloatBuffer b) {
            for (int i = 0; i < n; i++) {
                out[at + i] = b.get(checked(ids[from + i], b.limit()));
            }
        } else if (source instanceof DoubleBuffer b) {
            for (int i = 0; i < n; i++) {
                out[at + i] = (float) b.get(checked(ids[from + i], b.limit()));
            }
        } else {
            if (source == null) {
                throw new NullPointerException(description + ": the per-expert value is null");
            }
            MethodHandle get = accessor(source.getClass());
            for (int i = 0; i < n; i++) {
                out[at + i] = (float) (double) get.invokeExact(source, ids[from + i]);
            }
        }
    }

    private int checked(int id, int length) {
        if (id < 0 || id >= length) {
            throw new IllegalStateException(description + ": expert id " + id + " outside the per-expert value's "
                    + length + " entries");
        }
        return id;
    }

    private MethodHandle accessor(Class<?> type) throws ReflectiveOperationException {
        if (accessorType == type) {
            return accessor;
        }
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.getName().equals("get") && m.getParameterCount() == 1 && m.getParameterTypes()[0] == int.class
                        && (m.getReturnType() == float.class || m.getReturnType() == double.class)) {
                    m.setAccessible(true);
                    MethodHandle h = MethodHandles.lookup().unreflect(m);
                    MethodHandle cast = MethodHandles.explicitCastArguments(h, ACCESSOR);
                    accessor = cast;
                    accessorType = type;
                    return cast;
                }
            }
        }
        throw new IllegalStateException(description + ": " + type.getName() + " is not a float[], double[],"
                + " FloatBuffer or DoubleBuffer and has no float get(int) method; point the path at the per-expert"
                + " floats (e.g. a tensor's buffer field)");
    }
}
