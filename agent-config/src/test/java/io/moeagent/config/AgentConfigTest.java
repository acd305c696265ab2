package io.moeagent.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {
    @TempDir
    Path work;

    @Test
    void defaultsDescribeTheHostEngine() throws Exception {
        AgentConfig c = AgentConfig.parse(null, "1", work);
        assertEquals(work.resolve("moe-routes"), c.queueDir());
        assertTrue(c.layers().isAll());
        assertEquals(1, c.sampleEvery());
        assertTrue(c.recordWeights());
        assertEquals("FAST_DAILY", c.rollCycle());
        assertEquals(0, c.retention());
        Pointcuts p = c.pointcuts();
        assertEquals("io.moeagent.host.model.Router", p.className());
        assertEquals("selectExperts", p.methodName());
        assertEquals(ValuePath.Root.RETURN, p.ids().root());
        assertArrayEquals(new String[] {"expertIds"}, p.ids().fields());
        assertEquals(ValuePath.Root.THIS, p.layer().root());
        assertEquals(1, p.step().argumentIndex());
        assertEquals("runInfo", p.stepRunInfo());
    }

    @Test
    void envVarSemantics() {
        assertFalse(AgentConfig.envEnables(null));
        assertFalse(AgentConfig.envEnables(""));
        assertFalse(AgentConfig.envEnables(" 0 "));
        assertFalse(AgentConfig.envEnables("FALSE"));
        assertTrue(AgentConfig.envEnables("1"));
        assertTrue(AgentConfig.envEnables("/tmp/routes"));
        assertNull(AgentConfig.envQueueDirectory("true"));
        assertNull(AgentConfig.envQueueDirectory("on"));
        assertEquals("/tmp/routes", AgentConfig.envQueueDirectory("/tmp/routes"));
    }

    @Test
    void envDirectoryIsTheQueueUnlessTheArgumentsSayOtherwise() throws Exception {
        assertEquals(Path.of("/tmp/r1"), AgentConfig.parse(null, "/tmp/r1", work).queueDir());
        assertEquals(Path.of("/tmp/r2"), AgentConfig.parse("queue=/tmp/r2", "/tmp/r1", work).queueDir());
    }

    @Test
    void layerListsAndRangesSurviveTheCommaSyntax() throws Exception {
        AgentConfig c = AgentConfig.parse("layers=0-3,7,9-10,sample-every=4,weights=false", null, work);
        assertEquals("0-3,7,9-10", c.layers().toString());
        assertTrue(c.layers().includes(7));
        assertFalse(c.layers().includes(8));
        assertArrayEquals(new int[] {2, 7}, c.layers().filter(new int[] {7, 2, 5}));
        assertEquals(4, c.sampleEvery());
        assertFalse(c.recordWeights());
    }

    @Test
    void capsAndRetention() throws Exception {
        AgentConfig c = AgentConfig.parse("max-bytes=512m,max-records=1000,retention=3,roll-cycle=fast_hourly",
                null, work);
        assertEquals(512L << 20, c.maxBytes());
        assertEquals(1000, c.maxRecords());
        assertEquals(3, c.retention());
        assertEquals("FAST_HOURLY", c.rollCycle());
    }

    /** The test-only injected cost is off unless asked for, and the description names it only when on. */
    @Test
    void spinNanosIsOffByDefault() throws Exception {
        AgentConfig d = AgentConfig.parse(null, "1", work);
        assertEquals(0, d.spinNanos());
        assertFalse(d.describe().contains("spin"), d.describe());
        AgentConfig c = AgentConfig.parse("test.spin-nanos=250000", null, work);
        assertEquals(250_000, c.spinNanos());
        assertTrue(c.describe().contains(",test.spin-nanos=250000"), c.describe());
        ConfigException e = assertThrows(ConfigException.class, () -> AgentConfig.parse("test.spin-nanos=-1", null,
                work));
        assertTrue(e.getMessage().contains("'test.spin-nanos'"), e.getMessage());
    }

    @Test
    void configFileWithArgumentsWinning() throws Exception {
        Path file = Files.writeString(work.resolve("agent.properties"), String.join("\n",
                "queue=from-file", "layers=1", "pointcut.class=org.example.Gate", "pointcut.method=route",
                "pointcut.ids=return", "pointcut.k=8", "pointcut.layer=enclosing.layerId",
                "pointcut.layer-method=org.example.Block#forward", "pointcut.step=none", "pointcut.weights=none",
                "pointcut.tokens=none"));
        AgentConfig c = AgentConfig.parse("config=" + file + ",layers=2", null, work);
        assertEquals(work.resolve("from-file"), c.queueDir());
        assertEquals("2", c.layers().toString());
        Pointcuts p = c.pointcuts();
        assertEquals("org.example.Gate", p.className());
        assertTrue(p.k().isConstant());
        assertEquals(8, p.k().constant());
        assertEquals(ValuePath.Root.ENCLOSING, p.layer().root());
        assertEquals("org.example.Block", p.layerMethodClass());
        assertEquals("forward", p.layerMethodName());
        assertNull(p.step());
        assertNull(p.weights());
        assertNull(p.stepId());
        assertTrue(c.describe().contains("pointcut.step=none"), c.describe());
    }

    @Test
    void badValuesNameKeyValueAndWhatIsAllowed() {
        assertMessage("layers=5-2", "'layers'", "'5-2'", "allowed");
        assertMessage("layers=x", "'layers'", "'x'", "allowed");
        assertMessage("sample-every=0", "'sample-every'", "'0'", ">= 1");
        assertMessage("weights=maybe", "'weights'", "'maybe'", "true");
        assertMessage("roll-cycle=HOURLYISH", "'roll-cycle'", "'HOURLYISH'", "FAST_DAILY");
        assertMessage("max-bytes=lots", "'max-bytes'", "'lots'", "suffix");
        assertMessage("colour=red", "unknown option 'colour'", "allowed keys", "queue");
        assertMessage("pointcut.ids=result.ids", "'pointcut.ids'", "'result.ids'", "return");
        assertMessage("pointcut.layer=enclosing.idx", "'pointcut.layer'", "pointcut.layer-method");
        assertMessage("pointcut.layer-method=Block", "'pointcut.layer-method'", "Class#method");
        assertMessage("queue", "not key=value");
        assertMessage("layers=1,layers=2", "given twice");
        assertMessage("config=/does/not/exist", "'config'", "readable");
    }

    @Test
    void describeRoundTrips() throws Exception {
        AgentConfig c = AgentConfig.parse("layers=1-2,weights=false,max-records=9", null, work);
        AgentConfig again = AgentConfig.parse(c.describe(), null, work);
        assertEquals(c.describe(), again.describe());
    }

    private void assertMessage(String args, String... parts) {
        ConfigException e = assertThrows(ConfigException.class, () -> AgentConfig.parse(args, null, work));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), e.getMessage() + " lacks " + part);
        }
        assertFalse(e.getMessage().contains("\n"), "one line");
    }
}
