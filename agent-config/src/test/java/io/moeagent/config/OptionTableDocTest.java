package io.moeagent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's option table is generated from {@link AgentOptions}: every document in the repository that holds
 * the table between the markers must hold exactly the generated text. To regenerate, paste the expected text that
 * a failure prints (or run {@code AgentOptions.markdownTable()}).
 */
class OptionTableDocTest {
    static final String BEGIN = "<!-- option-table:begin (generated from AgentOptions; OptionTableDocTest compares) -->";
    static final String END = "<!-- option-table:end -->";

    @Test
    void documentedTableIsTheGeneratedOne() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        List<Path> docs = new ArrayList<>();
        for (Path candidate : List.of(root.resolve("README.md"), root.resolve("docs/readme/issue-10.md"))) {
            if (Files.isRegularFile(candidate) && Files.readString(candidate).contains(BEGIN)) {
                docs.add(candidate);
            }
        }
        assertFalse(docs.isEmpty(), "no document under " + root + " holds the option table markers");
        String expected = AgentOptions.markdownTable();
        for (Path doc : docs) {
            String text = Files.readString(doc);
            int from = text.indexOf(BEGIN) + BEGIN.length();
            int to = text.indexOf(END, from);
            assertEquals(expected, text.substring(from, to).strip() + "\n", doc + ": the option table is stale;"
                    + " replace it with the text expected here");
        }
    }
}
