package io.moeagent.analyzer.source;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.moeagent.analyzer.AnalyzerException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Token id to text, from a Hugging Face {@code tokenizer.json}: the model's vocabulary (BPE / WordPiece map, or
 * Unigram list) and the added tokens. Byte-level BPE pieces (GPT-2, Qwen, Llama 3) are mapped back to their bytes
 * and read as UTF-8; SentencePiece's {@code ▁} reads as a space. Only the vocabulary is read: this names tokens,
 * it does not tokenize (a tokenizer library would need native code, for a lookup table).
 */
public final class TokenTexts {
    private final Map<Integer, String> pieces;
    private final boolean byteLevel;
    private final Path file;

    private TokenTexts(Path file, Map<Integer, String> pieces, boolean byteLevel) {
        this.file = file;
        this.pieces = pieces;
        this.byteLevel = byteLevel;
    }

    public Path file() {
        return file;
    }

    public int size() {
        return pieces.size();
    }

    /** The tokenizer.json in {@code dir}, or null when there is none. */
    public static Path inDirectory(String dir) {
        if (dir == null || dir.isEmpty()) {
            return null;
        }
        try {
            Path p = Path.of(dir);
            Path f = Files.isDirectory(p) ? p.resolve("tokenizer.json") : null;
            return f != null && Files.isRegularFile(f) ? f : null;
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
    }

    public static TokenTexts read(Path file) {
        if (Files.isDirectory(file)) {
            file = file.resolve("tokenizer.json");
        }
        if (!Files.isRegularFile(file)) {
            throw new AnalyzerException("no tokenizer file " + file + "; pass --tokenizer PATH/tokenizer.json (the"
                    + " model's Hugging Face tokenizer) or leave it out to see token ids");
        }
        Map<Integer, String> pieces = new HashMap<>(1 << 16);
        boolean byteLevel = false;
        try (InputStream in = Files.newInputStream(file);
             JsonParser p = new JsonFactory().createParser(in)) {
            expect(p.nextToken() == JsonToken.START_OBJECT, file);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if ("added_tokens".equals(name) && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        int id = -1;
                        String content = null;
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String f = p.currentName();
                            p.nextToken();
                            if ("id".equals(f)) {
                                id = p.getIntValue();
                            } else if ("content".equals(f)) {
                                content = p.getText();
                            } else {
                                p.skipChildren();
                            }
                        }
                        if (id >= 0 && content != null) {
                            pieces.put(id, "\u0000" + content);
                        }
                    }
                } else if ("decoder".equals(name) || "pre_tokenizer".equals(name)) {
                    byteLevel |= mentionsByteLevel(p, t);
                } else if ("model".equals(name) && t == JsonToken.START_OBJECT) {
                    readModel(p, pieces);
                } else {
                    p.skipChildren();
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AnalyzerException(file + ": not a tokenizer.json (malformed JSON at line "
                    + e.getLocation().getLineNr() + ": " + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            throw new AnalyzerException(file + ": cannot read the tokenizer (" + e.getMessage() + ")", e);
        }
        if (pieces.isEmpty()) {
            throw new AnalyzerException(file + ": no vocabulary found (expected model.vocab); is it a Hugging Face"
                    + " tokenizer.json?");
        }
        return new TokenTexts(file, pieces, byteLevel);
    }

    private static boolean mentionsByteLevel(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.START_OBJECT && t != JsonToken.START_ARRAY) {
            return false;
        }
        boolean found = false;
        int depth = 1;
        while (depth > 0) {
            JsonToken x = p.nextToken();
            if (x == JsonToken.START_OBJECT || x == JsonToken.START_ARRAY) {
                depth++;
            } else if (x == JsonToken.END_OBJECT || x == JsonToken.END_ARRAY) {
                depth--;
            } else if (x == JsonToken.VALUE_STRING && "ByteLevel".equals(p.getText())) {
                found = true;
            }
        }
        return found;
    }

    private static void readModel(JsonParser p, Map<Integer, String> pieces) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            if ("vocab".equals(name) && t == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String piece = p.currentName();
                    p.nextToken();
                    pieces.putIfAbsent(p.getIntValue(), piece);
                }
            } else if ("vocab".equals(name) && t == JsonToken.START_ARRAY) {
                int id = 0;
                while (p.nextToken() == JsonToken.START_ARRAY) {
                    p.nextToken();
                    pieces.putIfAbsent(id++, p.getText());
                    p.skipChildren();
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        p.skipChildren();
                    }
                }
            } else {
                p.skipChildren();
            }
        }
    }

    private static void expect(boolean ok, Path file) {
        if (!ok) {
            throw new AnalyzerException(file + ": not a JSON object; expected a Hugging Face tokenizer.json");
        }
    }

    /** The token's text, or null for an id the vocabulary lacks. */
    public String text(int id) {
        String piece = pieces.get(id);
        if (piece == null) {
            return null;
        }
        if (piece.startsWith("\u0000")) {
            return piece.substring(1);
        }
        if (byteLevel) {
            return fromByteLevel(piece);
        }
        return piece.replace('\u2581', ' ');
    }

    private static final int[] BYTE_OF_CHAR = byteOfChar();

    /** GPT-2's bytes_to_unicode, inverted: printable bytes map to themselves, the rest to U+0100 onwards. */
    private static int[] byteOfChar() {
        int[] map = new int[512];
        java.util.Arrays.fill(map, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            if (printable) {
                map[b] = b;
            } else {
                map[256 + n++] = b;
            }
        }
        return map;
    }

    static String fromByteLevel(String piece) {
        byte[] bytes = new byte[piece.length()];
        int n = 0;
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            int b = c < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[c] : -1;
            if (b < 0) {
                return piece;
            }
            bytes[n++] = (byte) b;
        }
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        try {
            return d.decode(ByteBuffer.wrap(bytes, 0, n)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return piece;
        }
    }

    /** A token for display: its text as a quoted, escaped string, or {@code #id} without text. */
    public static String label(TokenTexts texts, int id) {
        String t = texts == null ? null : texts.text(id);
        if (t == null) {
            return "#" + id;
        }
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
