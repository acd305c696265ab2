package io.moeagent.host.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9 item 6: slow and abusive clients against a forked {@code serve}. */
class ServerLimitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ForkedServer server;

    @BeforeAll
    static void start() throws IOException {
        server = ForkedServer.start("--idle-timeout-ms", "1500");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** Connections that never finish their headers must not stop other clients (JDK server: 4 of them did). */
    @Test
    void slowClientsDoNotBlockOthers() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                Socket socket = new Socket("127.0.0.1", server.port);
                socket.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Le"
                        .getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                slow.add(socket);
            }
            Thread.sleep(200);
            long start = System.nanoTime();
            HttpResponse<String> health = server.get("/health");
            assertEquals(200, health.statusCode());
            assertTrue(System.nanoTime() - start < 1_000_000_000L, "/health waited for the slow clients");
            HttpResponse<String> answer = server.post("/v1/completions", "{\"prompt\": \"Hi\", \"max_tokens\": 2}");
            assertEquals(200, answer.statusCode(), answer.body());
        } finally {
            for (Socket socket : slow) {
                socket.close();
            }
        }
    }

    /** A connection that goes silent mid-headers is closed after the idle timeout. */
    @Test
    void silentConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET /health HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[4096];
            while (in.read(buffer) >= 0) {
                // a 408 or nothing, then the close
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 8, "closed after " + seconds + " s");
        }
    }

    /**
     * The idle timeout is about silent connections, not slow answers: a whole answer that takes longer than the
     * timeout to compute (no byte written meanwhile) still arrives.
     */
    @Test
    void aSlowAnswerOutlastsTheIdleTimeout() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = server.post("/v1/completions", "{\"prompt\": \"Tell me a story\", \"max_tokens\": 600}");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(JSON.readTree(r.body()).get("usage").get("completion_tokens").asInt() > 0);
        org.junit.jupiter.api.Assumptions.assumeTrue(seconds > 1.5,
                "the answer took only " + seconds + " s, less than the 1.5 s idle timeout: nothing was exercised");
    }

    /** An over-size body gets a 413 JSON error (not a reset), announced by Content-Length ... */
    @Test
    void oversizeContentLengthGets413Json() throws Exception {
        String response = raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 50000000\r\n\r\n{\"prompt\": \"");
        assertTrue(response.startsWith("HTTP/1.1 413"), response);
        JsonNode error = JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4)).get("error");
        assertTrue(error.get("message").asText().contains("larger than"), response);
    }

    /** ... or found while reading a chunked body. */
    @Test
    void oversizeChunkedBodyGets413Json() throws Exception {
        StringBuilder request = new StringBuilder("POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        String chunk = "a".repeat(60_000);
        for (int i = 0; i < 80; i++) {
            request.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        request.append("0\r\n\r\n");
        String response = raw(request.toString());
        assertTrue(response.startsWith("HTTP/1.1 413"), response.substring(0, Math.min(200, response.length())));
        assertTrue(response.contains("\"error\""), response);
    }

    @Test
    void hugeMaxTokensSaysTooLarge() throws Exception {
        for (String value : new String[] {"1e9", "1000000000", "99999999999999999999"}) {
            HttpResponse<String> r = server.post("/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": " + value + "}");
            assertEquals(400, r.statusCode(), r.body());
            String message = JSON.readTree(r.body()).get("error").get("message").asText();
            assertTrue(message.contains("too large"), value + ": " + message);
        }
        HttpResponse<String> fraction = server.post("/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 2.5}");
        assertEquals(400, fraction.statusCode());
        assertTrue(fraction.body().contains("integer"), fraction.body());
    }

    /** Sends {@code request} on a fresh connection and returns what comes back until the server closes or stops. */
    private static String raw(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            Thread writer = new Thread(() -> {
                try {
                    out.write(request.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // the server may close after its answer while the body is still being sent
                }
            });
            writer.start();
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    got.write(buffer, 0, n);
                    String text = got.toString(StandardCharsets.UTF_8);
                    int head = text.indexOf("\r\n\r\n");
                    if (head >= 0 && text.contains("}}")) {
                        break;
                    }
                }
            } catch (java.net.SocketException e) {
                if (got.size() == 0) {
                    return "connection reset with no response: " + e;
                }
            }
            return got.toString(StandardCharsets.UTF_8);
        }
    }
}
