package io.moeagent.host.prompts;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PromptsTest {
    static final Path GSM8K = Path.of("../../shared/data/gsm8k/test.jsonl");

    @TempDir
    Path dir;

    @Test
    void builtInProblemsAreTwentyFiveDistinctQuestionsOfVaryingLength() {
        List<String> all = Prompts.builtIn();
        assertEquals(25, all.size());
        assertEquals(25, new HashSet<>(all).size());
        int shortest = all.stream().mapToInt(String::length).min().orElseThrow();
        int longest = all.stream().mapToInt(String::length).max().orElseThrow();
        assertTrue(shortest < 80 && longest > 300, shortest + ".." + longest);
        all.forEach(p -> assertTrue(p.endsWith("?"), p));
        assertEquals(all, Prompts.load(null, 25));
        assertEquals(all.subList(0, 3), Prompts.load(null, 3));
        assertEquals(all, Prompts.load(null, 1000));
    }

    @Test
    void gsm8kQuestionsInFileOrder() throws Exception {
        assumeTrue(Files.isRegularFile(GSM8K), "GSM8K not found at " + GSM8K.toAbsolutePath() + "; skipping");
        ObjectMapper json = new ObjectMapper();
        List<String> expected = new ArrayList<>();
        for (String line : Files.readAllLines(GSM8K).subList(0, 25)) {
            expected.add(json.readTree(line).get("question").asText());
        }
        List<String> prompts = Prompts.load(GSM8K, 25);
        assertEquals(expected, prompts);
        assertTrue(prompts.get(0).startsWith("Janet"), prompts.get(0));
        assertEquals(1319, Prompts.load(GSM8K, 5000).size());
    }

    @Test
    void plainTextOnePromptPerLine() throws Exception {
        Path file = dir.resolve("prompts.txt");
        Files.writeString(file, "What is 2 + 2?\n\n  How many legs do 3 spiders have?  \nLast one\n");
        assertEquals(List.of("What is 2 + 2?", "How many legs do 3 spiders have?", "Last one"),
                Prompts.load(file, 10));
        assertEquals(List.of("What is 2 + 2?"), Prompts.load(file, 1));
    }

    @Test
    void jsonlDetectedByContentToo() throws Exception {
        Path file = dir.resolve("questions.data");
        Files.writeString(file, "{\"question\": \"Q1?\", \"answer\": \"#### 1\"}\n{\"question\": \"Q2?\"}\n");
        assertEquals(List.of("Q1?", "Q2?"), Prompts.load(file, 5));
    }

    @Test
    void badJsonLineIsNamed() throws Exception {
        Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, "{\"question\": \"ok?\"}\n\n{\"question\": \"broken\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Prompts.load(file, 5));
        assertTrue(e.getMessage().contains(file + " line 3"), e.getMessage());
    }

    @Test
    void lineWithoutQuestionIsNamed() throws Exception {
        Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, "{\"question\": \"ok?\"}\n{\"prompt\": \"no\"}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Prompts.load(file, 5));
        assertTrue(e.getMessage().contains(file + " line 2") && e.getMessage().contains("question"),
                e.getMessage());
    }

    @Test
    void missingEmptyAndNonUtf8Files() throws Exception {
        Path missing = dir.resolve("nope.txt");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Prompts.load(missing, 5));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("does not exist"));
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "\n  \n");
        e = assertThrows(IllegalArgumentException.class, () -> Prompts.load(empty, 5));
        assertTrue(e.getMessage().contains("no prompts"), e.getMessage());
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'o', 'k', '\n', 'c', 'a', 'f', (byte) 0xE9, '\n'});
        e = assertThrows(IllegalArgumentException.class, () -> Prompts.load(latin1, 5));
        assertTrue(e.getMessage().contains(latin1 + " line 2") && e.getMessage().contains("UTF-8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Prompts.load(null, 0));
    }
}
