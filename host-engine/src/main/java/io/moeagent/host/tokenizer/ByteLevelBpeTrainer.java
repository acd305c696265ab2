package io.moeagent.host.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a small byte-level BPE vocabulary (GPT-2 style: 256 byte tokens, learned merges, then special tokens)
 * and writes it as a Hugging Face {@code tokenizer.json} that DJL's tokenizer loads. Training is deterministic:
 * the most frequent adjacent pair wins, ties broken by the pair's text, so the same corpus always gives the same
 * file.
 */
public final class ByteLevelBpeTrainer {
    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    public static final List<String> SPECIAL_TOKENS = List.of(END_OF_TEXT, IM_START, IM_END);

    /** GPT-2's pre-tokenizer split, the one the ByteLevel pre-tokenizer applies with use_regex. */
    private static final Pattern GPT2_SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private static final ObjectMapper JSON = new ObjectMapper();

    private ByteLevelBpeTrainer() {
    }

    /** The trained vocabulary: token strings in id order, and the merges in rank order. */
    public record Vocabulary(List<String> tokens, List<String[]> merges) {
        public int size() {
            return tokens.size() + SPECIAL_TOKENS.size();
        }

        public int specialId(String special) {
            int i = SPECIAL_TOKENS.indexOf(special);
            if (i < 0) {
                throw new IllegalArgumentException(special + " is not a special token");
            }
            return tokens.size() + i;
        }
    }

    /** GPT-2's reversible map from bytes to printable characters (byte b is token id b in our vocabularies). */
    public static char[] byteToUnicode() {
        char[] map = new char[256];
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            printable[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            printable[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            printable[b] = true;
        }
        int next = 0;
        for (int b = 0; b < 256; b++) {
            map[b] = printable[b] ? (char) b : (char) (256 + next++);
        }
        return map;
    }

    /** Learns at most {@code maxMerges} merges from {@code corpus}, stopping when no pair occurs twice. */
    public static Vocabulary train(List<String> corpus, int maxMerges) {
        char[] byteChars = byteToUnicode();
        Map<List<String>, Integer> words = new LinkedHashMap<>();
        for (String text : corpus) {
            Matcher m = GPT2_SPLIT.matcher(text);
            while (m.find()) {
                byte[] bytes = m.group().getBytes(StandardCharsets.UTF_8);
                List<String> symbols = new ArrayList<>(bytes.length);
                for (byte b : bytes) {
                    symbols.add(String.valueOf(byteChars[b & 0xFF]));
                }
                words.merge(symbols, 1, Integer::sum);
            }
        }
        List<String> tokens = new ArrayList<>(256 + maxMerges);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(byteChars[b]));
        }
        java.util.Set<String> known = new java.util.HashSet<>(tokens);
        List<String[]> merges = new ArrayList<>();
        List<List<String>> wordList = new ArrayList<>(words.keySet());
        List<Integer> counts = new ArrayList<>(words.values());
        for (int step = 0; step < maxMerges; step++) {
            Map<String, Integer> pairCounts = new HashMap<>();
            Map<String, String[]> pairs = new HashMap<>();
            for (int w = 0; w < wordList.size(); w++) {
                List<String> word = wordList.get(w);
                for (int i = 0; i + 1 < word.size(); i++) {
                    String key = word.get(i) + " " + word.get(i + 1);
                    pairCounts.merge(key, counts.get(w), Integer::sum);
                    pairs.putIfAbsent(key, new String[] {word.get(i), word.get(i + 1)});
                }
            }
            String best = null;
            int bestCount = 1;
            for (Map.Entry<String, Integer> e : pairCounts.entrySet()) {
                int c = e.getValue();
                if (c > bestCount || (c == bestCount && best != null && c > 1 && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best == null) {
                break;
            }
            String[] pair = pairs.get(best);
            String merged = pair[0] + pair[1];
            merges.add(pair);
            if (known.add(merged)) {
                tokens.add(merged); // two pairs can spell the same token; it keeps its first id
            }
            for (int w = 0; w < wordList.size(); w++) {
                wordList.set(w, applyMerge(wordList.get(w), pair[0], pair[1], merged));
            }
        }
        return new Vocabulary(List.copyOf(tokens), List.copyOf(merges));
    }

    private static List<String> applyMerge(List<String> word, String left, String right, String merged) {
        List<String> out = null;
        for (int i = 0; i < word.size(); i++) {
            if (i + 1 < word.size() && word.get(i).equals(left) && word.get(i + 1).equals(right)) {
                if (out == null) {
                    out = new ArrayList<>(word.subList(0, i));
                }
                out.add(merged);
                i++;
            } else if (out != null) {
                out.add(word.get(i));
            }
        }
        return out == null ? word : out;
    }

    /** The Hugging Face {@code tokenizer.json} text for {@code vocabulary}. */
    public static String tokenizerJson(Vocabulary vocabulary) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String special : SPECIAL_TOKENS) {
            ObjectNode t = added.addObject();
            t.put("id", vocabulary.specialId(special));
            t.put("content", special);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(JSON.createObjectNode(), true));
        root.set("post_processor", byteLevel(JSON.createObjectNode(), false));
        root.set("decoder", byteLevel(JSON.createObjectNode(), true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        List<String> tokens = vocabulary.tokens();
        for (int id = 0; id < tokens.size(); id++) {
            vocab.put(tokens.get(id), id);
        }
        ArrayNode merges = model.putArray("merges");
        for (String[] m : vocabulary.merges()) {
            merges.addArray().add(m[0]).add(m[1]);
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode byteLevel(ObjectNode node, boolean trimOffsets) {
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", false);
        node.put("trim_offsets", trimOffsets);
        node.put("use_regex", true);
        return node;
    }
}
