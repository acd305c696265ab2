package io.moeagent.agent.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AttachCliTest {
    @Test
    void usageErrorsExitTwo() {
        assertEquals(AttachCli.USAGE, AttachCli.run(new String[0]));
        assertEquals(AttachCli.USAGE, AttachCli.run(new String[] {"attach"}));
        assertEquals(AttachCli.USAGE, AttachCli.run(new String[] {"attach", "12ab"}));
        assertEquals(AttachCli.USAGE, AttachCli.run(new String[] {"detach", "1", "queue=x"}));
        assertEquals(AttachCli.USAGE, AttachCli.run(new String[] {"launch"}));
        assertEquals(AttachCli.OK, AttachCli.run(new String[] {"--help"}));
    }

    @Test
    void envSemanticsMatchTheDocumentedOnes() {
        assertFalse(AgentBoot.envEnables(null));
        assertFalse(AgentBoot.envEnables(""));
        assertFalse(AgentBoot.envEnables("0"));
        assertFalse(AgentBoot.envEnables("False"));
        assertTrue(AgentBoot.envEnables("1"));
        assertTrue(AgentBoot.envEnables("/tmp/q"));
        for (String v : new String[] {null, "", "0", "false", "FALSE", "1", "yes", "/x"}) {
            assertEquals(io.moeagent.config.AgentConfig.envEnables(v), AgentBoot.envEnables(v), "value " + v);
        }
    }
}
