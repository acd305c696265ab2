package io.moeagent.analyzer.analyses;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same rows as a JSONL schema-2 export (route lines with token_id, null where the step had none) give the
 * same analyses as the queue: steps are found again from the line order, request ids may be text.
 */
class JsonlAnalysesTest {
    @TempDir
    Path tmp;

    static final String META = "{\"type\":\"meta\",\"schema_version\":2,\"model_id\":\"synthetic:tiny\","
            + "\"num_layers\":2,\"num_experts\":4,\"top_k\":2,\"layers_logged\":[0,1],\"run_id\":\"123456789abcdef0\","
            + "\"host\":\"testhost\",\"expert_order\":\"best_first\"}";

    /** The rows of {@link Fixture}, one line per token and layer, record by record. */
    static String jsonl(String req7, String req9) {
        StringBuilder sb = new StringBuilder(META).append('\n');
        String[][] lines = {
            {req7, "0", "0", "prefill", "10", "0,1"}, {req7, "1", "0", "prefill", "11", "0,2"},
            {req7, "2", "0", "prefill", "10", "1,0"},
            {req7, "0", "1", "prefill", "10", "2,3"}, {req7, "1", "1", "prefill", "11", "2,1"},
            {req7, "2", "1", "prefill", "10", "3,2"},
            {req7, "3", "0", "decode", "null", "0,3"}, {req7, "3", "1", "decode", "null", "2,0"},
            {req9, "0", "0", "prefill", "10", "1,2"}, {req9, "0", "1", "prefill", "10", "3,1"}};
        for (String[] l : lines) {
            sb.append("{\"type\":\"route\",\"req_id\":").append(l[0]).append(",\"token_idx\":").append(l[1])
                    .append(",\"layer\":").append(l[2]).append(",\"phase\":\"").append(l[3]).append("\",\"token_id\":")
                    .append(l[4]).append(",\"topk_ids\":[").append(l[5]).append("],\"topk_weights\":[0.5,0.25]}\n");
        }
        return sb.toString();
    }

    JsonNode analyses(String... source) throws Exception {
        Path json = tmp.resolve("s" + System.nanoTime() + ".json");
        String[] args = new String[source.length + 5];
        args[0] = "stats";
        System.arraycopy(source, 0, args, 1, source.length);
        args[source.length + 1] = "--json";
        args[source.length + 2] = json.toString();
        args[source.length + 3] = "--min-count";
        args[source.length + 4] = "1";
        Cli.Result r = Cli.run(args);
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(Files.readString(json)).path("analyses");
    }

    @Test
    void jsonlMatchesTheQueue() throws Exception {
        Path q = tmp.resolve("q");
        Fixture.write(q);
        Path numeric = tmp.resolve("numeric.jsonl");
        Files.writeString(numeric, jsonl("7", "9"));
        Path text = tmp.resolve("text.jsonl");
        Files.writeString(text, jsonl("\"a:7\"", "\"b:9\""));
        JsonNode fromQueue = analyses("--queue", q.toString());
        assertEquals(3, fromQueue.path("expert_parallel").path("layers").get(0).path("steps").asInt());
        assertEquals(8, fromQueue.path("vocabulary").path("rows_with_token_ids").asInt());
        // layer 0 of the worked example: selections 4 3 2 1 on the diagonal, {0,1} in 2 rows, {3,1} in none
        JsonNode both = fromQueue.path("coactivation").path("layers").get(0).path("rows_both");
        assertEquals("[[4,2,1,1],[2,3,1,0],[1,1,2,0],[1,0,0,1]]", both.toString());
        assertEquals(fromQueue, analyses(numeric.toString()));
        assertEquals(fromQueue, analyses(text.toString()));
    }
}
