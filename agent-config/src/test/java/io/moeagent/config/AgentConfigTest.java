package io.moeagent.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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

    /** The start-up warm-up is on by default, described, can be turned off, and refuses a negative count. */
    @Test
    void warmupIsOnByDefaultAndZeroTurnsItOff() throws Exception {
        AgentConfig d = AgentConfig.parse(null, "1", work);
        assertEquals(AgentConfig.DEFAULT_WARMUP, d.warmupCalls());
        assertTrue(d.describe().contains(",warmup=" + AgentConfig.DEFAULT_WARMUP + ","), d.describe());
        assertEquals(0, AgentConfig.parse("warmup=0", null, work).warmupCalls());
        ConfigException e = assertThrows(ConfigException.class, () -> AgentConfig.parse("warmup=-5", null, work));
        assertTrue(e.getMessage().contains("'warmup'"), e.getMessage());
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
        assertEquals(ValuePath.Root.SCOPE, p.layer().root());
        assertEquals(ValuePath.Scope.LAYER, p.layer().scope());
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
        assertMessage("pointcut.layer=enclosing.idx", "'pointcut.layer'", "scope.layer=Class#method");
        assertMessage("pointcut.k=step.arg1", "'pointcut.k'", "scope.step=Class#method");
        assertMessage("profile=vllm", "'profile'", "'vllm'", "moe-host, jlama-mixtral, or none");
        assertMessage("profile=none", "'pointcut.class'", "not set");
        assertMessage("pointcut.ids=return[ids]", "'pointcut.ids'", "[ids] only for pointcut.weights");
        assertMessage("scope.step=Model", "'scope.step'", "Class#method");
        assertMessage("pointcut.weights=layer.foo", "'pointcut.weights'", "needs .this or .argN");
        assertMessage("pointcut.class=,profile=moe-host", "'pointcut.class'", "not set");
        assertMessage("pointcut.layer-method=Block", "'pointcut.layer-method'", "Class#method");
        assertMessage("queue", "not key=value");
        assertMessage("layers=1,layers=2", "given twice");
        assertMessage("config=/does/not/exist", "'config'", "readable");
    }

    /** Issue 9: MOE_ROUTE_LOG=off or no recorded into ./off and ./no. */
    @Test
    void offAndNoSwitchRecordingOff() {
        for (String v : new String[] {"off", "OFF", " no ", "No"}) {
            assertFalse(AgentConfig.envEnables(v), v);
            assertNull(AgentConfig.envQueueDirectory(v), v);
        }
    }

    @Test
    void minFreeSpaceDefaultsTo64MbAndTakesSizes() throws Exception {
        assertEquals(64L << 20, AgentConfig.parse(null, null, work).minFreeSpace());
        assertEquals(1L << 30, AgentConfig.parse("min-free-space=1g", null, work).minFreeSpace());
        assertEquals(0, AgentConfig.parse("min-free-space=0", null, work).minFreeSpace());
        assertTrue(AgentConfig.parse(null, null, work).describe().contains(",min-free-space=67108864,"));
        assertMessage("min-free-space=much", "'min-free-space'", "'much'", "suffix");
    }

    /** Issue 9: a 100k-character option gave a 200 KB line. */
    @Test
    void hugeValuesAreCutAndQuoted() {
        String huge = "9".repeat(100_000);
        for (String args : new String[] {"layers=" + huge, "x" + huge + "=1", huge, "sample-every=1\n2" + huge}) {
            ConfigException e = assertThrows(ConfigException.class, () -> AgentConfig.parse(args, null, work));
            assertTrue(e.getMessage().length() < 1200, e.getMessage().length() + " chars");
            assertFalse(e.getMessage().contains("\n"));
        }
        ConfigException e = assertThrows(ConfigException.class, () -> AgentConfig.parse("layers=" + huge, null,
                work));
        assertTrue(e.getMessage().contains("'" + "9".repeat(80) + "'... (100000 chars)"), e.getMessage());
    }

    /** Issue 9: config=/etc/shadow printed one of its lines. */
    @Test
    void aConfigFileThatIsNoAgentConfigIsNeverEchoed() throws Exception {
        Path shadow = Files.writeString(work.resolve("shadow"),
                "root:$6$SECRETSALT$SECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
        ConfigException e = assertThrows(ConfigException.class, () -> AgentConfig.parse("config=" + shadow, null,
                work));
        assertFalse(e.getMessage().contains("SECRET"), e.getMessage());
        assertFalse(e.getMessage().contains("root") || e.getMessage().contains("daemon"), e.getMessage());
        assertTrue(e.getMessage().contains("not a moe-agent properties file"), e.getMessage());
        // a real agent config file with a typo: the key is named (never its value)
        Path mine = Files.writeString(work.resolve("agent.properties"), "layers=0-3\nlayres=SECRETVALUE\n");
        e = assertThrows(ConfigException.class, () -> AgentConfig.parse("config=" + mine, null, work));
        assertTrue(e.getMessage().contains("'layres' is not an agent option"), e.getMessage());
        assertFalse(e.getMessage().contains("SECRET"), e.getMessage());
        Path etcShadow = Path.of("/etc/shadow");
        if (Files.isReadable(etcShadow)) {
            e = assertThrows(ConfigException.class, () -> AgentConfig.parse("config=/etc/shadow", null, work));
            for (String line : Files.readAllLines(etcShadow)) {
                String user = line.split(":", 2)[0];
                if (user.length() > 3) {
                    assertFalse(e.getMessage().contains("'" + user + "'"), e.getMessage());
                }
            }
        }
    }

    @Test
    void describeRoundTrips() throws Exception {
        AgentConfig c = AgentConfig.parse("layers=1-2,weights=false,max-records=9", null, work);
        AgentConfig again = AgentConfig.parse(c.describe(), null, work);
        assertEquals(c.describe(), again.describe());
    }

    @Test
    void jlamaProfileBindsScopesGathersWeightsAndNamesMetaFacts() throws Exception {
        AgentConfig c = AgentConfig.parse("profile=jlama-mixtral", null, work);
        Pointcuts p = c.pointcuts();
        assertEquals("com.github.tjake.jlama.model.MoEBlock", p.className());
        assertEquals("topk", p.methodName());
        assertTrue(p.weights().gather());
        assertArrayEquals(new String[] {"expertResults", "b"}, p.weights().fields());
        assertEquals(ValuePath.Scope.LAYER, p.layer().scope());
        assertEquals(-1, p.layer().argumentIndex());
        assertEquals(ValuePath.Scope.STEP, p.position().scope());
        assertEquals(1, p.position().argumentIndex());
        assertEquals("com.github.tjake.jlama.model.AbstractModel#generate", p.scopes().request().toString());
        assertEquals("forward", p.scopes().step().methodName());
        assertEquals("com.github.tjake.jlama.model.TransformerBlock", p.scopes().layer().className());
        assertNull(p.step());
        assertEquals("jlama", p.meta().engine());
        assertArrayEquals(new String[] {"c", "numberOfLayers"}, p.meta().numLayers().fields());
        assertTrue(c.recordWeights());
        assertTrue(c.describe().startsWith("profile=jlama-mixtral,"), c.describe());
        assertEquals(c.describe(), AgentConfig.parse(c.describe(), null, work).describe());
        // a key given by the user wins over the profile's
        assertEquals("org.example.Gate",
                AgentConfig.parse("profile=jlama-mixtral,pointcut.class=org.example.Gate", null, work)
                        .pointcuts().className());
    }

    @Test
    void profileNoneStartsFromTheTableDefaultsOnly() throws Exception {
        AgentConfig c = AgentConfig.parse("profile=none,pointcut.class=org.example.Gate,pointcut.method=route,"
                + "pointcut.ids=return,pointcut.k=2,pointcut.layer=0", null, work);
        assertNull(c.pointcuts().weights());
        assertNull(c.pointcuts().tokens());
        assertNull(c.pointcuts().step());
        assertFalse(c.pointcuts().scopes().any());
        assertEquals(c.describe(), AgentConfig.parse(c.describe(), null, work).describe());
    }

    @Test
    void describeNeverClaimsWeightsThatThePointcutsDoNotName() throws Exception {
        AgentConfig c = AgentConfig.parse("pointcut.weights=none", null, work);
        assertFalse(c.recordWeights());
        assertTrue(c.describe().contains(",weights=false,"), c.describe());
        assertTrue(c.describe().contains("pointcut.weights=none"), c.describe());
    }

    @Test
    void pathsReadScopeArgumentsAndCallNoArgumentMethods() throws Exception {
        ValuePath p = ValuePath.parse("pointcut.weights", "this.probs.getBuffer()[ids]", false, true);
        assertTrue(p.gather());
        assertArrayEquals(new String[] {"probs", "getBuffer()"}, p.fields());
        ValuePath q = ValuePath.parse("pointcut.position", "request.arg2.start", false, false);
        assertEquals(ValuePath.Scope.REQUEST, q.scope());
        assertEquals(2, q.argumentIndex());
        assertArrayEquals(new String[] {"start"}, q.fields());
    }

    @Test
    void everyKeyIsInTheTableAndEveryProfileKeyIsAProfileKey() {
        for (String name : Profiles.names()) {
            Map<String, String> profile = Profiles.load(name);
            assertFalse(profile.isEmpty(), name);
            profile.keySet().forEach(k -> assertTrue(AgentOptions.get(k).profiled(), k));
        }
        String table = AgentOptions.markdownTable();
        for (String key : AgentConfig.KEYS) {
            assertTrue(table.contains("| `" + key + "` |"), key);
        }
        assertTrue(table.contains("`this.expertResults.b[ids]`"), table);
    }

    private void assertMessage(String args, String... parts) {
        ConfigException e = assertThrows(ConfigException.class, () -> AgentConfig.parse(args, null, work));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), e.getMessage() + " lacks " + part);
        }
        assertFalse(e.getMessage().contains("\n"), "one line");
    }
}
