package io.moeagent.host.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.host.cli.CliHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trained gsm8k-tiny checkpoint shipped in the jar: size, unpacking, and deterministic generation. */
class BundledCheckpointsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Greedy ids for the two prompts below, 12 new tokens each, recorded from the shipped checkpoint (CPU, float32):
     * "Jilla has a total of 2*2=<<2" and "The total number of students in the first day is 3 *".
     * Retraining the model changes them; record them again from {@code host.jar run --report}.
     */
    static final long[][] GOLDEN = {
        {74, 361, 97, 354, 258, 345, 279, 294, 42, 50, 413, 50},
        {318, 345, 390, 279, 614, 310, 263, 551, 394, 322, 313, 411},
    };

    @TempDir
    Path dir;

    @Test
    void shippedFilesFitInEightMegabytesAndMatchTheirManifest() throws Exception {
        long total = 0;
        for (String file : BundledCheckpoints.FILES) {
            try (InputStream in = BundledCheckpoints.class.getResourceAsStream(
                    BundledCheckpoints.RESOURCE_ROOT + BundledCheckpoints.GSM8K_TINY + "/" + file)) {
                assertNotNull(in, file);
                total += in.readAllBytes().length;
            }
        }
        assertTrue(total <= 8_000_000, "the shipped checkpoint takes " + total + " bytes");
        try (InputStream in = BundledCheckpoints.class.getResourceAsStream(
                BundledCheckpoints.RESOURCE_ROOT + BundledCheckpoints.GSM8K_TINY + "/" + BundledCheckpoints.MANIFEST)) {
            JsonNode training = JSON.readTree(in).get("training");
            assertTrue(training.get("held_out_loss").asDouble() < training.get("unigram_loss").asDouble() - 1.0,
                    training.toString());
        }
    }

    @Test
    void unpacksOnFirstUseAndReplacesADamagedCopy() throws Exception {
        Path first = BundledCheckpoints.ensure(BundledCheckpoints.GSM8K_TINY, dir);
        assertEquals(dir.resolve("gsm8k-tiny"), first);
        for (String f : BundledCheckpoints.FILES) {
            assertTrue(Files.isRegularFile(first.resolve(f)), f);
        }
        byte[] weights = Files.readAllBytes(first.resolve("model.safetensors"));
        Files.writeString(first.resolve(BundledCheckpoints.MANIFEST), "{}"); // a stale or damaged copy
        Files.write(first.resolve("model.safetensors"), new byte[] {1, 2, 3});
        Path again = BundledCheckpoints.ensure(BundledCheckpoints.GSM8K_TINY, dir);
        assertArrayEquals(weights, Files.readAllBytes(again.resolve("model.safetensors")));
        try (var listing = Files.list(dir)) {
            assertEquals(List.of("gsm8k-tiny"), listing.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void defaultModelGeneratesTheGoldenTokens() throws Exception {
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "Natalia sold clips to 48 of her friends in April, and then she sold half as many"
                + " clips in May. How many clips did Natalia sell altogether in April and May?\n"
                + "A baker makes 24 muffins and sells 3 boxes of 6. How many muffins are left?\n");
        for (int round = 0; round < 2; round++) {
            Path report = dir.resolve("r" + round + ".json");
            CliHarness run = CliHarness.run("run", "--cache-dir", dir.resolve("cache").toString(), "--prompts",
                    prompts.toString(), "--max-new-tokens", "12", "--device", "cpu", "--quiet",
                    "--report", report.toString());
            assertEquals(0, run.exitCode, run.toString());
            JsonNode r = JSON.readTree(report.toFile());
            assertEquals("gsm8k-tiny", r.get("model_id").asText());
            for (int i = 0; i < GOLDEN.length; i++) {
                JsonNode ids = r.get("requests").get(i).get("generated_ids");
                long[] got = new long[ids.size()];
                for (int j = 0; j < got.length; j++) {
                    got[j] = ids.get(j).asLong();
                }
                assertArrayEquals(GOLDEN[i], got, "prompt " + i + ": " + ids);
            }
        }
    }
}
