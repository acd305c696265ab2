package io.moeagent.host.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.host.tokenizer.ByteLevelBpeTrainer;
import io.moeagent.host.tokenizer.HfTextTokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * GSM8K problems as training text: each problem is one ChatML conversation (the host's system prompt, the question
 * as the user turn, the worked solution as the assistant turn), exactly the prompt format the host generates from.
 */
public final class Gsm8kCorpus {
    public static final String TRAIN_FILE = "train.jsonl";
    public static final String TEST_FILE = "test.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One problem. */
    public record Problem(String question, String answer) {
    }

    private Gsm8kCorpus() {
    }

    /** The first {@code limit} problems of a GSM8K JSONL file (all when limit is 0). */
    public static List<Problem> read(Path file, int limit) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("GSM8K file " + file + " does not exist; point --data at the folder"
                    + " holding train.jsonl and test.jsonl");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        List<Problem> problems = new ArrayList<>();
        for (int i = 0; i < lines.size() && (limit == 0 || problems.size() < limit); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(lines.get(i));
            } catch (IOException e) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": not valid JSON");
            }
            JsonNode q = node.get("question");
            JsonNode a = node.get("answer");
            if (q == null || a == null || !q.isTextual() || !a.isTextual()) {
                throw new IllegalArgumentException(file + " line " + (i + 1)
                        + ": expected {\"question\": ..., \"answer\": ...} (GSM8K JSONL)");
            }
            problems.add(new Problem(q.asText(), a.asText()));
        }
        if (problems.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no problems");
        }
        return problems;
    }

    /** The fixed system turn every conversation starts with (the host's chat prompt). */
    public static String systemTurn() {
        return ByteLevelBpeTrainer.IM_START + "system\n" + HfTextTokenizer.SYSTEM_PROMPT + ByteLevelBpeTrainer.IM_END
                + "\n";
    }

    /** The whole conversation: system turn, user turn, assistant turn, each closed by im_end and a newline. */
    public static String conversation(Problem p) {
        return systemTurn()
                + ByteLevelBpeTrainer.IM_START + "user\n" + p.question() + ByteLevelBpeTrainer.IM_END + "\n"
                + ByteLevelBpeTrainer.IM_START + "assistant\n" + p.answer() + ByteLevelBpeTrainer.IM_END + "\n";
    }

    /** The tokenizer's training text: the conversations, split at the special tokens (they are added, not learned). */
    public static List<String> tokenizerCorpus(List<Problem> problems) {
        List<String> texts = new ArrayList<>();
        for (Problem p : problems) {
            for (String piece : conversation(p).split("<\\|im_start\\|>|<\\|im_end\\|>")) {
                if (!piece.isEmpty()) {
                    texts.add(piece);
                }
            }
        }
        return texts;
    }
}
