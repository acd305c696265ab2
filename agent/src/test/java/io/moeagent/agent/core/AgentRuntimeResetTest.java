package io.moeagent.agent.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.lang.reflect.Proxy;
import java.security.ProtectionDomain;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.agent.builder.AgentBuilder.RedefinitionStrategy;
import net.bytebuddy.agent.builder.ResettableClassFileTransformer;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.utility.JavaModule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Detach's verdict on ByteBuddy's reset, which itself only answers whether the transformer was registered. */
class AgentRuntimeResetTest {
    private static final Instrumentation INST = (Instrumentation) Proxy.newProxyInstance(
            AgentRuntimeResetTest.class.getClassLoader(), new Class<?>[] {Instrumentation.class},
            (proxy, method, args) -> method.getName().equals("getAllLoadedClasses")
                    ? new Class<?>[] {String.class, Integer.class} : null);

    @AfterEach
    void clearWoven() {
        AgentRuntime.woven.clear();
    }

    @Test
    void everyWovenClassRetransformedMeansRestored() {
        AgentRuntime.woven.add("java.lang.String");
        assertNull(AgentRuntime.reset(new Fake(true, List.of(String.class), null), INST));
    }

    @Test
    void unregisteredTransformerIsReported() {
        assertEquals("the weaving transformer was not registered with the Instrumentation it was installed with",
                AgentRuntime.reset(new Fake(false, List.of(), null), INST));
    }

    @Test
    void failedRetransformationIsReported() {
        AgentRuntime.woven.add("java.lang.String");
        assertEquals("the original bytecode could not be restored: retransforming java.lang.String failed"
                        + " (UnmodifiableClassException: no)",
                AgentRuntime.reset(new Fake(true, List.of(String.class), new UnmodifiableClassException("no")),
                        INST));
    }

    @Test
    void wovenClassThatResetSkippedIsReported() {
        AgentRuntime.woven.add("java.lang.String");
        AgentRuntime.woven.add("java.lang.Integer");
        AgentRuntime.woven.add("some.UnloadedClass");
        assertEquals("the original bytecode could not be restored: reset did not retransform java.lang.Integer",
                AgentRuntime.reset(new Fake(true, List.of(String.class), null), INST));
    }

    /** Reports one batch to the listener, optionally failing it, and answers {@code removed}. */
    private static final class Fake extends ResettableClassFileTransformer.AbstractBase {
        private final boolean removed;
        private final List<Class<?>> batch;
        private final Throwable error;

        Fake(boolean removed, List<Class<?>> batch, Throwable error) {
            this.removed = removed;
            this.batch = batch;
            this.error = error;
        }

        @Override
        public boolean reset(Instrumentation inst, ResettableClassFileTransformer t, RedefinitionStrategy strategy,
                             RedefinitionStrategy.DiscoveryStrategy discovery,
                             RedefinitionStrategy.BatchAllocator allocator, RedefinitionStrategy.Listener listener) {
            if (!removed) {
                return false;
            }
            if (!batch.isEmpty()) {
                listener.onBatch(0, batch, batch);
                if (error != null) {
                    listener.onError(0, batch, error, batch);
                }
            }
            listener.onComplete(1, batch, Collections.emptyMap());
            return true;
        }

        @Override
        public Iterator<AgentBuilder.Transformer> iterator(TypeDescription type, ClassLoader loader,
                                                           JavaModule module, Class<?> redefined,
                                                           ProtectionDomain pd) {
            return Collections.emptyIterator();
        }
    }
}
