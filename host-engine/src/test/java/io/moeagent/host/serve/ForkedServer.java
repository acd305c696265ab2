package io.moeagent.host.serve;

import io.moeagent.host.HostMain;
import io.moeagent.host.cli.CliHarness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code host serve --port 0} in a forked JVM on loopback, its stderr kept in a file for failure messages. */
final class ForkedServer implements AutoCloseable {
    final Process process;
    final int port;
    final String base;
    final Path stderr;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private ForkedServer(Process process, int port, Path stderr) {
        this.process = process;
        this.port = port;
        this.base = "http://127.0.0.1:" + port;
        this.stderr = stderr;
    }

    static ForkedServer start(String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                HostMain.class.getName(), "serve", "--model", "synthetic:tiny", "--port", "0",
                "--cache-dir", CliHarness.CACHE.toString()));
        command.addAll(List.of(options));
        Path stderr = java.nio.file.Files.createTempFile(Path.of("target"), "serve-", ".err");
        Process process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
        BufferedReader stdout = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        String line = stdout.readLine();
        if (line == null || !line.matches("listening on port \\d+")) {
            process.destroyForcibly();
            throw new IllegalStateException("the server did not start: " + line + "\n"
                    + java.nio.file.Files.readString(stderr));
        }
        return new ForkedServer(process, Integer.parseInt(line.substring(line.lastIndexOf(' ') + 1)), stderr);
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    String stderrText() {
        try {
            return java.nio.file.Files.readString(stderr);
        } catch (IOException e) {
            return "(stderr unreadable: " + e + ")";
        }
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the server did not stop on SIGTERM");
        }
        java.nio.file.Files.deleteIfExists(stderr);
    }
}
