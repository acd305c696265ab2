package io.moeagent.agent.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FieldChainTest {
    static class Inner {
        private final long id;

        Inner(long id) {
            this.id = id;
        }
    }

    static class Outer {
        private final Inner inner;
        private final int layerIndex;

        Outer(long id, int layer) {
            this.inner = new Inner(id);
            this.layerIndex = layer;
        }
    }

    static class OtherOuter {
        private final short layerIndex = 7;
    }

    @Test
    void readsPrivateAndNestedFields() throws Throwable {
        Outer o = new Outer(42, 3);
        assertEquals(3, FieldChain.parse("layerIndex", "t").getInt(o));
        assertEquals(42L, FieldChain.parse("inner.id", "t").getLong(o));
        assertEquals(42, FieldChain.parse("inner.id", "t").getInt(o), "long narrowed to int");
        assertSame(o, FieldChain.parse("", "t").get(o));
    }

    @Test
    void reResolvesWhenTheReceiverClassChanges() throws Throwable {
        FieldChain layer = FieldChain.parse("layerIndex", "t");
        assertEquals(3, layer.getInt(new Outer(1, 3)));
        assertEquals(7, layer.getInt(new OtherOuter()));
        assertEquals(5, layer.getInt(new Outer(1, 5)));
    }

    @Test
    void missingFieldNamesPathAndClass() {
        Exception e = assertThrows(NoSuchFieldException.class,
                () -> FieldChain.parse("layerIdx", "pointcut.layer=this.layerIdx").getInt(new Outer(1, 1)));
        assertTrue(e.getMessage().contains("pointcut.layer=this.layerIdx"), e.getMessage());
        assertTrue(e.getMessage().contains("Outer"), e.getMessage());
    }
}
