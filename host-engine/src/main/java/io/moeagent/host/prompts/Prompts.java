package io.moeagent.host.prompts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.ByteBuffer;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The prompts a run feeds the model: GSM8K-style JSONL (one object per line with a {@code question}), a plain text
 * file (one prompt per non-blank line), or, without a file, {@link #builtIn()}.
 */
public final class Prompts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Prompts() {
    }

    /**
     * The first {@code limit} prompts of {@code fileOrNull} in file order, or of the built-in set when it is null.
     * A {@code .jsonl} file (or one whose first non-blank line starts with '{') is read as JSONL.
     *
     * @throws IllegalArgumentException naming the file and line when the file cannot be used
     */
    public static List<String> load(Path fileOrNull, int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("--limit must be positive, is " + limit);
        }
        if (fileOrNull == null) {
            List<String> all = builtIn();
            return List.copyOf(all.subList(0, Math.min(limit, all.size())));
        }
        List<String> lines = readLines(fileOrNull);
        boolean jsonl = fileOrNull.getFileName().toString().endsWith(".jsonl")
                || lines.stream().filter(l -> !l.isBlank()).findFirst().map(l -> l.strip().startsWith("{"))
                .orElse(false);
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < lines.size() && prompts.size() < limit; i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            prompts.add(jsonl ? question(fileOrNull, i + 1, line) : line.strip());
        }
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException(fileOrNull + " holds no prompts; give one prompt per line, or GSM8K"
                    + " JSONL lines with a \"question\" field");
        }
        return List.copyOf(prompts);
    }

    private static String question(Path file, int lineNumber, String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + " line " + lineNumber + ": not valid JSON ("
                    + e.getOriginalMessage() + "); expected one {\"question\": ...} object per line");
        }
        JsonNode q = node == null ? null : node.get("question");
        if (q == null || !q.isTextual() || q.asText().isBlank()) {
            throw new IllegalArgumentException(file + " line " + lineNumber
                    + ": no non-empty \"question\" string; expected GSM8K JSONL ({\"question\": ..., \"answer\": ...})");
        }
        return q.asText();
    }

    /** Lines decoded one by one, so that a byte sequence that is not UTF-8 is reported with its line number. */
    private static List<String> readLines(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("prompts file " + file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read prompts file " + file + ": " + e.getMessage());
        }
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> lines = new ArrayList<>();
        int start = 0;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            int stop = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            try {
                lines.add(decoder.decode(ByteBuffer.wrap(bytes, start, stop - start)).toString());
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException(file + " line " + (lines.size() + 1)
                        + ": not UTF-8 text; save the prompts file as UTF-8");
            }
            start = end + 1;
        }
        return lines;
    }

    /** 25 grade-school word problems written for this project, short to long. */
    public static List<String> builtIn() {
        return BUILT_IN;
    }

    private static final List<String> BUILT_IN = List.of(
            "Omar has 7 marbles and buys 5 more. How many marbles does he have now?",
            "A bakery sells muffins for $3 each. How much do 9 muffins cost?",
            "Lena reads 12 pages every evening. How many pages does she read in two weeks?",
            "A parking lot has 6 rows with 14 cars in each row. If 19 cars leave, how many cars are still parked?",
            "Priya cuts a 3-meter ribbon into pieces that are 25 centimeters long. How many pieces does she get?",
            "A school bus holds 48 students. How many buses are needed to take 210 students on a field trip?",
            "Tomas earns $15 an hour mowing lawns. Last week he worked 3 hours on Monday and 5 hours on Saturday."
                    + " How much did he earn last week?",
            "A farmer collects 36 eggs each morning and packs them into cartons of 12. After 5 mornings, how many"
                    + " cartons has he filled?",
            "Mia's water bottle holds 750 milliliters. She drinks 4 full bottles a day. How many liters of water"
                    + " does she drink in a week?",
            "A train leaves at 9:40 and the trip takes 2 hours and 35 minutes. At what time does the train arrive?",
            "Jonah had $80. He spent a quarter of it on a book and then $12 on lunch. How much money does he have"
                    + " left?",
            "A rectangular garden is 18 feet long and 11 feet wide. Fencing costs $4 per foot. How much does it cost"
                    + " to fence the whole garden?",
            "The library had 1,250 books. It gave away 175 old books and received a donation of 320 new ones. How"
                    + " many books does the library have now?",
            "Each box of crayons has 24 crayons. A teacher buys 7 boxes and shares the crayons equally among 28"
                    + " students. How many crayons does each student get?",
            "Sofia runs 2.5 kilometers on weekdays and 6 kilometers on each weekend day. How many kilometers does she"
                    + " run in 3 weeks?",
            "A pizza is cut into 8 slices. Ava eats 3 slices, her brother eats 2, and their dad eats half of what"
                    + " is left. How many slices remain?",
            "A shop sells pens in packs of 6 for $4 and single pens for $0.80 each. What is the cheapest way to buy"
                    + " 15 pens, and how much does it cost?",
            "Carlos is 4 years older than his sister. In 6 years the sum of their ages will be 40. How old is Carlos"
                    + " now?",
            "A tank holds 500 liters and is one fifth full. A hose adds 30 liters every minute. How many minutes"
                    + " will it take to fill the tank completely?",
            "A cinema sold 320 tickets on Friday. On Saturday it sold 25% more tickets than on Friday, and on Sunday"
                    + " it sold 60 fewer than on Saturday. How many tickets did it sell over the three days?",
            "Nadia makes bracelets to sell at a craft fair. Each bracelet uses 18 beads, and beads come in bags of"
                    + " 250 that cost $7 per bag. She wants to make 40 bracelets. How many bags must she buy, and"
                    + " how many beads will be left over?",
            "A delivery van makes 14 stops each day. At every stop the driver spends 6 minutes unloading, and"
                    + " driving between stops takes 11 minutes on average. If the van starts its first stop at 8:00"
                    + " in the morning, how many hours and minutes does a full day of stops take, counting from the"
                    + " first stop to the end of the last one?",
            "Grandma is baking cookies for a family reunion. One batch needs 2 cups of flour and makes 30 cookies."
                    + " There will be 45 people, and she wants each person to get 4 cookies. A bag of flour holds"
                    + " 10 cups. How many batches must she bake, and how many bags of flour does she need?",
            "A soccer club has 3 teams. The first team has 16 players, the second has 3 more than the first, and"
                    + " the third has twice as many as the first minus 9. Each player needs a new jersey that costs"
                    + " $21, and the club gets a discount of $2 per jersey when it orders more than 40. How much does"
                    + " the club pay for all the jerseys?",
            "Eli saves money for a bicycle that costs $360. He already has $95. Every week he earns $20 walking"
                    + " dogs and $12 helping at his aunt's store, but he spends $7 a week on snacks. His parents"
                    + " promise to add $50 once he has saved half of the price. How many weeks will it take Eli to"
                    + " have enough money for the bicycle?");
}
