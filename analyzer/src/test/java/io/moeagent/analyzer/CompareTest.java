package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareTest {
    @TempDir
    Path tmp;

    Path run(String name, String label, double tps, String digest) throws Exception {
        return Files.writeString(tmp.resolve(name), "{\"label\":\"" + label + "\",\"new_tokens_per_s\":" + tps
                + ",\"outputs_digest\":\"" + digest + "\",\"requests\":[]}");
    }

    @Test
    void mediansRangesAndOverheadAgainstNoAgent() throws Exception {
        Path[] runs = {run("a1.json", "agent", 90, "d"), run("n1.json", "no-agent", 100, "d"),
                run("n2.json", "no-agent", 110, "d"), run("n3.json", "no-agent", 104, "d"),
                run("a2.json", "agent", 96, "d"), run("e1.json", "agent-env-unset", 104, "d")};
        Path json = tmp.resolve("cmp.json");
        String[] args = new String[runs.length + 3];
        args[0] = "compare";
        for (int i = 0; i < runs.length; i++) {
            args[i + 1] = runs[i].toString();
        }
        args[runs.length + 1] = "--json";
        args[runs.length + 2] = json.toString();
        Cli.Result r = Cli.run(args);
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("outputs: identical in all 6 runs"), r.out());
        JsonNode c = new ObjectMapper().readTree(json.toFile());
        assertEquals("no-agent", c.get("baseline").asText());
        JsonNode agent = c.get("groups").get(0);
        assertEquals("agent", agent.get("label").asText());
        assertEquals(93.0, agent.get("median_new_tokens_per_s").asDouble(), 1e-9);
        assertEquals(90.0, agent.get("min_new_tokens_per_s").asDouble(), 1e-9);
        assertEquals(96.0, agent.get("max_new_tokens_per_s").asDouble(), 1e-9);
        // (104 - 93) / 104
        assertEquals(100 * 11.0 / 104, agent.get("overhead_percent").asDouble(), 1e-9);
        assertEquals(0.0, c.get("groups").get(1).get("overhead_percent").asDouble(), 1e-9);
        assertEquals(0.0, c.get("groups").get(2).get("overhead_percent").asDouble(), 1e-9);
        assertTrue(c.get("identical_outputs").asBoolean());
    }

    @Test
    void differentDigestsFailWithExitOne() throws Exception {
        Cli.Result r = Cli.run("compare", run("a.json", "no-agent", 100, "x").toString(),
                run("b.json", "agent", 99, "y").toString());
        assertEquals(ExitCodes.CHECK_FAILED, r.code());
        assertTrue(r.out().contains("DIFFER"), r.out());
        assertTrue(r.out().contains("-1.00%") || r.out().contains("+1.00%"), r.out());
    }

    @Test
    void withoutNoAgentTheFirstLabelIsTheBaseline() throws Exception {
        Cli.Result r = Cli.run("compare", run("a.json", "fast", 200, "x").toString(),
                run("b.json", "slow", 150, "x").toString());
        assertEquals(0, r.code());
        assertTrue(r.out().contains("than the fast median"), r.out());
        assertTrue(r.out().contains("+25.00%"), r.out());
    }

    @Test
    void aFileThatIsNotARunReportIsBadInput() throws Exception {
        Path f = Files.writeString(tmp.resolve("x.json"), "{\"hello\":1}");
        Cli.Result r = Cli.run("compare", f.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("no numeric 'new_tokens_per_s'"), r.err());
    }
}
