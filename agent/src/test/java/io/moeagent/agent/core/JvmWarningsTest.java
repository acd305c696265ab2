package io.moeagent.agent.core;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class JvmWarningsTest {
    @Test
    void neverThrowsAndIsANoOpBeforeJava24() {
        // in this JVM java.base has not opened anything to the test's module: on 24+ it may answer why not
        String why = assertDoesNotThrow(JvmWarnings::quiet);
        if (Runtime.version().feature() < JvmWarnings.FIRST_RELEASE) {
            assertNull(why);
        }
    }
}
