package io.moeagent.host.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The official OpenAI Node client ({@code openai} from the npm registry, version pinned in
 * {@code src/test/node/openai-client/package-lock.json}) against a forked {@code serve}: models, chat and text
 * completions whole and streamed, stop strings, concurrent streams, a 400. Needs node and npm; skipped with a message
 * when they are missing or the registry cannot be reached, but fails under {@code CI=true}.
 */
class OpenAiNodeClientTest {
    private static final Path SOURCE = Path.of("src", "test", "node", "openai-client");
    private static final Path WORK = Path.of("target", "node-openai-client");

    @Test
    void officialClientWorksAgainstServe() throws Exception {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        String missing = missingTool("node", "--version");
        if (missing == null) {
            missing = missingTool("npm", "--version");
        }
        if (missing != null) {
            if (ci) {
                fail("CI=true but " + missing + "; install Node.js 20+ with npm");
            }
            Assumptions.abort(missing + ": skipping the OpenAI Node client test (install Node.js 20+ with npm)");
        }
        Files.createDirectories(WORK);
        for (String file : List.of("package.json", "package-lock.json", "client.mjs")) {
            Files.copy(SOURCE.resolve(file), WORK.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Result install = run(List.of("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"), 300);
        if (install.code != 0) {
            if (ci) {
                fail("npm ci failed (exit " + install.code + "):\n" + install.output);
            }
            Assumptions.abort("npm ci failed (no registry?), skipping:\n" + install.output);
        }
        try (ForkedServer server = ForkedServer.start("--max-batch", "4")) {
            Result client = run(List.of("node", "client.mjs", server.base + "/v1"), 300);
            assertEquals(0, client.code, client.output + "\n--- server stderr\n" + server.stderrText());
            String[] lines = client.output.strip().split("\n");
            JsonNode seen = new ObjectMapper().readTree(lines[lines.length - 1]);
            assertTrue(seen.get("ok").asBoolean(), client.output);
            assertEquals("synthetic:tiny", seen.get("model").asText());
            assertTrue(seen.get("chatChunks").asInt() >= 3, client.output);
            assertTrue(seen.get("error").asText().contains("too large"), client.output);
        }
    }

    private record Result(int code, String output) {
    }

    private static Result run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile(Path.of("target"), "node-", ".log");
        try {
            Process p = new ProcessBuilder(command).directory(WORK.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, String.join(" ", command) + " ran past " + timeoutSeconds + " s:\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** null when {@code tool} runs, else why not. */
    private static String missingTool(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? null : command[0] + " does not run";
        } catch (IOException e) {
            return command[0] + " is not on the PATH";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return command[0] + " was interrupted";
        }
    }
}
