package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareTest {
    @TempDir
    Path tmp;

    Path run(String name, String label, double tps, String digest) throws Exception {
        return Files.writeString(tmp.resolve(name), "{\"label\":\"" + label + "\",\"new_tokens_per_s\":" + tps
                + ",\"outputs_digest\":\"" + digest + "\",\"requests\":[]}");
    }

    /** A report as the host writes it now: start time, decode steps, CPU per token, device. */
    Path run(String name, String label, long started, double stepMs, double cpuPerToken, double tps)
            throws Exception {
        StringBuilder steps = new StringBuilder();
        for (int i = 0; i < 9; i++) {
            // every step the same, so the steps add no spread of their own (OverheadStatisticsTest covers that)
            steps.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.6f", stepMs));
        }
        return Files.writeString(tmp.resolve(name), String.format(Locale.ROOT, "{\"label\":\"%s\",\"device\":\"cpu\","
                + "\"new_tokens_per_s\":%.6f,\"wall_ms\":1000,\"started_epoch_ms\":%d,\"cpu_ms_per_token\":%.6f,"
                + "\"decode_step_ms\":[%s],\"outputs_digest\":\"d\",\"requests\":[]}", label, tps, started,
                cpuPerToken, steps));
    }

    static String[] args(List<Path> runs, String... more) {
        List<String> a = new ArrayList<>();
        a.add("compare");
        runs.forEach(p -> a.add(p.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /**
     * Rounds are paired by start time, not by file order: round k's machine speed (1.0, 1.5, 0.8) cancels and the
     * agent's constant +4 % step time comes out exactly, while env-unset's rounds (+1 %, -1 %, 0 %) are noise.
     */
    @Test
    void pairsByRoundAndGivesIntervals() throws Exception {
        double[] machine = {1.0, 1.5, 0.8};
        double[] unset = {1.01, 0.99, 1.0};
        List<Path> runs = new ArrayList<>();
        for (int k = 2; k >= 0; k--) { // files given newest first
            long t0 = 1_000_000L * (k + 1);
            runs.add(run("a" + k + ".json", "agent", t0 + 10, 40 * machine[k] * 1.04, 5 * machine[k] * 1.03,
                    100 / machine[k] / 1.04));
            runs.add(run("n" + k + ".json", "no-agent", t0, 40 * machine[k], 5 * machine[k], 100 / machine[k]));
            runs.add(run("e" + k + ".json", "agent-env-unset", t0 + 20, 40 * machine[k] * unset[k],
                    5 * machine[k] * unset[k], 100 / machine[k] / unset[k]));
        }
        Path json = tmp.resolve("cmp.json");
        Cli.Result r = Cli.run(args(runs, "--json", json.toString()));
        assertEquals(0, r.code(), r.out() + r.err());
        // on a CPU the headline is CPU time per token (+3 % here), which a busy machine disturbs least
        assertTrue(r.out().contains("overhead agent (CPU/token): +3.00 % (CI +3.00 ... +3.00 %); EXCEEDS the target"
                + " < 2 % on CPU"), r.out());
        assertTrue(r.out().contains("decode step +4.00 % (CI +4.00 ... +4.00 %)"), r.out());
        assertTrue(r.out().contains("overhead agent-env-unset (CPU/token): within noise (CI "), r.out());
        assertFalse(r.out().contains("baseline"), "no bare differences of medians: " + r.out());
        JsonNode c = new ObjectMapper().readTree(json.toFile());
        assertEquals("no-agent", c.get("baseline").asText());
        assertEquals(2.0, c.get("target_percent").asDouble());
        assertEquals("cpu_ms_per_token", c.get("groups").get(0).get("headline").asText());
        JsonNode agent = c.get("groups").get(0);
        assertEquals("agent", agent.get("label").asText());
        assertEquals(3, agent.get("rounds").asInt());
        JsonNode step = agent.get("overhead").get("median_decode_step_ms");
        assertEquals(4.0, step.get("percent").asDouble(), 1e-6);
        assertFalse(step.get("within_noise").asBoolean());
        assertEquals(3.0, agent.get("overhead").get("cpu_ms_per_token").get("percent").asDouble(), 1e-6);
        assertEquals("exceeds", agent.get("overhead").get("cpu_ms_per_token").get("verdict").asText());
        assertEquals(4.0, agent.get("overhead").get("new_tokens_per_s").get("percent").asDouble(), 1e-6);
        // the group's own figures are medians over its runs
        assertEquals(40 * 1.0 * 1.04, agent.get("median_decode_step_ms").asDouble(), 1e-4);
        JsonNode unsetStep = c.get("groups").get(2).get("overhead").get("median_decode_step_ms");
        assertTrue(unsetStep.get("within_noise").asBoolean(), unsetStep.toString());
        // rounds +1, -1, 0 %: the t interval over 3 rounds reaches past 2 %, so the target is not yet decided
        assertEquals("undecided", c.get("groups").get(2).get("overhead").get("cpu_ms_per_token").get("verdict").asText());
        assertEquals(100 * Math.expm1((Math.log(1.01) + Math.log(0.99)) / 3), unsetStep.get("percent").asDouble(),
                1e-6);
        double[] rounds = new double[3];
        for (int i = 0; i < 3; i++) {
            rounds[i] = unsetStep.get("round_percents").get(i).asDouble();
        }
        assertArrayEquals(new double[] {1, -1, 0}, rounds, 1e-4, "rounds in start order");
        assertTrue(c.get("identical_outputs").asBoolean());
    }

    @Test
    void oldReportsStillCompareOnTokensPerSecond() throws Exception {
        Path[] runs = {run("a1.json", "agent", 90, "d"), run("n1.json", "no-agent", 100, "d"),
                run("n2.json", "no-agent", 110, "d"), run("a2.json", "agent", 99, "d")};
        Path json = tmp.resolve("cmp.json");
        Cli.Result r = Cli.run(args(List.of(runs), "--json", json.toString()));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("outputs: identical in all 4 runs"), r.out());
        JsonNode agent = new ObjectMapper().readTree(json.toFile()).get("groups").get(0);
        assertEquals(94.5, agent.get("median_new_tokens_per_s").asDouble(), 1e-9);
        assertEquals(90.0, agent.get("min_new_tokens_per_s").asDouble(), 1e-9);
        assertEquals(99.0, agent.get("max_new_tokens_per_s").asDouble(), 1e-9);
        // rounds in file order: 100 vs 90, 110 vs 99 -> both 1/0.9 - 1
        JsonNode tps = agent.get("overhead").get("new_tokens_per_s");
        assertEquals(100 / 0.9 - 100, tps.get("percent").asDouble(), 1e-6);
        assertEquals("new_tokens_per_s", agent.get("headline").asText());
    }

    @Test
    void differentDigestsFailWithExitOne() throws Exception {
        Cli.Result r = Cli.run("compare", run("a.json", "no-agent", 100, "x").toString(),
                run("b.json", "agent", 99, "y").toString());
        assertEquals(ExitCodes.CHECK_FAILED, r.code());
        assertTrue(r.out().contains("DIFFER"), r.out());
        assertTrue(r.out().contains("no interval from 1 round"), r.out());
    }

    @Test
    void withoutNoAgentTheFirstLabelIsTheBaseline() throws Exception {
        Cli.Result r = Cli.run("compare", run("a.json", "fast", 200, "x").toString(),
                run("b.json", "slow", 150, "x").toString());
        assertEquals(0, r.code());
        assertTrue(r.out().contains("paired with fast by round"), r.out());
        assertTrue(r.out().contains("tok/s no interval from 1 round"), r.out());
    }

    @Test
    void aFileThatIsNotARunReportIsBadInput() throws Exception {
        Path f = Files.writeString(tmp.resolve("x.json"), "{\"hello\":1}");
        Cli.Result r = Cli.run("compare", f.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("no numeric 'new_tokens_per_s'"), r.err());
    }
}
